#!/usr/bin/env bash
# Follow docs/raspberry-pi.md step by step in a clean Debian Bookworm root (debootstrap + chroot),
# as far as it goes without Pi hardware: every ```sh block of the page runs, in order, as a
# sudo-capable user "pi" in ~/edge-arasl (a copy of this checkout), except the blocks marked
# `<!-- pi-install-check: skip (...) -->` (camera, booted system). At the page's
# `<!-- pi-install-check: checkpoint NAME -->` markers this script checks the result itself.
#
# Usage (as root): .ci/pi-install-check.sh
#   ARCH=amd64 (default: this machine's) or arm64: arm64 runs the same steps under qemu-user
#     emulation, like a Pi's 64-bit userland (needs qemu-user-static and binfmt-support; slow,
#     optional, not run in CI; timings under emulation mean nothing).
#   MIRROR=URL   Debian mirror (default: the first one in this machine's apt sources).
#   ROOT=DIR     where to build the root (default: a new directory under /var/tmp); KEEP=1
#                keeps it afterwards (a second run with the same ROOT reuses the base system).
#
# What stands in for the Pi, and why (each is printed as it is set up):
# - Debian has no python3-picamera2 (only Raspberry Pi OS has it, with libcamera). The apt step
#   installs the Debian packages it depends on instead (python3-numpy 1.24, python3-pil, ...),
#   and a stand-in picamera2 (package metadata 0.3.27, so pip sees the `pi` extra satisfied)
#   that fails to import with "No module named 'libcamera'", as picamera2 does off a Pi.
# - No systemd runs in a chroot: `systemctl` enables and disables units for real (offline),
#   and reports and skips what needs a running systemd (--now, start, restart, status).
# - pip inside trusts the CA certificates this machine trusts (a proxy's CA, if any).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
PAGE=docs/raspberry-pi.md
log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "pi-install-check: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts): sudo $0"
HOST_ARCH=$(dpkg --print-architecture)
ARCH=${ARCH:-$HOST_ARCH}
# How long the daemon runs on the demo video at the "installed" checkpoint (emulation is slow).
RUN_SECONDS=${RUN_SECONDS:-$([ "$ARCH" = "$HOST_ARCH" ] && echo 8 || echo 90)}
if [ -z "${MIRROR:-}" ]; then
    MIRROR=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | cut -d: -f2-
                grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; } |
              tr -s ' \t' '\n' | grep -E '^https?://' | grep -v security | head -1 || true)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

[ "$ARCH" = "$HOST_ARCH" ] || [ "$ARCH" = arm64 ] || die "ARCH=$ARCH: only $HOST_ARCH or arm64"
need=(debootstrap)
[ "$ARCH" = "$HOST_ARCH" ] || need+=(qemu-user-static binfmt-support)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing on this machine: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$ARCH" != "$HOST_ARCH" ]; then
    # The kernel runs ARM binaries through qemu; the F flag makes that work inside a chroot.
    [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable qemu-aarch64 2>/dev/null || true
    grep -qs '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
        die "no qemu-aarch64 binfmt handler with the F flag: cannot run $ARCH binaries"
fi

ROOT=${ROOT:-$(mktemp -d /var/tmp/pi-install-check.XXXXXX)}
mkdir -p "$ROOT"
ROOT=$(realpath "$ROOT")
[ "$ROOT" != / ] || die "ROOT=/ ?"
chmod 0755 "$ROOT"  # mktemp makes it 0700: the chroot's / must be open to its users
WORK=$(mktemp -d)
# Unmounted in this order (what is mounted inside another first).
MOUNTS=(proc/cpuinfo proc sys dev/null dev/zero dev/full dev/random dev/urandom dev/tty dev)
is_mounted() { grep -q " $1 " /proc/self/mounts; }

cleanup() {
    local m
    for m in "${MOUNTS[@]}"; do
        if is_mounted "$ROOT/$m"; then umount "$ROOT/$m" || umount -l "$ROOT/$m"; fi
    done
    rm -rf "$WORK"
    if [ "${KEEP:-0}" = 1 ]; then
        echo "pi-install-check: kept $ROOT"
    elif grep -q " $ROOT/" /proc/self/mounts; then
        echo "pi-install-check: something is still mounted under $ROOT: not deleting it" >&2
    else
        rm -rf "$ROOT"
    fi
}
trap cleanup EXIT

# --- 1. A clean Debian Bookworm: the base of Raspberry Pi OS --------------------------------
if [ ! -x "$ROOT/usr/bin/python3" ]; then
    log "debootstrap bookworm ($ARCH) from $MIRROR into $ROOT"
    # Raspberry Pi OS has these from the start; the page's own apt step installs the rest.
    debootstrap --arch="$ARCH" --variant=minbase \
        --include=ca-certificates,sudo,systemd,procps,python3,curl bookworm "$ROOT" "$MIRROR" \
        >"$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log"; die "debootstrap failed"; }
