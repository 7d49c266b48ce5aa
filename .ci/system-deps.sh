#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if any is missing: a real MQTT broker,
# fonts with Arabic glyphs, FriBiDi for Pillow's raqm layout, systemd-analyze, and espeak-ng
# (its Arabic voice) for the speech plugin.
set -euo pipefail
packages=(mosquitto mosquitto-clients fonts-noto-core fonts-dejavu-core libfribidi0 systemd procps openssl espeak-ng)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
