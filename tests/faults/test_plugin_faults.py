"""Plugins that fail, in real ``edge-arasl`` processes on the demo video.

Third-party test plugins are installed the way pip would (modules and a dist-info with entry
points on ``PYTHONPATH``): one raises in every letter, one blocks for ever in a frame, one
never returns from ``stop()``, one's output is refused by the operating system (a file size
limit, as a full disk would), one's hook name is misspelt. In each case the pipeline and the
other plugins go on, the failure is reported, and the exit status says so.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from commands import edge_arasl, start
from mqtt_broker import Subscriber, free_port

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.mp4"

FAULTY = '''
import threading

from edge_arasl.plugin import OutputPlugin, PluginError


class Raises(OutputPlugin):
    """A bug: raises on every letter."""

    name = "raises"
    wants_frames = False

    def on_letter(self, letter):
        raise RuntimeError(f"bug on {letter.class_id}")


class Blocks(OutputPlugin):
    """Stuck for ever in its sixth frame (a network call without a timeout)."""

    name = "blocks"
    queue_size = 2

    def on_frame(self, frame):
        if frame.index == 5:
            threading.Event().wait()


class HangsAtStop(OutputPlugin):
    """Never returns from stop()."""

    name = "hangs_at_stop"
    wants_frames = False

    def stop(self):
        threading.Event().wait()


class Unreachable(OutputPlugin):
    """Its dashboard goes away at the first letter, for good."""

    name = "unreachable"
    wants_frames = False

    def on_letter(self, letter):
        raise PluginError("[unreachable] dashboard.local refused the connection")
'''

MISSPELT = """
from edge_arasl.plugin import OutputPlugin


class Misspelt(OutputPlugin):
    name = "misspelt"

    def on_leter(self, letter):
        pass
"""


@pytest.fixture
def faulty_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which the faulty plugins are installed."""
    site = tmp_path / "site"
    dist = site / "arasl_faulty-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "arasl_faulty.py").write_text(FAULTY)
    (site / "arasl_misspelt.py").write_text(MISSPELT)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: arasl-faulty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[edge_arasl.plugins]\n"
        "raises = arasl_faulty:Raises\n"
        "blocks = arasl_faulty:Blocks\n"
        "hangs_at_stop = arasl_faulty:HangsAtStop\n"
        "unreachable = arasl_faulty:Unreachable\n"
        "misspelt = arasl_misspelt:Misspelt\n"
    )
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))
    return dict(os.environ, PYTHONPATH=path)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> tuple[list[str], str]:
    """The JSON lines and the subtitles of the demo with no faulty plugin."""
    srt = tmp_path_factory.mktemp("clean") / "clean.srt"
    result = edge_arasl("process", str(DEMO), "--json", "--srt", str(srt))
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines(), srt.read_text(encoding="utf-8")


def without_seconds(lines: list[str]) -> list[dict]:
    records = [json.loads(line) for line in lines]
    records[-1].pop("seconds")  # the summary's run time
    return records


def test_raising_stuck_and_hanging_plugins_leave_the_text_and_other_outputs_whole(
    faulty_env, clean_run, tmp_path
):
    config = tmp_path / "faulty.toml"
    config.write_text(
        "[raises]\nenabled = true\n[blocks]\nenabled = true\n[hangs_at_stop]\nenabled = true\n"
    )
    srt = tmp_path / "out.srt"
    result = edge_arasl(
        "process", str(DEMO), "--config", str(config), "--json", "--srt", str(srt), env=faulty_env
    )
    assert result.returncode == 1, result.stderr
    clean_lines, clean_srt = clean_run
    assert without_seconds(result.stdout.splitlines()) == without_seconds(clean_lines)
    assert srt.read_text(encoding="utf-8") == clean_srt  # the healthy plugin lost nothing
    errors = [line for line in result.stderr.splitlines() if line.startswith("edge-arasl:")]
    assert len(errors) == 1 and errors == result.stderr.splitlines()[-1:]
    assert re.fullmatch(
        r"edge-arasl: error: output failed: "
        r"blocks: on_frame did not return within 10 s; "
        r"hangs_at_stop: did not finish within 5\.0 s; 0 item\(s\) left undelivered; "
        r"raises: \d+ error\(s\) in its hooks \(see the log\)",
        errors[0],
    )
    assert result.stderr.count("Traceback") == 1  # the bug's first error, then counts only
    assert "plugin raises failed in on_letter: bug on" in result.stderr


