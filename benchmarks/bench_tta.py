"""Test-time augmentation probe (issue 21): the int8 CNN averaged over shifted or scaled copies.

Run by hand (nothing here is asserted by tests)::

    python benchmarks/bench_tta.py --data arasl.npz \\
        --choose-with runs/arasl/stage1/arasl_int8.tflite [--model models/arasl_int8.tflite]

Each image of a part of ``models/split.json`` is read as it is and as copies moved by 2 pixels
(``shift2``: 4 copies), resized by 0.92 and 1.08 about the centre (``scale``: 2 copies) or both,
edge pixels repeated where a copy leaves the image, and the class is the argmax of the mean
probabilities. The validation blocks are read by ``--choose-with`` (a model that did not train
on them: the shipped CNN's stage 1), where a variant should be chosen; the test blocks by
``--model`` (default: the shipped CNN), to be read once a variant is chosen. The variant chosen
became the runtime's ``[classifier] views = "scales"`` (its scales are read from
:data:`edge_arasl.classifier.VIEWS`); each copy costs one more CNN run a frame.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from edge_arasl.classifier import VIEWS, Classifier
from edge_arasl.dataset import block_rows, held_out_blocks, load_dataset, model_labels
from edge_arasl.labels import MODEL_CLASSES
from edge_arasl.preprocess import INPUT_SIZE

Copy = tuple[float, float, float]  # dx, dy (pixels), scale
VARIANTS: dict[str, list[Copy]] = {
    "none": [(0, 0, 1.0)],
    "shift2": [(0, 0, 1.0), (2, 0, 1.0), (-2, 0, 1.0), (0, 2, 1.0), (0, -2, 1.0)],
    "scale": [(0, 0, scale) for scale in VIEWS["scales"]],
}
VARIANTS["both"] = VARIANTS["shift2"] + VARIANTS["scale"][1:]
SPLIT = Path(__file__).resolve().parent.parent / "models" / "split.json"


def moved(image: np.ndarray, copy: Copy) -> np.ndarray:
    dx, dy, scale = copy
    centre = (INPUT_SIZE - 1) / 2
    matrix = cv2.getRotationMatrix2D((centre, centre), 0, scale)
    matrix[:, 2] += np.array([dx, dy])
    size = (INPUT_SIZE, INPUT_SIZE)
    return cv2.warpAffine(
        image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def accuracies(model: Path | None, images: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy of every variant, each copy read once."""
    classifier = Classifier(model)
    copies = {c for variant in VARIANTS.values() for c in variant}
    probs = {
        c: classifier.probabilities_batch(np.stack([moved(i, c) for i in images])) for c in copies
    }
    return {
        name: round(float(np.mean(np.mean([probs[c] for c in cs], 0).argmax(1) == y)), 4)
        for name, cs in VARIANTS.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, required=True, help="the ArASL .npz of models/split.json"
    )
    parser.add_argument(
        "--choose-with", type=Path, required=True, help="CNN that reads the validation blocks"
    )
    parser.add_argument(
        "--model", type=Path, help="CNN that reads the test blocks (default: shipped)"
    )
    args = parser.parse_args()
    data = load_dataset(args.data)
    labels = model_labels(data, MODEL_CLASSES)
    for model, part in ((args.choose_with, "val"), (args.model, "test")):
        rows = block_rows(held_out_blocks(data, SPLIT, part))
        result = accuracies(model, data.images[rows], labels[rows])
        print(
            json.dumps(
                {"model": str(model or "shipped"), "part": part, "rows": len(rows), **result}
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
