"""`edge-arasl run` as systemd runs it: a real subprocess on a looping video, a fake NOTIFY_SOCKET.

Checks the notification sequence of a real run and SIGHUP reloads with a valid, an invalid
and a valid-but-failing new config (the last two keep the old config running).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from mqtt_broker import free_port

WAIT = 60.0  # generous: only a limit for a broken run, never a measured duration


@pytest.fixture(scope="module")
def demo_video(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo.mp4"
    cmd = [sys.executable, "-m", "edge_arasl", "make-demo", str(out), "--text", "مدد"]
    subprocess.run([*cmd, "--size", "320x240", "--fps", "15"], check=True, capture_output=True)
    return out


class Daemon:
    """`edge-arasl run --config FILE` with a fake NOTIFY_SOCKET; collects messages and logs."""

    def __init__(self, tmp_path: Path, config: Path) -> None:
        self.state_dir = tmp_path / "state"
        sock_path = str(tmp_path / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(sock_path)
        self.messages: list[dict[str, str]] = []
        self.stderr: list[str] = []
        self._cond = threading.Condition()
        env = {
            **os.environ,
            "NOTIFY_SOCKET": sock_path,
            "WATCHDOG_USEC": "200000",  # WatchdogSec=0.2s: a ping every 0.1 s
            "STATE_DIRECTORY": str(self.state_dir),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge_arasl", "run", "--config", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        threading.Thread(target=self._read_socket, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_socket(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096).decode()
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.split("\n"))
            with self._cond:
                self.messages.append(fields)
                self._cond.notify_all()

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            with self._cond:
                self.stderr.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, predicate, what: str) -> None:
        deadline = time.monotonic() + WAIT
        with self._cond:
            while not predicate():
                if self.proc.poll() is not None:  # let the readers catch up, then give up
                    deadline = min(deadline, time.monotonic() + 10)
                left = deadline - time.monotonic()
                if left <= 0:
                    log = "\n".join(self.stderr[-30:])
                    raise AssertionError(f"no {what}; messages {self.messages[-10:]}\n{log}")
                self._cond.wait(min(left, 0.5))

    def wait_message(self, key: str, value: str | None = None, after: int = 0) -> int:
        """Index of the first message from ``after`` on with ``key`` (= ``value``)."""
        found: list[int] = []

        def match() -> bool:
            for i, m in enumerate(self.messages[after:], after):
                if key in m and (value is None or m[key] == value):
                    found.append(i)
                    return True
            return False

        self.wait_for(match, f"{key}={value or '*'} after message {after}")
        return found[0]

    def wait_log(self, text: str) -> str:
        found: list[str] = []

        def match() -> bool:
            found[:] = [line for line in self.stderr if text in line]
            return bool(found)

        self.wait_for(match, f"log line with {text!r}")
        return found[0]

    def status(self) -> dict:
        """The status file; {} before the daemon wrote it."""
        try:
            return json.loads((self.state_dir / "status.json").read_text())
        except FileNotFoundError:
            return {}

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(WAIT)
        finally:
            self.proc.kill()
            self.sock.close()


@pytest.fixture
def daemon(tmp_path):
    started: list[Daemon] = []

    def start(config: Path) -> Daemon:
        d = Daemon(tmp_path, config)
        started.append(d)
        return d

    yield start
    for d in started:
        d.stop()


def write_config(path: Path, video: Path, metrics_port: int | None = None, extra: str = "") -> Path:
    text = f'[source]\nkind = "video"\npath = "{video}"\nloop = true\n{extra}'
    if metrics_port is not None:
        text += f"\n[metrics]\nenabled = true\nport = {metrics_port}\n"
    path.write_text(text, encoding="utf-8")
    return path


def frames_metric(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("edge_arasl_frames_total "):
                return float(line.split()[1])
    raise AssertionError("no edge_arasl_frames_total")


def wait_frames_grow(port: int) -> None:
    """The pipeline behind the metrics endpoint is processing frames."""
    first = frames_metric(port)
    deadline = time.monotonic() + WAIT
    while frames_metric(port) <= first:
        assert time.monotonic() < deadline, "frames stopped growing"
        time.sleep(0.1)


def test_notifications_of_a_real_run(tmp_path, demo_video, daemon):
    d = daemon(write_config(tmp_path / "c.toml", demo_video))
    ready = d.wait_message("READY", "1")
    assert d.messages[ready]["STATUS"] == "running: first frame classified"
    starting = d.wait_message("STATUS")
    assert d.messages[starting]["STATUS"].startswith("starting: waiting for the first frame")
    assert starting < ready
    d.wait_message("WATCHDOG", "1", after=ready + 1)  # fed from the loop after READY too
    running = d.wait_message("STATUS", after=ready + 1)
    assert d.messages[running]["STATUS"].startswith("running: ")
    assert " fps, last letter " in d.messages[running]["STATUS"]
    d.wait_for(lambda: d.status().get("state") == "running", "state running in status.json")
    assert d.status()["pid"] == d.proc.pid
    assert d.stop() == 0
    stopping = d.wait_message("STOPPING", "1")
    assert d.messages[stopping]["STATUS"].startswith("stopping: ")
    assert "RELOADING" not in json.dumps(d.messages)
    final = d.status()
    assert final["state"] == "stopped"
    assert final["frames"] > 0
    assert any("ready: first frame classified" in line for line in d.stderr)


def test_sighup_with_a_valid_config_rebuilds_the_plugins(tmp_path, demo_video, daemon):
    config = write_config(tmp_path / "c.toml", demo_video)
    d = daemon(config)
    ready = d.wait_message("READY", "1")
    port = free_port()
    write_config(config, demo_video, metrics_port=port)  # enable the metrics plugin
    d.proc.send_signal(signal.SIGHUP)
    reloading = d.wait_message("RELOADING", "1", after=ready + 1)
    assert int(d.messages[reloading]["MONOTONIC_USEC"]) > 0
    d.wait_log("reload: restarting the pipeline with the new config")
    ready_again = d.wait_message("READY", "1", after=reloading + 1)
    assert "STOPPING" not in json.dumps(d.messages[reloading:ready_again])
    wait_frames_grow(port)  # the new plugin serves the new pipeline
    d.wait_for(lambda: d.status().get("plugins") == ["metrics"], "plugins in status.json")
    assert d.stop() == 0


def test_sighup_with_an_invalid_config_keeps_the_old_one(tmp_path, demo_video, daemon):
    port = free_port()
    config = write_config(tmp_path / "c.toml", demo_video, metrics_port=port)
    d = daemon(config)
    ready = d.wait_message("READY", "1")
    wait_frames_grow(port)
    write_config(config, demo_video, metrics_port=port, extra="colour = true\n")
    d.proc.send_signal(signal.SIGHUP)
    reloading = d.wait_message("RELOADING", "1", after=ready + 1)
    line = d.wait_log("reload rejected")
    assert f"reload rejected, keeping the running config: {config}: [source]: unknown key" in line
    ready_again = d.wait_message("READY", "1", after=reloading + 1)
    assert d.messages[ready_again]["STATUS"].startswith("running; reload rejected: ")
    wait_frames_grow(port)  # the old pipeline still runs, with its plugin
    assert not any("restarting the pipeline" in s for s in d.stderr)
    assert d.stop() == 0


def test_sighup_with_a_config_that_fails_to_start_goes_back(tmp_path, demo_video, daemon):
    port = free_port()
    config = write_config(tmp_path / "c.toml", demo_video, metrics_port=port)
    d = daemon(config)
    ready = d.wait_message("READY", "1")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        busy_port = busy.getsockname()[1]
        write_config(config, demo_video, metrics_port=busy_port)  # valid, but cannot start
        d.proc.send_signal(signal.SIGHUP)
        reloading = d.wait_message("RELOADING", "1", after=ready + 1)
        line = d.wait_log("reload failed")
        assert f"cannot listen on 127.0.0.1:{busy_port}" in line
        assert "going back to the previous config" in line
        d.wait_message("READY", "1", after=reloading + 1)
        wait_frames_grow(port)  # the previous config runs again, metrics on the old port
    finally:
        busy.close()
    assert d.stop() == 0