fi

log "mounting /proc, /sys and a minimal /dev"
mount -t proc proc "$ROOT/proc"
mount -t sysfs -o ro sysfs "$ROOT/sys"
mount -t tmpfs -o mode=0755,size=1m dev "$ROOT/dev"
for n in null zero full random urandom tty; do
    touch "$ROOT/dev/$n"
    mount --bind "/dev/$n" "$ROOT/dev/$n"
done
QEMU_ENV=()
if [ "$ARCH" != "$HOST_ARCH" ]; then
    # qemu-user passes this machine's /proc/cpuinfo through, and XNNPACK (in LiteRT) crashes
    # parsing an x86 cpuinfo in an ARM process: show it a Raspberry Pi 4's (Cortex-A72).
    log "emulating a Cortex-A72 (Raspberry Pi 4) with qemu-user"
    for i in $(seq 0 $(($(nproc) - 1))); do
        printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n' "$i"
        printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n'
    done >"$ROOT/etc/cpuinfo.pi4"
    mount --bind "$ROOT/etc/cpuinfo.pi4" "$ROOT/proc/cpuinfo"
    QEMU_ENV=(QEMU_CPU=cortex-a72)
fi

log "stand-ins for the Pi (see the header of $0)"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
[ -s "$ROOT/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost\n' >"$ROOT/etc/hosts"
grep -q " $(uname -n)\$" "$ROOT/etc/hosts" || echo "127.0.1.1 $(uname -n)" >>"$ROOT/etc/hosts"
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    echo "- this machine's extra CA certificates, trusted by pip too"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    chroot "$ROOT" update-ca-certificates >/dev/null 2>&1
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$ROOT/etc/pip.conf"
fi
echo "- user pi with passwordless sudo, as Raspberry Pi OS's first user"
chroot "$ROOT" id pi >/dev/null 2>&1 || chroot "$ROOT" useradd -m -s /bin/bash -G video pi
echo 'pi ALL=(ALL) NOPASSWD: ALL' >"$ROOT/etc/sudoers.d/010_pi-nopasswd"
chmod 0440 "$ROOT/etc/sudoers.d/010_pi-nopasswd"
echo "- picamera2 stand-in (imports fail with No module named 'libcamera', as off a Pi)"
dist="$ROOT/usr/lib/python3/dist-packages"
mkdir -p "$dist/picamera2" "$dist/picamera2-0.3.27.dist-info"
echo "raise ImportError(\"No module named 'libcamera'\", name='libcamera')" >"$dist/picamera2/__init__.py"
printf 'Metadata-Version: 2.1\nName: picamera2\nVersion: 0.3.27\n' >"$dist/picamera2-0.3.27.dist-info/METADATA"
echo debian >"$dist/picamera2-0.3.27.dist-info/INSTALLER"
: >"$dist/picamera2-0.3.27.dist-info/RECORD"
STEP_USER=pi
if [ "$ARCH" != "$HOST_ARCH" ]; then
    # Under qemu-user a setuid program (sudo) cannot gain root. So there the steps run as root,
    # as if pi had run them through sudo, and `sudo [-u USER] CMD` just runs CMD (as USER).
    echo "- emulation: steps run as root, with a pass-through sudo (setuid needs real hardware)"
    STEP_USER=root
    cat >"$ROOT/usr/local/bin/sudo" <<'EOF2'
#!/bin/bash
user=""
while [ $# -gt 0 ]; do
    case "$1" in
    -u) user=$2; shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
    esac
done
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin  # sudo's secure_path
if [ -n "$user" ]; then exec runuser -u "$user" -- "$@"; else exec "$@"; fi
EOF2
    chmod 0755 "$ROOT/usr/local/bin/sudo"
fi
echo "- systemctl: offline (enable/disable), and what needs a running systemd is skipped"
cat >"$ROOT/usr/local/sbin/systemctl" <<'EOF'
#!/bin/bash
# pi-install-check stand-in: no systemd runs in this chroot.
args=()
for a in "$@"; do
    if [ "$a" = --now ]; then echo "systemctl: --now skipped (no running systemd here)" >&2; else args+=("$a"); fi
done
case " ${args[*]} " in
    *" start "* | *" stop "* | *" restart "* | *" reload "* | *" status "*)
        echo "systemctl ${args[*]}: skipped (no running systemd here)" >&2; exit 0 ;;
