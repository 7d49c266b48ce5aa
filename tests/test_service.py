"""The service layer around a real pipeline (real model), with a camera that can hang.

A hung camera is the one thing that cannot be produced for real here, so the source is a
small stand-in that delivers frames and then blocks in ``read`` until released.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading

import numpy as np
import pytest

from edge_arasl.notify import Notifier
from edge_arasl.pipeline import build_pipeline
from edge_arasl.service import Service
from edge_arasl.sources.base import Frame, Source


class HangingCamera(Source):
    """Delivers frames until ``hang_after``, then blocks in read() until ``release()``."""

    live = True

    def __init__(self, hang_after: int) -> None:
        super().__init__("hanging-camera")
        self.hang_after = hang_after
        self.hanging = threading.Event()
        self._release = threading.Event()
        self._index = 0
        self.fps = 30.0
        self.frame_size = (320, 240)

    def read(self) -> Frame | None:
        if self._index == self.hang_after:
            self.hanging.set()
            self._release.wait()
        if self.interrupted:
            return None
        self._index += 1
        image = np.full((240, 320, 3), 128, np.uint8)
        return Frame(image=image, timestamp=self._index / 30, index=self._index - 1)

    def release(self) -> None:
        self._release.set()

    def interrupt(self) -> None:
        super().interrupt()
        self._release.set()


@pytest.fixture
def notify(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    yield str(tmp_path / "notify.sock"), sock
    sock.close()


def test_watchdog_is_fed_by_the_loop_only(notify, tmp_path, monkeypatch):
    """While the camera hangs no WATCHDOG=1 is sent, so systemd would restart the service."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    path, sock = notify
    camera = HangingCamera(hang_after=40)
    # WatchdogSec=20ms: a ping every 10 ms while the loop runs
    service = Service(None, notifier=Notifier(path, watchdog_usec=20_000))
    log: list[str] = []
    errors: list[BaseException] = []
    pipelines = []

    def run_pipeline(config, observers):
        pipeline = build_pipeline(config, camera, mode="run", observers=observers, record=False)
        pipelines.append(pipeline)
        pipeline.run()
        return False

    def watch() -> None:
        try:
            sock.settimeout(0.05)
            while True:  # until the camera hangs and the messages sent before are read
                try:
                    log.append(sock.recv(4096).decode())
                except TimeoutError:
                    if camera.hanging.is_set():
                        break
            during = len(log)
            # The loop is stuck in read(): for 50 watchdog intervals nothing may arrive.
            sock.settimeout(0.5)
            with pytest.raises(TimeoutError):
                log.append(sock.recv(4096).decode())
            camera.release()
            camera.hang_after = -1
            sock.settimeout(60)
            while "WATCHDOG=1" not in log[during:]:
                log.append(sock.recv(4096).decode())
            pipelines[0].stop()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            camera.interrupt()

    thread = threading.Thread(target=watch)
    thread.start()
    service.run(run_pipeline)
    thread.join()
    if errors:
        raise errors[0]
    sock.settimeout(0)
    while True:  # what came after the watcher stopped reading
        try:
            log.append(sock.recv(4096).decode())
        except BlockingIOError:
            break
    ready = log.index("READY=1\nSTATUS=running: first frame classified")
    assert log.index("WATCHDOG=1") < ready  # fed from on_start already
    assert "WATCHDOG=1" in log[ready:]
    assert log[-1].startswith("STOPPING=1\nSTATUS=stopping: ")
    status = json.loads((tmp_path / "state/edge-arasl/status.json").read_text())
    assert status["state"] == "stopped"
    assert status["frames"] > 40
    assert status["source"] == "picamera: hanging-camera"


def test_the_systemd_status_line_names_failed_plugins():
    from edge_arasl.plugin import StatusEvent
    from edge_arasl.service import status_line

    ok = StatusEvent(state="running", wall_time=0.0, fps=29.5, letters=3, words=1)
    assert status_line(ok) == "running: 29.5 fps, last letter -, 3 letters, 1 words"
    failed = StatusEvent(
        state="running", wall_time=0.0, plugin_failed={"video": "x", "eventlog": "y"}
    )
    assert status_line(failed).endswith("0 words; failed: eventlog, video")
    lost = StatusEvent(state="running", wall_time=0.0, source_state="lost", source_lost_s=31.6)
    assert status_line(lost).startswith("running: source lost for 32 s, reopening; 0.0 fps")


def test_a_report_feeds_the_watchdog_only_while_the_source_is_being_reopened(notify):
    """Status goes on while a capture thread is stuck in a read; the watchdog must not."""
    from edge_arasl.plugin import StatusEvent

    path, sock = notify
    clock = itertools.count()  # a second passes between two pings: each may be sent
    service = Service(None, notifier=Notifier(path, watchdog_usec=1_000_000, clock=clock.__next__))
    stuck = StatusEvent(state="running", wall_time=0.0, frames=40)
    lost = StatusEvent(state="running", wall_time=0.0, source_state="lost", source_lost_s=3.0)
    received = []
    sock.settimeout(0)
    for status in (stuck, stuck, lost, stuck, lost):
        service.on_status(status)
        try:
            received.append(sock.recv(4096).decode())
        except BlockingIOError:
            received.append(None)
    assert received == [None, None, "WATCHDOG=1", None, "WATCHDOG=1"]
