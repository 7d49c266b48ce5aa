"""The Pi camera source against a fake ``Picamera2`` at the import boundary.

picamera2 cannot be imported off a Raspberry Pi (it needs libcamera's Python bindings), so the
tests put a fake ``picamera2`` module into ``sys.modules``, with the slice of the Picamera2 API
the source uses: create_video_configuration, configure, start, capture_arrays, stop, close.
"""

from __future__ import annotations

import sys
import types
from typing import ClassVar

import cv2
import numpy as np
import pytest

from edge_arasl.config import SourceSettings
from edge_arasl.errors import UserError
from edge_arasl.preprocess import INPUT_SIZE
from edge_arasl.region import FixedRegion, Roi, crop
from edge_arasl.sources import open_source
from edge_arasl.sources.picamera import PiCamera

STRIDE_PAD = 16  # picamera2 YUV420 arrays may be wider than the image (row stride)


class FakePicamera2:
    instances: ClassVar[list[FakePicamera2]] = []

    def __init__(self, camera_num: int = 0) -> None:
        self.camera_num = camera_num
        self.config: dict | None = None
        self.started = self.stopped = self.closed = False
        self.captures = 0
        FakePicamera2.instances.append(self)

    def create_video_configuration(self, main=None, lores=None, controls=None, **kwargs):
        return {"main": dict(main), "lores": dict(lores), "controls": dict(controls or {})}

    def configure(self, config) -> None:
        self.config = config

    def start(self) -> None:
        self.started = True

    def capture_arrays(self, names):
        assert self.started and not self.stopped
        self.captures += 1
        w, h = self.config["main"]["size"]
        lw, lh = self.config["lores"]["size"]
        # main: a seeded noise scene, no two places alike, so a crop taken at the wrong place
        # cannot match; lores: that scene's luma scaled as the ISP does, then U and V rows.
        self.main = np.random.default_rng(self.captures).integers(0, 256, (h, w, 3), np.uint8)
        luma = cv2.cvtColor(self.main, cv2.COLOR_BGR2GRAY)
        self.luma = cv2.resize(luma, (lw, lh), interpolation=cv2.INTER_AREA)
        yuv = np.full((lh * 3 // 2, lw + STRIDE_PAD), 128, np.uint8)
        yuv[:lh, :lw] = self.luma
        yuv[:lh, lw:] = 7  # stride padding that must not be read
        arrays = {"main": self.main.copy(), "lores": yuv}
        return [arrays[n] for n in names], {"SensorTimestamp": self.captures}

    def stop(self) -> None:
        self.stopped = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_picamera2(monkeypatch):
    FakePicamera2.instances = []
    module = types.ModuleType("picamera2")
    module.Picamera2 = FakePicamera2
    monkeypatch.setitem(sys.modules, "picamera2", module)
    return FakePicamera2


def test_main_stream_is_the_image_and_the_lores_y_plane_the_gray(fake_picamera2):
    source = PiCamera(camera=1, size=(640, 480), lores_size=(320, 240), fps=20.0)
    with source:
        cam = fake_picamera2.instances[0]
        assert cam.camera_num == 1
        assert cam.config["main"] == {"size": (640, 480), "format": "RGB888"}
        assert cam.config["lores"] == {"size": (320, 240), "format": "YUV420"}
        assert cam.config["controls"] == {"FrameRate": 20.0}
        assert source.frame_size == (640, 480)
        frames = [source.read() for _ in range(3)]
        luma, main = cam.luma, cam.main  # of the last capture
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[0].timestamp <= frames[1].timestamp <= frames[2].timestamp
    frame = frames[-1]
    assert np.array_equal(frame.image, main)
    assert np.array_equal(frame.gray, luma)  # no stride padding, no chroma rows
    assert cam.stopped and cam.closed


def test_the_classifier_crop_comes_from_the_lores_stream_at_the_same_place(fake_picamera2):
    with PiCamera() as source:
        frame = source.read()
    box = FixedRegion(Roi()).locate(frame).box
    from_lores = crop(frame, box)
    from_main = crop(frame.__class__(frame.image, frame.timestamp, frame.index), box)
    assert from_lores.shape == (INPUT_SIZE, INPUT_SIZE)
    # The same place of the same scene: rounding apart, equal (2 pixels off, 40 or more apart).
    assert np.abs(from_lores.astype(int) - from_main.astype(int)).max() <= 2


def test_open_source_wraps_the_pi_camera_as_a_live_source(fake_picamera2):
    source = open_source(SourceSettings(kind="picamera"))
    try:
        assert source.live
        frame = source.read()
        assert frame is not None and frame.gray is not None
    finally:
        source.close()
    assert fake_picamera2.instances[0].closed


def test_without_picamera2_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "picamera2", None)  # import picamera2 -> ImportError
    with pytest.raises(UserError) as excinfo:
        PiCamera().open()
    message = str(excinfo.value)
    assert "apt install python3-picamera2" in message
    assert "edge-arasl[pi]" in message
    assert "\n" not in message


def test_a_camera_that_cannot_be_configured_is_closed_and_reported(fake_picamera2, monkeypatch):
    def broken(self, config):
        raise RuntimeError("lores stream must be YUV420")

    monkeypatch.setattr(fake_picamera2, "configure", broken)
    with pytest.raises(UserError, match=r"cannot be configured.*YUV420"):
        PiCamera().open()
    assert fake_picamera2.instances[0].closed