esac
SYSTEMD_OFFLINE=1 exec /usr/bin/systemctl "${args[@]}"
EOF
chmod 0755 "$ROOT/usr/local/sbin/systemctl"
echo "- this checkout (tracked and untracked, not ignored, files) in ~pi/edge-arasl"
rm -rf "$ROOT/home/pi/edge-arasl"
mkdir -p "$ROOT/home/pi/edge-arasl"
git -C "$SRC" ls-files -z --cached --others --exclude-standard |
    (cd "$SRC" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
    tar -C "$SRC" --null -T - -cf - | tar -C "$ROOT/home/pi/edge-arasl" -xf -
chroot "$ROOT" chown -R pi:pi /home/pi/edge-arasl

# as_pi CMD: run a bash command as pi in ~/edge-arasl, with a login-like clean environment.
as_pi() {
    chroot "$ROOT" /usr/sbin/runuser -u "$STEP_USER" -- /usr/bin/env -i HOME=/home/pi USER=pi LOGNAME=pi \
        SHELL=/bin/bash LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin "${QEMU_ENV[@]}" \
        /bin/bash -c "cd ~/edge-arasl && $1"
}
# in_root CMD: run a command as root in the chroot.
in_root() {
    chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${QEMU_ENV[@]}" \
        /bin/bash -c "$1"
}

# --- 2. Checks the script makes at the page's checkpoints ------------------------------------
checkpoint_installed() {
    log "checkpoint: installed"
    echo "- numpy in the venv is apt's 1.24, not a numpy 2 from pip"
    as_pi "/opt/edge-arasl/venv/bin/python -c 'import numpy as n; assert n.__version__.startswith(\"1.24\") and n.__file__.startswith(\"/usr/lib/python3/dist-packages/\"), (n.__version__, n.__file__); print(n.__version__, n.__file__)'"
    echo "- the unit is enabled"
    [ -L "$ROOT/etc/systemd/system/multi-user.target.wants/edge-arasl.service" ] || die "edge-arasl.service is not enabled"
    echo "- the service user is in group video; pi is in group edge-arasl"
    in_root "id -nG edge-arasl | grep -qw video && id -nG pi | grep -qw edge-arasl"
    echo "- without the camera stack, the daemon stops with the one-line picamera2 message"
    if in_root "runuser -u edge-arasl -- edge-arasl run --config /etc/edge-arasl/config.toml" 2>"$WORK/picam.err"; then
        die "edge-arasl run with the Pi camera source succeeded without a camera?"
    fi
    cat "$WORK/picam.err"
    grep -q "edge-arasl: error: picamera2 is not available" "$WORK/picam.err" || die "unexpected error"
    grep -q Traceback "$WORK/picam.err" && die "a traceback instead of a one-line error"
    echo "- the daemon as the service would run it (its user, \$STATE_DIRECTORY), on the demo video"
    mkdir -p "$ROOT/var/lib/edge-arasl"  # what StateDirectory= does
    in_root "chown edge-arasl:edge-arasl /var/lib/edge-arasl && chmod 0755 /var/lib/edge-arasl"
    printf '[source]\nkind = "video"\npath = "/home/pi/edge-arasl/examples/demo.mp4"\nloop = true\n' \
        >"$ROOT/etc/edge-arasl/video.toml"
    printf '[metrics]\nenabled = true\n' >>"$ROOT/etc/edge-arasl/video.toml"
    in_root "chgrp edge-arasl /etc/edge-arasl/video.toml && chmod 0640 /etc/edge-arasl/video.toml"
    # ProtectHome= would hide /home from the real service; this run is only about the user.
    in_root "chmod o+x /home/pi"
    in_root "cd / && runuser -u edge-arasl -- env STATE_DIRECTORY=/var/lib/edge-arasl \
        timeout --preserve-status -s TERM $RUN_SECONDS edge-arasl run --config /etc/edge-arasl/video.toml"
    echo "- pi reads its status (group edge-arasl): stopped, exit status 3"
    local rc=0
    as_pi "edge-arasl status --state-dir /var/lib/edge-arasl" || rc=$?
    [ "$rc" = 3 ] || die "edge-arasl status exited $rc, expected 3 (not running)"
    as_pi "edge-arasl status --state-dir /var/lib/edge-arasl --json | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s[\"state\"]==\"stopped\" and s[\"frames\"]>0 and s[\"letters\"]>0, s; print(s[\"frames\"], \"frames,\", s[\"letters\"], \"letters\")'"
    echo "- processing under MemoryDenyWriteExecute's kernel equivalent (PR_SET_MDWE)"
    as_pi "python3 -c 'import ctypes,os,sys; r=ctypes.CDLL(None).prctl(65,1,0,0,0); print(\"PR_SET_MDWE not supported here (kernel older than 6.3, or qemu-user): skipped\") if r else os.execvp(\"edge-arasl\", [\"edge-arasl\",\"process\",\"examples/demo.mp4\"])'"
}

checkpoint_uninstalled() {
    log "checkpoint: uninstalled"
    local p
    for p in /opt/edge-arasl /usr/local/bin/edge-arasl /etc/systemd/system/edge-arasl.service \
        /etc/systemd/system/multi-user.target.wants/edge-arasl.service /etc/edge-arasl \
        /var/lib/edge-arasl /etc/sysusers.d/edge-arasl.conf; do
        if [ -e "$ROOT$p" ] || [ -L "$ROOT$p" ]; then die "$p is still there"; fi
    done
    in_root "! getent passwd edge-arasl && ! getent group edge-arasl" || die "user or group edge-arasl left"
    echo "nothing left"
}

# --- 3. The page, block by block ---------------------------------------------------------------
python3 - "$PAGE" "$WORK/steps" <<'EOF'
"""Split the page into numbered steps: sh blocks to run or skip, and checkpoints."""
import re, sys
from pathlib import Path

text = Path(sys.argv[1]).read_text(encoding="utf-8")
out = Path(sys.argv[2])
out.mkdir()
n = 0
skip = None
section = ""
lines = iter(text.splitlines())
for line in lines:
    if line.startswith("## "):
        section = line[3:]
    m = re.match(r"<!-- pi-install-check: (skip|checkpoint) ?(.*?) ?-->", line)
    if m and m.group(1) == "skip":
        skip = m.group(2) or "marked skip"
    elif m:
        n += 1
        (out / f"{n:03d}.checkpoint").write_text(m.group(2))
    elif line.startswith("```"):
        lang = line[3:].strip()
        body = []
        for inner in lines:
            if inner.startswith("```"):
                break
            body.append(inner)
        if lang == "sh":
            n += 1
            kind = "skip" if skip else "run"
            (out / f"{n:03d}.{kind}").write_text(f"# {section}\n# {skip or ''}\n" + "\n".join(body) + "\n")
        skip = None
if not any(out.glob("*.run")):
    sys.exit(f"{sys.argv[1]}: no sh blocks found")
EOF

# On the Pi, python3-picamera2 comes from apt; here its Debian-available dependencies do.
PICAMERA2_DEBIAN="python3-numpy python3-pil python3-prctl python3-piexif"
ran=0
skipped=0
for step in "$WORK"/steps/*; do
    name=$(basename "$step")
    case "$name" in
    *.checkpoint)
        "checkpoint_$(cat "$step")"
        ;;
    *.skip)
        log "step ${name%.*}: skipped $(sed -n 2p "$step" | sed 's/^# //'): $(sed -n 1p "$step" | sed 's/^# //')"
        sed -n '3,$p' "$step" | sed 's/^/    | /'
        skipped=$((skipped + 1))
        ;;
    *.run)
        log "step ${name%.*}: $(sed -n 1p "$step" | sed 's/^# //')"
        sed -i "s/python3-picamera2/$PICAMERA2_DEBIAN/" "$step"
        cp "$step" "$ROOT/tmp/step.sh"
        chmod 0644 "$ROOT/tmp/step.sh"
        as_pi "set -euo pipefail -x; source /tmp/step.sh" || die "step ${name%.*} of $PAGE failed"
        ran=$((ran + 1))
        ;;
    esac
done
log "pi-install-check: OK ($ARCH): $ran blocks of $PAGE run, $skipped skipped (camera or booted system)"
