"""Per-frame latency of every model a frame can meet, at 1 and 2 interpreter threads.

Run by hand (nothing here is asserted by tests)::

    python benchmarks/bench_hand.py [--repeats 300] [--json]

Rows, each the median (and 90th percentile) of ``--repeats`` calls on one 640x480 frame with
a committed sample hand pasted into it:

``palm detector``
    :meth:`PalmDetector.detect`: letterbox to 192x192, colour conversion, invoke, anchor
    decoding and NMS. Runs only while no hand is followed (``[hand] search_fps``).
``hand landmarks``
    :meth:`LandmarkModel.read`: the rotated 224x224 crop, invoke, landmarks back to the frame.
``sign CNN``
    :meth:`Classifier.probabilities_prepared` on the 64x64 crop (the model's margin included).
``landmark classifier``
    :meth:`LandmarkClassifier.read`: features and the small MLP.
``fusion``
    :class:`Fusion` of the two probability vectors.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from bench_pipeline import machine, machine_line

from edge_arasl.classifier import Classifier
from edge_arasl.fusion import Fusion
from edge_arasl.hand.geometry import RotatedRect
from edge_arasl.hand.landmarks import LandmarkModel
from edge_arasl.hand.palm import PalmDetector
from edge_arasl.hand.tracker import DEFAULT_LANDMARK_MODEL, DEFAULT_PALM_MODEL
from edge_arasl.landmark_classifier import LandmarkClassifier
from edge_arasl.preprocess import INPUT_SIZE

SAMPLE = Path(__file__).resolve().parent.parent / "models" / "samples" / "bb" / "4826.png"


def frame_with_hand() -> np.ndarray:
    frame = np.full((480, 640, 3), 170, np.uint8)
    sample = cv2.imread(str(SAMPLE), cv2.IMREAD_GRAYSCALE)
    if sample is None:
        raise SystemExit(f"{SAMPLE}: cannot read the sample image")
    hand = cv2.resize(sample, (256, 256))
    frame[112:368, 192:448] = cv2.cvtColor(hand, cv2.COLOR_GRAY2BGR)
    return frame


def timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and 90th percentile milliseconds of ``call`` after a few warm-up calls."""
    for _ in range(5):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))]


def measure(threads: int, repeats: int) -> dict[str, tuple[float, float]]:
    frame = frame_with_hand()
    palms = PalmDetector(DEFAULT_PALM_MODEL, num_threads=threads)
    landmarks = LandmarkModel(DEFAULT_LANDMARK_MODEL, num_threads=threads)
    cnn = Classifier(num_threads=threads)
    mlp = LandmarkClassifier(num_threads=threads)
    fusion = Fusion(cnn.classes, mlp.classes, mlp.fusion_weight)
    rect = RotatedRect(320, 240, 300, 300)
    hand = landmarks.read(frame, rect, "bgr")
    crop = cv2.resize(
        cv2.cvtColor(frame[112:368, 192:448], cv2.COLOR_BGR2GRAY), (INPUT_SIZE, INPUT_SIZE)
    )
    cnn_probs = cnn.probabilities_prepared(crop)
    mlp_probs = mlp.read(hand)
    return {
        "palm detector": timed(lambda: palms.detect(frame, "bgr"), repeats),
        "hand landmarks": timed(lambda: landmarks.read(frame, rect, "bgr"), repeats),
        "sign CNN": timed(lambda: cnn.probabilities_prepared(crop), repeats),
        "landmark classifier": timed(lambda: mlp.read(hand), repeats),
        "fusion": timed(lambda: fusion(cnn_probs, mlp_probs), repeats),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = {f"{t} thread(s)": measure(t, args.repeats) for t in (1, 2)}
    if args.json:
        print(json.dumps({"ms_median_p90": result, **machine()}))
        return 0
    print(f"median (p90) ms of {args.repeats} calls")
    print(f"{'':22s} {'1 thread':>16s} {'2 threads':>16s}")
    one, two = result.values()
    for name in one:
        cells = [f"{m:7.3f} ({p:6.3f})" for m, p in (one[name], two[name])]
        print(f"{name:22s} {cells[0]:>16s} {cells[1]:>16s}")
    print(machine_line(machine()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