def test_a_disk_that_fills_fails_its_plugin_once_and_the_text_is_complete(clean_run, tmp_path):
    limit = 120  # bytes any file of the process may have: the first few subtitles

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    srt = tmp_path / "out.srt"
    result = edge_arasl("process", str(DEMO), "--json", "--srt", str(srt), preexec_fn=small_files)
    assert result.returncode == 1, result.stderr
    clean_lines, clean_srt = clean_run
    assert without_seconds(result.stdout.splitlines()) == without_seconds(clean_lines)
    written = srt.read_bytes()
    assert 0 < len(written) <= limit and clean_srt.encode().startswith(written)
    assert result.stderr.splitlines()[-1] == (
        f"edge-arasl: error: output failed: srt: on_letter: [srt] cannot write {srt}: "
        "File too large"
    )
    assert result.stderr.count("cannot write") == 2  # the failure logged once, then the exit
    assert "Traceback" not in result.stderr


def test_the_daemon_reports_a_failed_plugin_everywhere_and_keeps_going(
    faulty_env, mosquitto, tmp_path
):
    state = tmp_path / "state"
    port = free_port()
    config = tmp_path / "daemon.toml"
    config.write_text(
        f'[source]\nkind = "video"\npath = "{DEMO}"\nloop = true\n'
        f'[service]\nstate_dir = "{state}"\ndevice_id = "pi-1"\nstatus_interval = 0.2\n'
        "[unreachable]\nenabled = true\n"
        f'[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n'
        f"[metrics]\nenabled = true\nport = {port}\n"
    )
    stats = Subscriber(mosquitto, "edge-arasl/pi-1/stats")
    proc = start("run", "--config", str(config), env=faulty_env)
    try:
        failed = stats.wait_for(
            lambda ms: any(json.loads(m.payload)["plugin_failed"] for m in ms), timeout=120
        )
        report = next(
            json.loads(m.payload) for m in failed if json.loads(m.payload)["plugin_failed"]
        )
        assert report["plugin_failed"] == {
            "unreachable": "on_letter: [unreachable] dashboard.local refused the connection"
        }
        frames_then = report["frames"]
        later = stats.wait_for(
            lambda ms: json.loads(ms[-1].payload)["frames"] > frames_then + 30, timeout=60
        )
        assert json.loads(later[-1].payload)["letters"] >= report["letters"]  # still reading
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
            metrics = reply.read().decode()
        assert 'edge_arasl_plugin_failed{plugin="unreachable"} 1' in metrics
        assert 'edge_arasl_plugin_failed{plugin="mqtt"} 0' in metrics
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        stats.close()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert err.count("plugin unreachable failed") == 1
    status = json.loads((state / "status.json").read_text())
    assert status["state"] == "stopped"
    assert status["plugin_failed"] == report["plugin_failed"]


def test_a_misspelt_hook_cannot_be_loaded_and_says_why(faulty_env, tmp_path):
    listing = edge_arasl("plugins", env=faulty_env)
    assert listing.returncode == 0, listing.stderr
    assert (
        "# misspelt: cannot be loaded (arasl_misspelt:Misspelt): TypeError: "
        "arasl_misspelt.Misspelt.on_leter is not a hook (hooks: on_frame, on_letter, "
    ) in listing.stdout
    config = tmp_path / "misspelt.toml"
    config.write_text("[misspelt]\nenabled = true\n")
    result = edge_arasl("process", str(DEMO), "--config", str(config), env=faulty_env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(
        f"edge-arasl: error: {config}: [misspelt]: plugin arasl_misspelt:Misspelt cannot be "
        "loaded: TypeError: arasl_misspelt.Misspelt.on_leter is not a hook"
    )
    assert result.stdout == ""


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (SigCgt in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.parametrize(("command", "status"), [("process", 128 + signal.SIGTERM), ("run", 0)])
def test_a_sigterm_while_starting_stops_cleanly(command, status, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(
        f'[source]\nkind = "video"\npath = "{DEMO}"\nloop = true\n'
        f'[service]\nstate_dir = "{tmp_path}"\n'
    )
    args = [str(DEMO), "--json"] if command == "process" else ["--config", str(config)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_arasl", command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not _catches_sigterm(proc.pid):  # the first moment the signal can be handled
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.001)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    assert "Traceback" not in err
    if command == "process":  # the summary still comes, of what was read (little or nothing)
        summary = json.loads(out.splitlines()[-1])
        assert summary["type"] == "summary" and summary["frames"] < 458
