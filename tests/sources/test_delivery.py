"""Latest-frame delivery for live sources, read-ahead for files, pacing, interruption."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.sources.base import Frame, Source
from edge_arasl.sources.delivery import LatestFrame, Paced, ReadAhead


class Counter(Source):
    """Produces ``n`` frames as fast as asked (or every ``period`` s), stamped index/fps."""

    def __init__(self, n: int, period: float = 0.0, fps: float = 100.0) -> None:
        super().__init__("counter")
        self.n, self.period = n, period
        self.fps = fps
        self.produced = 0
        self.closed = False

    def read(self) -> Frame | None:
        if self.produced >= self.n or self.interrupted:
            return None
        if self.period:
            time.sleep(self.period)
        frame = Frame(np.zeros((4, 4), np.uint8), self.produced / self.fps, self.produced)
        self.produced += 1
        return frame

    def close(self) -> None:
        self.closed = True


class Failing(Counter):
    def read(self) -> Frame | None:
        if self.produced == 3:
            raise UserError("camera unplugged")
        return super().read()


class Blocking(Source):
    """A camera that hangs: read() blocks until interrupted."""

    def __init__(self) -> None:
        super().__init__("stuck")

    def read(self) -> Frame | None:
        while not self.interrupted:
            time.sleep(0.01)
        return None


def test_latest_frame_drops_stale_frames_for_a_slow_consumer():
    inner = Counter(60, period=0.002)
    source = LatestFrame(inner)
    read: list[int] = []
    with source:
        assert source.live
        while True:
            newest = inner.produced - 1  # captured before we ask (maybe not yet handed over)
            frame = source.read()
            if frame is None:
                break
            assert frame.index >= newest - 1  # never an old frame from a queue
            read.append(frame.index)
            time.sleep(0.02)  # a consumer ten times slower than the camera
    assert read == sorted(set(read))  # in order, never twice
    assert source.dropped > 20
    assert len(read) + source.dropped == inner.produced == 60
    assert inner.closed


def test_latest_frame_loses_nothing_for_a_fast_consumer():
    inner = Counter(20, period=0.05)  # far slower than any consumer, even on a loaded machine
    with LatestFrame(inner) as source:
        read = [f.index for f in source]
    assert read == list(range(20))
    assert source.dropped == 0


def test_read_ahead_delivers_every_frame_in_order_to_a_slow_consumer():
    inner = Counter(40)
    with ReadAhead(inner, depth=4) as source:
        read = []
        for frame in source:
            read.append(frame.index)
            time.sleep(0.001)
    assert read == list(range(40))
    assert source.dropped == 0


@pytest.mark.parametrize("wrapper", [LatestFrame, ReadAhead])
def test_an_error_in_the_capture_thread_reaches_the_reader(wrapper):
    with wrapper(Failing(10)) as source:
        frames = []
        with pytest.raises(UserError, match="camera unplugged"):
            while (frame := source.read()) is not None:
                frames.append(frame)
                time.sleep(0.01)
    assert len(frames) <= 3


@pytest.mark.parametrize("wrapper", [LatestFrame, ReadAhead])
def test_interrupt_unblocks_a_reader_waiting_on_a_hung_camera(wrapper):
    source = wrapper(Blocking())
    source.open()
    timer = threading.Timer(0.1, source.interrupt)
    timer.start()
    started = time.monotonic()
    assert source.read() is None
    assert time.monotonic() - started < 1.0
    source.close()


def test_paced_releases_frames_no_earlier_than_their_timestamps():
    source = Paced(Counter(6, fps=50.0))  # 0.1 s of media
    with source:
        started = time.monotonic()
        arrivals = [(f.timestamp, time.monotonic() - started) for f in source]
    assert len(arrivals) == 6
    for media_time, wall_time in arrivals:
        assert wall_time >= media_time - 0.005
    assert arrivals[-1][1] >= 0.095
