"""What a cross-validation fold's run records beyond a plain run (``train --split``).

The split file's identity goes into the model's metadata, so fine-tuning can refuse another
split; ``fold_metrics.json`` holds the fold's figures and its out-of-fold predictions, what
``benchmarks/cv_report.py`` pools over the folds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.evaluation import block_interval, block_scores, evaluate_predictions
from edge_arasl.labels import MODEL_CLASSES

if TYPE_CHECKING:
    from edge_arasl.dataset import Split
    from edge_arasl.training.options import TrainOptions


def split_file_id(split: Path | None) -> dict[str, str] | None:
    """The split file's name and content hash: a fine-tuning run must use the same blocks."""
    if split is None:
        return None
    try:
        digest = hashlib.sha256(split.read_bytes()).hexdigest()
    except OSError as exc:
        raise UserError(f"{split}: cannot read the split file ({exc.strerror})") from None
    return {"file": split.name, "sha256": digest}


def record_split_file(opts: TrainOptions) -> None:
    """Add the split file (if any) to the metadata's training, for :func:`_init_training`."""
    from edge_arasl.training.trainer import MODEL_NAME, dump_json

    path = opts.out / f"{MODEL_NAME}.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    metadata["training"]["split"] = split_file_id(opts.split)
    dump_json(path, metadata)


def fold_metrics(
    opts: TrainOptions,
    split: Split,
    y_test: np.ndarray,
    float_pred: np.ndarray,
    int8_pred: np.ndarray,
    val_accuracy: float | None,
    init_training: dict[str, Any] | str | None = None,
) -> dict[str, Any]:
    """One fold's figures and its out-of-fold predictions, small enough to commit.

    ``training`` says how the model was made, stage 1 (``init_training``, the starting model's
    own training) included, so full-recipe and screening folds are told apart.

    The predictions (class indices into ``classes``, test rows in ``test_blocks`` order) let
    the folds be pooled into one confusion matrix over all blocks without their models.
    """
    classes = list(MODEL_CLASSES)
    result: dict[str, Any] = {
        "split": split_file_id(opts.split),
        "training": {**_recipe(asdict(opts)), "stage1": _recipe(init_training)},
        "test_rows": len(y_test),
        "val_accuracy": None if val_accuracy is None else round(val_accuracy, 4),
    }
    for name, pred in (("int8", int8_pred), ("float", float_pred)):
        report = evaluate_predictions(y_test, pred, classes)
        scores = block_scores(y_test, pred, split.test_blocks, classes)
        result[name] = {
            "accuracy": round(report.accuracy, 4),
            "macro_f1": round(report.macro["f1"], 4),
            "accuracy_interval": list(block_interval(scores)),
        }
        if name == "int8":
            result["blocks"] = scores
        else:  # the float accuracy of each block beside the int8 one
            for block, score in zip(result["blocks"], scores, strict=True):
                block["float_accuracy"] = score["accuracy"]
    result["predictions"] = {"classes": classes, "true": y_test.tolist()}
    result["predictions"].update(int8=int8_pred.tolist(), float=float_pred.tolist())
    return result


def _recipe(training: dict[str, Any] | str | None) -> dict[str, Any] | str | None:
    """The settings of a training run (options or a metadata entry) that shape the model."""
    if not isinstance(training, dict):
        return training
    keys = ("epochs", "swa_epochs", "swa_strength", "train_on_val", "seed", "init_seed")
    return {k: training.get(k) for k in (*keys, "margin") if k in training}


def dump_compact(path: Path, obj: Any) -> None:
    """One line per top-level key: long lists stay on one line, the figures stay readable."""
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in obj.items()]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
