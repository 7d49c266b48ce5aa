"""What auto mode's framing costs the CNN, on ArASL's own test images (no scene, no finding).

    python benchmarks/bench_framing.py --data arasl.npz --landmarks runs/landmarks/cache.npz

Auto mode hands the CNN a square of ``crop_scale`` times the landmarks' extent, centred on
them, where ArASL's photographers framed the hand by eye. This reads every 5th row of the
shipped model's test blocks (``models/split.json``) whose landmarks were found (the cache that
``make landmark-model`` writes: landmarks read on the whole 64x64 image) three ways: as the
image itself; as the landmark square cut from the image, with the wall's edge pixels repeated
outside it (a plain room); and as that square with a random texture outside the image (a
busy room right behind the photo's edge). The gap between the first and the others is what
the framing alone costs, apart from finding the hand.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from edge_arasl.classifier import Classifier
from edge_arasl.dataset import load_dataset
from edge_arasl.hand.geometry import square_box
from edge_arasl.hand.landmarks import INPUT_SIZE as LANDMARK_INPUT
from edge_arasl.preprocess import INPUT_SIZE
from edge_arasl.training.augment import texture
from edge_arasl.training.landmark_cache import load_cache

Surround = Callable[[int], np.ndarray]
PAD = INPUT_SIZE  # room around the image for squares that reach outside it


def framed(image: np.ndarray, points: np.ndarray, scale: float, surround: np.ndarray) -> np.ndarray:
    """The ``scale`` landmark square of ``image`` placed in ``surround`` (3x its size)."""
    canvas = surround.copy()
    canvas[PAD : PAD + INPUT_SIZE, PAD : PAD + INPUT_SIZE] = image
    x, y, w, h = square_box(points, scale)
    cut = canvas[max(y + PAD, 0) : y + PAD + h, max(x + PAD, 0) : x + PAD + w]
    return cv2.resize(cut, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--landmarks", type=Path, required=True, help="landmark cache .npz")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.4, 1.7, 2.0])
    args = parser.parse_args()
    ds = load_dataset(args.data)
    cache = load_cache(args.landmarks, ds.images)
    split = json.loads((resources.files("edge_arasl_models") / "split.json").read_text())
    rows = [r for _, a, b in split["test_blocks"] for r in range(a, b + 1)][::5]
    rows = [r for r in rows if cache.presence[r] >= 0.5]
    classifier = Classifier()
    rng = np.random.default_rng(0)

    def accuracy(read: Callable[[int], np.ndarray]) -> float:
        right = sum(
            classifier.classes[int(np.argmax(classifier.probabilities(read(r))))]
            == ds.classes[ds.labels[r]]
            for r in rows
        )
        return right / len(rows)

    def points(r: int) -> np.ndarray:
        return cache.points[r][:, :2] * INPUT_SIZE / LANDMARK_INPUT

    def plain(r: int) -> np.ndarray:
        return cv2.copyMakeBorder(ds.images[r], PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)

    def busy(r: int) -> np.ndarray:
        return texture(rng, 3 * INPUT_SIZE).astype(np.uint8)

    print(f"{len(rows)} test images with landmarks (every 5th test row)")
    print(f"the image itself: {100 * accuracy(lambda r: ds.images[r]):.1f}%")
    for scale in args.scales:
        for name, surround in (("plain", plain), ("textured", busy)):

            def read(r: int, scale: float = scale, surround: Surround = surround) -> np.ndarray:
                return framed(ds.images[r], points(r), scale, surround(r))

            print(f"landmark square x{scale:g}, {name} surround: {100 * accuracy(read):.1f}%")


if __name__ == "__main__":
    main()
