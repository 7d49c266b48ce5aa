"""A source that goes away under the daemon is waited for with back-off and resumed.

The daemon (``edge-arasl run``) reads a looping video file, or the same file as a camera
stream (OpenCV opens a path and an RTSP/HTTP URL through the same ``VideoCapture(str)``).
The file is then deleted or cut short, and put back. Meanwhile the daemon goes on reporting
status (the source marked lost) and feeding the systemd watchdog.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import threading

import pytest
from child import of_type, read_events, write_config

from edge_arasl.errors import UserError
from edge_arasl.sources.backoff import RECONNECT, Backoff
from edge_arasl.sources.video import VideoFile
from edge_arasl.status_file import read_status


def test_backoff_doubles_up_to_its_cap_and_stays_there_for_hours():
    backoff = Backoff(first_s=0.5, factor=2.0, max_s=10.0)
    assert [backoff.delay(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.delay(100_000) == 10.0  # no float overflow after a long outage
    assert RECONNECT.delay(0) == RECONNECT.first_s
    assert RECONNECT.delay(100_000) == RECONNECT.max_s


def cut_short(path, keep: float = 0.3) -> None:
    """Truncate ``path`` in place to a fraction of its size (a copy still being written)."""
    os.truncate(path, int(path.stat().st_size * keep))


FAULTS = {"deleted": os.unlink, "cut short": cut_short}


@pytest.mark.parametrize(
    ("kind", "fault", "lost"),
    [
        ("video", "deleted", "gone, cut short or damaged after"),
        ("video", "cut short", "gone, cut short or damaged after"),
        ("camera", "deleted", "no frame; reopening with back-off"),
    ],
    ids=["video-deleted", "video-cut-short", "stream-gone"],
)
def test_the_daemon_waits_for_a_lost_source_and_resumes_when_it_is_back(
    child, tmp_path, short_video, kind, fault, lost
):
    video = tmp_path / "input.mp4"
    shutil.copyfile(short_video, video)
    events = tmp_path / "events.jsonl"
    where = {"path": video, "loop": True} if kind == "video" else {"device": str(video)}
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": kind, **where},
        service={"state_dir": tmp_path / "state", "status_interval": 0.2},
        eventlog={"enabled": True, "path": events, "status": True},
    )
    daemon = child("run", "--config", str(config))
    daemon.wait_for_log("ready: first frame classified")

    FAULTS[fault](video)
    daemon.wait_for_log(lost)
    daemon.wait_for_log("still unavailable")  # retried, and said so
    shutil.copyfile(short_video, video)
    daemon.wait_for_log(": back after")

    def frames() -> int:
        return max((s["frames"] for s in of_type(read_events(events), "status")), default=0)

    resumed_at = frames()
    daemon.wait_until(lambda: frames() > resumed_at + 10, "frames after the source came back")
    code, _seconds, _out = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.log_text()
    assert "Traceback" not in daemon.log_text()
    # the status went on during the outage, saying the source was lost, and then back to ok
    states = [s["source_state"] for s in of_type(read_events(events), "status")]
    assert "lost" in states
    # back to ok after the outage. A file read as a camera stream is read unpaced and lost
    # again at its last frame, often between two reports: its return shows in the frames
    # counted above and the log's "back after", not always in a report.
    if kind == "video":
        assert states[-1] == "ok"
    during = [s for s in of_type(read_events(events), "status") if s["source_state"] == "lost"]
    assert len({s["source_lost_s"] for s in during}) > 1  # reported more than once, growing


def test_media_time_jumps_by_the_outage_so_pacing_resumes_in_step(tmp_path, short_video):
    video = tmp_path / "input.mp4"
    shutil.copyfile(short_video, video)
    source = VideoFile(video, loop=True, follow=True)
    source.open()
    try:
        first = [source.read() for _ in range(3)]
        assert source.fps
        played = [*first, *(source.read() for _ in range(int(1.5 * source.fps) - 3))]
        video.unlink()
        threading.Timer(1.0, shutil.copyfile, (short_video, video)).start()
        after = source.read()  # blocks until the file is back
    finally:
        source.close()
    assert after is not None
    assert after.index == played[-1].index + 1
    # the outage lasted at least the first back-off delay: media time moved on by as much
    assert after.timestamp - played[-1].timestamp >= RECONNECT.first_s


def test_process_reports_a_file_cut_short_while_it_reads_it(tmp_path, short_video, caplog):
    video = tmp_path / "input.mp4"
    shutil.copyfile(short_video, video)
    source = VideoFile(video)
    source.open()
    total = source.frame_count
    assert total
    try:
        assert source.read() is not None
        cut_short(video, keep=0.2)
        with caplog.at_level(logging.WARNING, logger="edge_arasl.sources.video"):
            frames = 1 + sum(1 for _ in source)
    finally:
        source.close()
    assert frames < total
    assert f"{video}: ended at frame {frames} of {total}: cut short or damaged" in caplog.text
    with pytest.raises(UserError, match=r"input\.mp4: cannot be opened as a video"):
        VideoFile(video).open()  # its index, at the end, is gone


def test_status_and_the_watchdog_go_on_while_the_source_is_away(child, tmp_path, short_video):
    """Under systemd (a real notify socket) an outage neither stales the status nor starves the
    watchdog: ``status.json`` is rewritten with the source lost, WATCHDOG=1 keeps coming."""
    video = tmp_path / "input.mp4"
    shutil.copyfile(short_video, video)
    state_dir = tmp_path / "state"
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "video", "path": video, "loop": True},
        service={"state_dir": state_dir, "status_interval": 0.2},
    )
    notify = Listener(tmp_path / "n.sock")
    # WatchdogSec=0.4 s: a ping at most every 0.2 s
    env = {"NOTIFY_SOCKET": str(notify.path), "WATCHDOG_USEC": "400000"}
    try:
        daemon = child("run", "--config", str(config), env=env)
        daemon.wait_for_log("ready: first frame classified")

        def status() -> dict:
            try:
                return read_status(state_dir)
            except UserError:  # not written yet
                return {}

        video.unlink()
        daemon.wait_until(lambda: status().get("source_state") == "lost", "a lost source")
        first, since = status(), len(notify.lines)
        daemon.wait_until(
            lambda: status().get("source_lost_s", 0) > first["source_lost_s"],
            "status.json rewritten during the outage",
        )
        during, second = notify.lines[since:], status()
        shutil.copyfile(short_video, video)
        daemon.wait_until(lambda: status().get("source_state") == "ok", "the source back")
        back = status()
        daemon.wait_until(lambda: status().get("frames", 0) > back["frames"], "frames again")
        code, _seconds, _out = daemon.stop(signal.SIGTERM)
    finally:
        notify.close()
    assert code == 0, daemon.log_text()
    assert second["source_state"] == "lost"
    assert second["frames"] == first["frames"]  # no frame came: the reports fed the watchdog
    assert during.count("WATCHDOG=1") >= 3
    assert any(line.startswith("STATUS=running: source lost for") for line in during)
    assert back["source_lost_s"] == 0


class Listener:
    """A notify socket read as systemd reads it, at once (a full one would block the sender)."""

    def __init__(self, path) -> None:
        self.path = path
        self.lines: list[str] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.1)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._read)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed.is_set():
            try:
                self.lines += self._sock.recv(4096).decode().splitlines()
            except TimeoutError:
                continue

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self._sock.close()
