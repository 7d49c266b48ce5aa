"""Landmark extraction and its cache, warped copies, and the feature rows training reads.

No data set needed: the committed samples stand in for ArASL images.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.training import landmark_cache as lc


@pytest.fixture(scope="module")
def images(sample_files: list[tuple[str, Path]]) -> np.ndarray:
    return np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for _, p in sample_files[::27]])


class _Stop(Exception):
    pass


def test_extraction_is_cached_and_resumes_where_it_stopped(tmp_path: Path, images: np.ndarray):
    whole = lc.extract(images, tmp_path / "whole.npz", save_every=2, progress=lambda _: None)
    assert whole.done == len(images) and whole.points.shape == (len(images), 21, 3)
    assert (whole.presence > 0.5).sum() >= len(images) - 2  # the samples show hands

    def stop(_: str) -> None:
        raise _Stop

    path = tmp_path / "cache.npz"
    with pytest.raises(_Stop):
        lc.extract(images, path, save_every=2, progress=stop)
    assert lc.load_cache(path, images).done == 2
    resumed = lc.extract(images, path, save_every=2, progress=lambda _: None)
    np.testing.assert_allclose(resumed.points, whole.points, atol=1e-4)
    np.testing.assert_allclose(resumed.presence, whole.presence, atol=1e-5)
    with pytest.raises(UserError, match="made from other images"):
        lc.extract(images[::-1].copy(), path)


def test_a_warped_copy_is_a_small_turn_resize_and_shift_fixed_by_its_number(images: np.ndarray):
    plain, first, again, second = (lc.Images(images, k) for k in (0, 1, 1, 2))
    assert len(first) == len(images)
    for row in range(len(images)):
        np.testing.assert_array_equal(plain[row], images[row])  # copy 0: the images themselves
        np.testing.assert_array_equal(first[row], again[row])
    assert not np.array_equal(first[0], second[0]) and not np.array_equal(first[0], images[0])
    matrices = lc.warp_matrices(500, (64, 64), seed=1)
    scale = np.hypot(matrices[:, 0, 0], matrices[:, 0, 1])
    degrees = np.degrees(np.arctan2(matrices[:, 0, 1], matrices[:, 0, 0]))
    centre = matrices[:, :, :2] @ np.array([32.0, 32.0]) + matrices[:, :, 2] - 32
    assert np.all(np.abs(scale - 1) <= lc.WARP_SCALE + 1e-9) and np.ptp(scale) > 0.15
    assert np.all(np.abs(degrees) <= lc.WARP_DEGREES + 1e-9) and np.ptp(degrees) > 15
    assert np.all(np.abs(centre) <= lc.WARP_SHIFT * 64 + 1e-9) and np.ptp(centre) > 8
    with pytest.raises(ValueError, match="copy -1"):
        lc.Images(images, -1)


def test_each_warped_copy_has_its_own_cache_beside_the_images_one(
    tmp_path: Path, images: np.ndarray
):
    path = tmp_path / "cache.npz"
    caches = lc.extract_copies(images[:4], path, warped_copies=2, progress=lambda _: None)
    assert [c.done for c in caches] == [4, 4, 4]
    assert lc.copy_path(path, 0) == path and lc.copy_path(path, 2).name == "cache.warped2.npz"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cache.npz", "cache.warped1.npz", "cache.warped2.npz"
    ]  # fmt: skip
    assert not np.allclose(caches[1].points, caches[0].points, atol=1.0)  # read anew, moved
    lc.load_cache(lc.copy_path(path, 1), lc.Images(images[:4], 1))
    with pytest.raises(UserError, match="made from other images"):
        lc.load_cache(lc.copy_path(path, 1), lc.Images(images[:4], 2))


def test_feature_rows_mirror_only_when_asked_and_flag_degenerate_or_unsure_landmarks():
    hand = np.random.default_rng(0).uniform(0, 200, (21, 3)).astype(np.float32)
    points = np.stack([hand, hand, np.zeros((21, 3), np.float32), hand])
    presence = np.array([1.0, 0.5, 1.0, 0.49], np.float32)
    cache = lc.LandmarkCache(points, presence, np.array([0.9, 0.1, 0.9, 0.9]), 4)
    plain, found = lc.feature_matrix(cache, mirror=False, presence=0.5)
    mirrored, _ = lc.feature_matrix(cache, mirror=True)
    assert found.tolist() == [True, True, False, False]
    assert lc.feature_matrix(cache, mirror=False)[1].tolist() == [True, True, False, True]
    np.testing.assert_array_equal(plain[0], plain[1])
    np.testing.assert_array_equal(mirrored[0], plain[0])  # a right hand stays
    np.testing.assert_allclose(mirrored[1, 0::3], -plain[1, 0::3])  # a "left" one flips in x


def test_training_rows_are_the_asked_rows_of_every_read_that_found_a_hand():
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 200, (2, 6, 21, 3)).astype(np.float32)
    own = lc.LandmarkCache(points[0], np.array([1, 1, 0, 1, 1, 1], np.float32), np.ones(6), 6)
    warped = lc.LandmarkCache(points[1], np.array([1, 0, 1, 1, 0, 1], np.float32), np.ones(6), 6)
    labels = np.array([10, 11, 12, 13, 14, 15])
    reads = [lc.feature_matrix(cache, False, 0.5) for cache in (own, warped)]
    x, y = lc.training_rows(reads, np.array([0, 1, 2, 4]), labels)
    assert y.tolist() == [10, 11, 14, 10, 12]  # own reads of rows 0 1 4, warped reads of 0 2
    np.testing.assert_array_equal(x[3], lc.feature_matrix(warped, False)[0][0])
    x_own, y_own = lc.training_rows(reads[:1], np.array([0, 1, 2, 4]), labels)
    np.testing.assert_array_equal(x_own, x[:3])
    assert y_own.tolist() == [10, 11, 14]
