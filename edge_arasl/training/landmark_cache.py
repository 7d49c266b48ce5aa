"""Landmarks of every ArASL image, read once and cached: the landmark classifier's data.

ArASL has no landmarks, so they are read from its images: each 64x64 gray crop is upscaled to
the landmark model's 224x224 RGB input and read as one upright crop. That costs a few
milliseconds an image (minutes for the data set), so the landmarks are cached in an ``.npz``
that is written as it goes and resumed when a run is interrupted.

A *warped copy* reads every image again after a small random turn, resize and shift, fixed by
the copy's number. The landmark model's reading of a moved hand differs by more than the
synthetic jitter of training (``landmarks.augment``) mimics: trained on both reads, the MLP
alone reads unseen folds better, though fused with the CNN it was not better
(models/MODEL_CARD.md, "The MLP's size").
"""

from __future__ import annotations

import importlib.resources
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.hand.features import FEATURES, features
from edge_arasl.hand.geometry import RotatedRect
from edge_arasl.hand.landmarks import INPUT_SIZE, LANDMARKS, LandmarkModel

#: MediaPipe's landmark model as shipped beside the sign classifier.
LANDMARK_MODEL_PATH = Path(
    str(importlib.resources.files("edge_arasl_models") / "hand_landmark_lite.tflite")
)
#: The whole upscaled image is the crop: the hand fills ArASL's images.
_WHOLE_CROP = RotatedRect(INPUT_SIZE / 2, INPUT_SIZE / 2, INPUT_SIZE, INPUT_SIZE, 0.0)
#: A warped copy's image is turned by up to this many degrees, resized by up to this share and
#: shifted by up to this share of its side, each drawn uniformly; edges are replicated.
WARP_DEGREES, WARP_SCALE, WARP_SHIFT = 10.0, 0.10, 0.08


@dataclass(frozen=True)
class LandmarkCache:
    """What the landmark model read in each row: ``points`` (N,21,3) in 224-crop pixels,
    ``presence`` and ``right`` (N,); ``done`` rows are filled, the rest are zeros."""

    points: np.ndarray
    presence: np.ndarray
    right: np.ndarray
    done: int


