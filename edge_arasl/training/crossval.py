"""What a cross-validation fold's run records beyond a plain run (``train --split``).

The split file's identity goes into the model's metadata (and the checkpoint's fingerprint),
so fine-tuning can refuse another split; ``fold_metrics.json`` holds the fold's figures and its
out-of-fold predictions, what ``benchmarks/cv_report.py`` pools over the folds.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.dataset import Split
from edge_arasl.errors import UserError
from edge_arasl.evaluation import block_interval, block_scores, evaluate_predictions
from edge_arasl.labels import MODEL_CLASSES
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


def fold_metrics(
    opts: TrainOptions,
    split: Split,
    y_test: np.ndarray,
    float_pred: np.ndarray,
    int8_pred: np.ndarray,
    val_accuracy: float | None,
    init_training: dict[str, Any] | str | None = None,
    views_pred: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """One fold's figures and its out-of-fold predictions, small enough to commit.

    ``training`` says how the model was made, stage 1 (``init_training``, the starting model's
    own training) included, so full-recipe and screening folds are told apart.
    ``views_pred`` holds the int8 model's predictions read with other test-time views
    (``[classifier] views``, by name), scored as ``int8_views``.

    The predictions (class indices into ``classes``, test rows in ``test_blocks`` order) let
    the folds be pooled into one confusion matrix over all blocks without their models.
    """
    classes = list(MODEL_CLASSES)
    result: dict[str, Any] = {
        "split": split_file_id(opts.split),
        "training": {**_recipe(asdict(opts)), "stage1": _stage1(init_training)},
        "test_rows": len(y_test),
        "val_accuracy": None if val_accuracy is None else round(val_accuracy, 4),
    }
    for name, pred in (("int8", int8_pred), ("float", float_pred)):
        result[name], scores = _figures(y_test, pred, split)
        if name == "int8":
            result["blocks"] = scores
        else:  # the float accuracy of each block beside the int8 one
            for block, score in zip(result["blocks"], scores, strict=True):
                block["float_accuracy"] = score["accuracy"]
    result["predictions"] = {"classes": classes, "true": y_test.tolist()}
    result["predictions"].update(int8=int8_pred.tolist(), float=float_pred.tolist())
    result["int8_views"] = {}
    for views, pred in (views_pred or {}).items():
        result["int8_views"][views], _ = _figures(y_test, pred, split)
        result["predictions"][f"int8_{views}"] = pred.tolist()
    return result


def _figures(
    y_test: np.ndarray, pred: np.ndarray, split: Split
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Accuracy, macro F1 and block interval of one set of predictions, and its block scores."""
    classes = list(MODEL_CLASSES)
    report = evaluate_predictions(y_test, pred, classes)
    scores = block_scores(y_test, pred, split.test_blocks, classes)
    figures = {
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro["f1"], 4),
        "accuracy_interval": list(block_interval(scores)),
    }
    return figures, scores


def _stage1(training: dict[str, Any] | str | None) -> dict[str, Any] | str | None:
    """The starting model's recipe; ``"unknown"`` or None (from scratch) as they are."""
    return _recipe(training) if isinstance(training, dict) else training


def _recipe(training: dict[str, Any]) -> dict[str, Any]:
    """The settings of a training run (options or a metadata entry) that shape the model."""
    keys = ("epochs", "swa_epochs", "swa_strength", "train_on_val", "seed", "init_seed")
    recipe = {k: training.get(k) for k in (*keys, "margin") if k in training}
    if training.get("none_clutter"):  # only when used: folds from before it stay comparable
        recipe["none_clutter"] = training["none_clutter"]
    return recipe
