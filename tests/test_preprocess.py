"""Preprocessing parity with training: camera crops reach the model as the data set was made.

The training images are 64x64 gray, area-downscaled from larger photos; a crop of any size and
colour layout must arrive the same way.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.preprocess import (
    INPUT_SIZE,
    add_margin,
    prepare,
    resize,
    to_gray,
    to_unit_range,
)


@pytest.fixture
def training_image(sample_files: list[tuple[str, Path]]) -> np.ndarray:
    """A committed held-out sample: exactly what a training image looks like."""
    image = cv2.imread(str(sample_files[0][1]), cv2.IMREAD_UNCHANGED)
    assert image.shape == (INPUT_SIZE, INPUT_SIZE) and image.dtype == np.uint8
    return image


@pytest.fixture
def colour_crop() -> np.ndarray:
    """A 150x120 BGR crop with distinct channels (a gray one would hide channel-order bugs)."""
    rng = np.random.default_rng(7)
    return rng.integers(0, 256, (150, 120, 3), dtype=np.uint8)


def test_training_style_image_goes_through_unchanged(training_image: np.ndarray) -> None:
    np.testing.assert_array_equal(prepare(training_image), training_image)
    np.testing.assert_array_equal(prepare(training_image[:, :, None]), training_image)


def test_bigger_crop_is_area_averaged(training_image: np.ndarray) -> None:
    # A 3x bigger crop: each output pixel is the mean of its 3x3 block (area averaging, as
    # the data set was made); bilinear or nearest sampling would pick the block's centre.
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (192, 192), dtype=np.uint8)
    block_mean = big.reshape(64, 3, 64, 3).mean(axis=(1, 3))
    np.testing.assert_array_equal(prepare(big), np.round(block_mean))
    # A training image blown up and brought back is the training image again.
    blown_up = np.kron(training_image, np.ones((3, 3), np.uint8))
    np.testing.assert_array_equal(prepare(blown_up), training_image)
    # Non-integer factor: the same as OpenCV's area resize.
    crop = cv2.resize(training_image, (173, 173), interpolation=cv2.INTER_LINEAR)
    expected = cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(prepare(crop), expected)


def test_non_square_and_small_crops_become_64x64() -> None:
    assert prepare(np.zeros((300, 200), np.uint8)).shape == (64, 64)
    small = prepare(np.full((20, 30, 3), 200, np.uint8))
    assert small.shape == (64, 64) and small.dtype == np.uint8
    assert (small == 200).all()


def test_bgr_rgb_rgba_and_gray_give_the_same_gray(colour_crop: np.ndarray) -> None:
    bgr = colour_crop
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    alpha = np.full((*bgr.shape[:2], 1), 255, np.uint8)
    bgra, rgba = np.concatenate([bgr, alpha], 2), np.concatenate([rgb, alpha], 2)
    gray = to_gray(bgr, "bgr")
    # ITU-R 601 luma, as OpenCV's BGR2GRAY (and PIL's "L") compute it.
    b, g, r = (bgr[:, :, i].astype(np.float64) for i in range(3))
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    assert np.abs(gray - luma).max() <= 1
    for image, color in ((rgb, "rgb"), (bgra, "bgr"), (rgba, "rgb")):
        np.testing.assert_array_equal(to_gray(image, color), gray)
        np.testing.assert_array_equal(prepare(image, color), prepare(bgr, "bgr"))
    np.testing.assert_array_equal(prepare(gray), prepare(bgr))


def test_channel_order_matters(colour_crop: np.ndarray) -> None:
    # The same pixels read as RGB instead of BGR give a different gray: color is honoured.
    assert not np.array_equal(to_gray(colour_crop, "rgb"), to_gray(colour_crop, "bgr"))


def test_float_images_are_taken_as_0_to_1(training_image: np.ndarray) -> None:
    as_float = training_image.astype(np.float32) / 255
    np.testing.assert_array_equal(prepare(as_float), training_image)


def test_unit_range_is_the_training_scale(training_image: np.ndarray) -> None:
    x = to_unit_range(training_image)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, training_image / 255.0, atol=1e-7)


def test_resize_leaves_the_input_size_alone() -> None:
    image = np.arange(64 * 64, dtype=np.uint8).reshape(64, 64)
    assert resize(image) is image


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((0, 0), np.uint8), "image is empty"),
        (np.zeros((10,), np.uint8), "unsupported image shape"),
        (np.zeros((10, 10, 2), np.uint8), "unsupported image shape"),
        (np.zeros((10, 10, 5), np.uint8), "unsupported image shape"),
        (np.zeros((2, 10, 10, 3), np.uint8), "unsupported image shape"),
        (np.array([["a"]]), "unsupported image dtype <U1"),
        ("not an array", "image is empty or not an array"),
    ],
    ids=["empty", "1-d", "2-channel", "5-channel", "4-d", "strings", "str"],
)
def test_unusable_images_are_user_errors(image: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        prepare(image)  # type: ignore[arg-type]


def test_no_margin_leaves_the_image_alone(training_image: np.ndarray) -> None:
    assert add_margin(training_image, 0) is training_image


def test_margin_shrinks_the_image_and_repeats_its_edge(training_image: np.ndarray) -> None:
    framed = add_margin(training_image, 3)
    assert framed.shape == training_image.shape and framed.dtype == np.uint8
    inner = cv2.resize(training_image, (58, 58), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(framed[3:61, 3:61], inner)
    np.testing.assert_array_equal(framed[:3, 3:61], np.repeat(inner[:1], 3, axis=0))
    np.testing.assert_array_equal(framed[3:61, -3:], np.repeat(inner[:, -1:], 3, axis=1))
    assert (framed[:3, :3] == inner[0, 0]).all()