def read_image(model: LandmarkModel, gray: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(points, presence, right)`` of one gray image, read as the whole 224x224 crop."""
    big = cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
    hand = model.read_crop(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB), _WHOLE_CROP)
    return hand.points, hand.presence, hand.right


class Images:
    """The images a cache reads: the data set's own (``copy`` 0) or its warped copy ``copy``,
    warped row by row so that no second copy of the data set is held in memory."""

    def __init__(self, images: np.ndarray, copy: int = 0) -> None:
        if copy < 0:
            raise ValueError(f"copy {copy}: must be at least 0")
        self.images = images
        self._matrices = warp_matrices(len(images), images.shape[1:3], copy) if copy else None

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, row: int) -> np.ndarray:
        image = self.images[row]
        if self._matrices is None:
            return image
        h, w = image.shape[:2]
        return cv2.warpAffine(image, self._matrices[row], (w, h), borderMode=cv2.BORDER_REPLICATE)


def warp_matrices(n: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """``(n, 2, 3)`` affine matrices about the image centre, one per row, fixed by ``seed``."""
    h, w = shape[:2]
    rng = np.random.default_rng(seed)
    angle = rng.uniform(-WARP_DEGREES, WARP_DEGREES, n)
    scale = 1 + rng.uniform(-WARP_SCALE, WARP_SCALE, n)
    shift = rng.uniform(-WARP_SHIFT, WARP_SHIFT, (n, 2)) * (w, h)
    matrices = np.empty((n, 2, 3))
    for row in range(n):
        matrices[row] = cv2.getRotationMatrix2D((w / 2, h / 2), angle[row], scale[row])
        matrices[row, :, 2] += shift[row]
    return matrices


def copy_path(cache_path: Path, copy: int) -> Path:
    """Where warped copy ``copy`` of ``cache_path``'s images is cached (0: ``cache_path``)."""
    if copy == 0:
        return cache_path
    return cache_path.with_name(f"{cache_path.stem}.warped{copy}{cache_path.suffix}")


def _fingerprint(images: np.ndarray | Images) -> np.ndarray:
    """A cheap check that a cache belongs to these images: a few rows' pixel sums."""
    rows = np.linspace(0, len(images) - 1, min(len(images), 64)).astype(int)
    return np.array([int(images[row].sum(dtype=np.int64)) for row in rows], np.int64)


def _save(path: Path, cache: LandmarkCache, fingerprint: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp.npz")
    arrays = {name: getattr(cache, name) for name in ("points", "presence", "right")}
    np.savez(tmp, **arrays, done=np.int64(cache.done), fingerprint=fingerprint)
    os.replace(tmp, path)  # atomic: an interrupted save leaves the previous cache


def load_cache(path: Path, images: np.ndarray | Images | None = None) -> LandmarkCache:
    """Read a landmark cache; with ``images``, check it was made from them."""
    try:
        with np.load(path, allow_pickle=False) as data:
            cache = LandmarkCache(
                data["points"], data["presence"], data["right"], int(data["done"])
            )
            fingerprint = data["fingerprint"]
    except (OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path}: not a landmark cache ({exc})") from None
    if images is not None and (
        len(cache.presence) != len(images) or not np.array_equal(fingerprint, _fingerprint(images))
    ):
        raise UserError(f"{path}: made from other images; delete it to extract again")
    return cache


def extract(
    images: np.ndarray | Images,
    cache_path: Path,
    model_path: Path = LANDMARK_MODEL_PATH,
    save_every: int = 2000,
    progress: Callable[[str], None] = print,
) -> LandmarkCache:
    """Landmarks of every image, cached in ``cache_path`` and resumed from it if present."""
    fingerprint = _fingerprint(images)
    if cache_path.exists():
        cache = load_cache(cache_path, images)
    else:
        n = len(images)
        cache = LandmarkCache(
            np.zeros((n, LANDMARKS, 3), np.float32), np.zeros(n, np.float32),
            np.zeros(n, np.float32), 0,
        )  # fmt: skip
    if cache.done >= len(images):
        return cache
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    model = LandmarkModel(model_path)
    start, first = time.monotonic(), cache.done
    done = first
    for row in range(first, len(images)):
        cache.points[row], cache.presence[row], cache.right[row] = read_image(model, images[row])
        done = row + 1
        if done % save_every == 0 or done == len(images):
            cache = LandmarkCache(cache.points, cache.presence, cache.right, done)
            _save(cache_path, cache, fingerprint)
            rate = (time.monotonic() - start) / (done - first) * 1000
            progress(f"{cache_path.name}: {done}/{len(images)} rows ({rate:.1f} ms an image)")
    return LandmarkCache(cache.points, cache.presence, cache.right, done)


def extract_copies(
    images: np.ndarray,
    cache_path: Path,
    warped_copies: int,
    progress: Callable[[str], None] = print,
) -> list[LandmarkCache]:
    """The caches of the images themselves and of each warped copy, extracting what is missing."""
    return [
        extract(Images(images, copy), copy_path(cache_path, copy), progress=progress)
        for copy in range(warped_copies + 1)
    ]


def feature_matrix(
    cache: LandmarkCache, mirror: bool, presence: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, FEATURES)`` features of every row, and which rows have a hand: features (a
    nonzero extent) and a presence score of at least ``presence``, as the runtime requires.

    ``mirror``: mirror the rows the landmark model calls left hands, as the runtime does.
    """
    x = np.zeros((len(cache.presence), FEATURES), np.float32)
    found = np.zeros(len(x), bool)
    for row in range(cache.done):
        try:
            x[row] = features(cache.points[row], left=mirror and bool(cache.right[row] < 0.5))
        except ValueError:  # all points at the wrist
            continue
        found[row] = bool(cache.presence[row] >= presence)
    return x, found


def training_rows(
    reads: Sequence[tuple[np.ndarray, np.ndarray]], rows: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of ``rows`` in every read (:func:`feature_matrix` of the images,
    then of each warped copy), each kept only where that read found a hand."""
    kept = [(x, rows[found[rows]]) for x, found in reads]
    return np.concatenate([x[k] for x, k in kept]), np.concatenate([labels[k] for _, k in kept])
