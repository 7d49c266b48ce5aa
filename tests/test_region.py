"""The region of interest: parsing, pixel boxes, and the crop the classifier sees."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_arasl.preprocess import INPUT_SIZE, prepare
from edge_arasl.region import FixedRegion, Located, RegionSettings, Roi, crop
from edge_arasl.sources.base import Frame


def test_default_region_is_a_256_square_in_a_640x480_frame():
    assert Roi().to_pixels(640, 480) == (192, 96, 256, 256)
    assert Roi.parse("0.3,0.2,0.4,0.5333") == Roi()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.1,0.2,0.3", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("0.5,0.5,0.6,0.2", "inside the frame"),
        ("0.1,0.1,0,0.5", r"w must be in \(0, 1\]"),
        ("-0.1,0.1,0.2,0.5", r"x must be in \[0, 1\]"),
        ("nan,0.1,0.2,0.2", r"x must be in \[0, 1\]"),
    ],
)
def test_bad_regions_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        Roi.parse(text)


def test_pixel_boxes_stay_inside_tiny_frames():
    assert Roi(0.9, 0.9, 0.1, 0.1).to_pixels(5, 5) == (4, 4, 1, 1)


def test_fixed_region_follows_the_frame_size():
    region = FixedRegion(Roi(0.5, 0.5, 0.5, 0.5))
    big = Frame(np.zeros((480, 640, 3), np.uint8), 0.0, 0)
    small = Frame(np.zeros((240, 320, 3), np.uint8), 0.0, 1)
    assert region.locate(big) == Located((320, 240, 320, 240))
    assert region.locate(small) == Located((160, 120, 160, 120))


def test_region_settings_hold_the_mode_and_a_checked_rectangle():
    settings = RegionSettings()
    assert settings.mode == "fixed" and settings.roi == Roi()
    assert settings.with_roi(Roi(0, 0, 1, 1)).roi == Roi(0, 0, 1, 1)
    with pytest.raises(ValueError, match="inside the frame"):
        RegionSettings(x=0.9, w=0.5)


def test_a_box_reaching_outside_the_frame_is_padded_with_its_edge():
    image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    frame = Frame(image, 0.0, 0)
    inside = crop(frame, (2, 2, 6, 6), size=6)
    assert np.array_equal(inside, image[2:8, 2:8])
    padded = crop(frame, (-2, 5, 6, 6), size=6)  # two columns left of the frame, two below
    assert np.array_equal(padded[:, 2:][:5], image[5:10, 0:4])
    assert np.array_equal(padded[:, 0], padded[:, 2]) and np.array_equal(padded[5], padded[4])
    assert crop(frame, (20, 20, 4, 4), size=4).shape == (4, 4)  # wholly outside: edge pixels


def test_crop_is_the_training_preprocessing_of_the_box():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    box = (192, 96, 256, 256)
    expected = prepare(image[96:352, 192:448])
    assert np.array_equal(crop(Frame(image, 0.0, 0), box), expected)


def test_crop_uses_a_smaller_gray_stream_at_the_same_place():
    yy, xx = np.mgrid[0:480, 0:640]
    gray = ((xx // 40 + yy // 40) % 2 * 200 + 20).astype(np.uint8)  # a checkerboard
    image = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    lores = cv2.resize(gray, (320, 240), interpolation=cv2.INTER_AREA)
    box = Roi().to_pixels(640, 480)
    from_color = crop(Frame(image, 0.0, 0), box)
    from_lores = crop(Frame(image, 0.0, 0, gray=lores), box)
    assert from_lores.shape == (INPUT_SIZE, INPUT_SIZE)
    assert np.abs(from_color.astype(int) - from_lores.astype(int)).mean() < 2
