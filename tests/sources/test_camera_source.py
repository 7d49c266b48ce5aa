"""The OpenCV camera source: monotonic capture time, reconnection, clear errors.

No camera exists here, so a stream URL is played by a local video file, which OpenCV opens
through the same ``VideoCapture(str)`` path as an RTSP/HTTP URL.
"""

from __future__ import annotations

import time

import pytest

from edge_arasl.config import SourceSettings
from edge_arasl.errors import UserError
from edge_arasl.sources import open_source
from edge_arasl.sources.camera import Camera


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
