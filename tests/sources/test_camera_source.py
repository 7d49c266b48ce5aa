"""The OpenCV camera source: monotonic capture time, reconnection, clear errors.

No camera exists here, so a stream URL is played by a local video file, which OpenCV opens
through the same ``VideoCapture(str)`` path as an RTSP/HTTP URL.
"""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from edge_arasl.config import SourceSettings
from edge_arasl.decoder import DecoderSettings, LetterDecoder
from edge_arasl.dispatcher import Dispatcher
from edge_arasl.errors import UserError
from edge_arasl.pipeline import Observer, Pipeline
from edge_arasl.reader import SignReader
from edge_arasl.region import FixedRegion, Roi
from edge_arasl.sources import open_source
from edge_arasl.sources.camera import Camera
from edge_arasl.sources.delivery import LatestFrame


def test_frames_carry_monotonic_capture_time(make_video):
    video = make_video(4)
    before = time.monotonic()
    with Camera(str(video)) as camera:
        frames = [camera.read() for _ in range(4)]
    assert [f.index for f in frames] == [0, 1, 2, 3]
    times = [f.timestamp for f in frames]
    assert before <= times[0] <= times[1] <= times[2] <= times[3] <= time.monotonic()


def test_a_stream_that_ends_is_reopened_and_numbering_goes_on(make_video, level):
    video = make_video(3)
    with Camera(str(video)) as camera:
        frames = [camera.read() for _ in range(5)]
    assert [level(f.image) for f in frames] == [0, 1, 2, 0, 1]
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]


def test_interrupt_ends_reconnection(make_video):
    video = make_video(1)
    with Camera(str(video)) as camera:
        assert camera.read() is not None
        video.unlink()  # the stream goes away for good
        camera.interrupt()
        assert camera.read() is None


def test_a_camera_that_cannot_be_opened_is_a_user_error():
    with pytest.raises(UserError, match=r"camera 'rtsp://127\.0\.0\.1:9/none'"):
        Camera("rtsp://127.0.0.1:9/none").open()


def test_open_source_makes_a_camera_live(make_video):
    video = make_video(3)
    source = open_source(SourceSettings(kind="camera", device=str(video)))
    try:
        assert source.live
        assert source.read() is not None
    finally:
        source.close()


def test_a_digit_string_from_a_config_file_means_a_device_index():
    assert Camera("0").device == 0
    assert Camera("rtsp://cam/1").device == "rtsp://cam/1"


def lost_while_running(statuses: list) -> list:
    return [s for s in statuses if s.state == "running" and s.source_state == "lost"]


class Outage(Observer):
    """Puts the stream back once it was reported lost for 0.3 s; stops the run at the next frame."""

    def __init__(self, video, copy) -> None:
        self.video, self.copy = video, copy
        self.statuses: list = []
        self.frames_after = 0
        self.pipeline: Pipeline | None = None

    def on_start(self, pipeline):
        self.pipeline = pipeline

    def on_frame(self, event):
        if self.video.exists() and self.pipeline is not None:
            self.frames_after += 1
            self.pipeline.stop()

    def on_status(self, status):
        self.statuses.append(status)
        lost = lost_while_running(self.statuses)
        # back once the outage has been reported for 0.3 s more than at first: the figure is
        # rounded to 0.1 s, and statuses may come in a burst on a loaded machine
        if (
            len(lost) >= 3
            and not self.video.exists()
            and lost[-1].source_lost_s >= lost[0].source_lost_s + 0.3
        ):
            shutil.copyfile(self.copy, self.video)


def test_the_loop_reports_a_lost_camera_while_it_waits_for_it(make_video, classifier, tmp_path):
    video = make_video(3)
    copy = shutil.copyfile(video, tmp_path / "copy.avi")
    source = LatestFrame(Camera(str(video)))
    source.open()  # its capture thread reads the three frames, then waits for more
    video.unlink()  # and the stream is gone
    outage = Outage(video, copy)
    decoder = LetterDecoder(classifier.classes, DecoderSettings())
    region = FixedRegion(Roi())
    pipeline = Pipeline(
        source,
        region,
        SignReader(classifier),
        decoder,
        Dispatcher([]),
        observers=[outage],
        status_interval=0.05,
    )
    # a loop that reported nothing while it waited would wait for ever: the stream comes back
    # after 30 s anyway, and the checks below fail instead of the run hanging
    back_anyway = threading.Timer(30, shutil.copyfile, (copy, video))
    back_anyway.start()
    try:
        summary = pipeline.run()  # the capture thread waits for the stream; the loop does not
    finally:
        back_anyway.cancel()
    lost = lost_while_running(outage.statuses)
    assert len(lost) >= 3
    assert lost[-1].source_lost_s > lost[0].source_lost_s  # the outage, growing
    assert len({s.frames for s in lost}) == 1  # no frame while it was away
    assert outage.frames_after == 1  # and one when it was back, which stopped the run
    assert summary.frames == lost[0].frames + 1
    # a stop asked for by a plugin or observer is followed by the "stopping" status alone: the
    # restored three-frame file runs out again at once, an outage no status should report
    assert [s.state for s in outage.statuses if s.frames > lost[0].frames] == ["stopping"]
