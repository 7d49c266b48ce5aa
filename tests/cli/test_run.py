"""``edge-arasl run``: the daemon stops cleanly on SIGTERM/SIGINT with its plugins flushed.

A probe plugin, installed for the daemon the way pip would (a module and a dist-info with an
entry point on ``PYTHONPATH``), records what it receives and whether it was stopped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from commands import start

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.mp4"

PROBE = """
import json
from pathlib import Path
from edge_arasl.plugin import OutputPlugin

class Probe(OutputPlugin):
    name = "probe"

    def start(self):
        self.out = Path(self.context.state_dir)
        self.seen = {"frames": 0, "letters": [], "words": [], "states": []}

    def on_frame(self, frame):
        self.seen["frames"] += 1
        if self.seen["frames"] == 1:
            (self.out / "first-frame").touch()

    def on_letter(self, letter):
        self.seen["letters"].append(letter.class_id)
        (self.out / "letter").touch()

    def on_word(self, word):
        self.seen["words"].append(list(word.classes))

    def on_status(self, status):
        self.seen["states"].append(status.state)

    def stop(self):
        (self.out / "probe.json").write_text(json.dumps(self.seen))
"""


@pytest.fixture
def daemon_env(tmp_path: Path, install_plugin_package) -> tuple[Path, dict[str, str]]:
    """A config playing the demo video in a loop, with the probe plugin enabled."""
    site = install_plugin_package(
        "arasl_probe", PROBE, {"probe": "arasl_probe:Probe"}, "arasl-probe"
    )
    state = tmp_path / "state"
    state.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[source]\nkind = "video"\npath = "{DEMO}"\nloop = true\n'
        f'[service]\nstate_dir = "{state}"\nstatus_interval = 0.2\n'
        "[probe]\nenabled = true\n"
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    )
    return config, env


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            pytest.fail(f"daemon exited early: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {path.name}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_daemon_with_exit_0_and_plugins_flushed(daemon_env, sig):
    config, env = daemon_env
    state = config.parent / "state"
    proc = start("run", "--config", str(config), env=env)
    wait_for(state / "letter", proc)  # mid-word: the first letter is out, the word is not
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    seen = json.loads((state / "probe.json").read_text())
    assert seen["frames"] > 0
    assert seen["letters"]
    # The word being signed was closed and delivered before the plugin was stopped.
    assert seen["words"] and [c for w in seen["words"] for c in w] == seen["letters"]
    assert seen["states"][0] == "starting" and seen["states"][-1] == "stopping"


def test_without_a_camera_the_daemon_says_what_to_install(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['picamera2'] = None; "
            "from edge_arasl.cli import main; sys.exit(main(['run']))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("edge-arasl: error: picamera2 is not available")
    assert "python3-picamera2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_sigterm_while_the_daemon_starts_is_a_clean_stop_with_exit_0(
    tmp_path, monkeypatch, caplog
):
    from edge_arasl import cli

    state = tmp_path / "state"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[source]\nkind = "video"\npath = "{DEMO}"\nloop = true\n'
        f'[service]\nstate_dir = "{state}"\n'
    )
    real_parser = cli.build_parser

    def while_importing():
        os.kill(os.getpid(), signal.SIGTERM)  # as if systemd stopped it while modules load
        return real_parser()

    monkeypatch.setattr(cli, "build_parser", while_importing)
    assert cli.main(["run", "--config", str(config)]) == 0
    status = json.loads((state / "status.json").read_text())
    assert status["state"] == "stopped" and status["frames"] == 0
