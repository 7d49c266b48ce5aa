"""How good a classifier is: accuracy, confusion matrix and per-class precision/recall/F1.

Pure numpy, shared by ``edge-arasl evaluate`` and the training report, so both count the
same way. Classes are identified by index into ``classes``; a class with no true samples and no
predictions has no defined precision or recall and is left out of ``per_class`` (evaluating on a
subset of the classes then lists only the classes that took part).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Report:
    """Evaluation of ``n`` predictions against the truth.

    ``confusion[i, j]`` counts samples of true class ``classes[i]`` predicted as
    ``classes[j]``. ``per_class[name]`` holds ``precision``, ``recall``, ``f1`` (0..1; 0 where
    undefined, as scikit-learn's ``zero_division=0``) and ``n``, the number of true samples.
    """

    classes: tuple[str, ...]
    confusion: np.ndarray
    accuracy: float
    n: int
    per_class: dict[str, dict[str, float | int]]

    @property
    def macro(self) -> dict[str, float]:
        """Unweighted mean precision, recall and F1 over the classes with true samples."""
        rows = [m for m in self.per_class.values() if m["n"] > 0]
        if not rows:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        return {k: float(np.mean([m[k] for m in rows])) for k in ("precision", "recall", "f1")}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the figures rounded to 4 decimals, the confusion matrix as lists."""
        return {
            "accuracy": round(self.accuracy, 4),
            "n": self.n,
            "macro": {k: round(v, 4) for k, v in self.macro.items()},
            "per_class": {
                name: {k: (round(v, 4) if k != "n" else v) for k, v in m.items()}
                for name, m in self.per_class.items()
            },
            "confusion": {
                "classes": list(self.classes),
                "matrix": self.confusion.tolist(),
            },
        }


def confusion_matrix(true_ids: np.ndarray, pred_ids: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` int64 counts, rows true, columns predicted."""
    flat = np.bincount(true_ids * n_classes + pred_ids, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def evaluate_predictions(
    true_ids: Sequence[int] | np.ndarray,
    pred_ids: Sequence[int] | np.ndarray,
    classes: Sequence[str],
) -> Report:
    """Score predicted class indices against true ones (both index into ``classes``)."""
    true = np.asarray(true_ids, dtype=np.int64).ravel()
    pred = np.asarray(pred_ids, dtype=np.int64).ravel()
    classes = tuple(str(c) for c in classes)
    if true.shape != pred.shape:
        raise ValueError(f"{len(true)} true labels but {len(pred)} predictions")
    k = len(classes)
    for name, ids in (("true", true), ("predicted", pred)):
        if ids.size and (ids.min() < 0 or ids.max() >= k):
            raise ValueError(f"{name} class index out of range for {k} classes")
    confusion = confusion_matrix(true, pred, k)
    hits = np.diag(confusion).astype(np.float64)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    precision = np.divide(hits, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    per_class: dict[str, dict[str, float | int]] = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "n": int(support[i]),
        }
        for i, name in enumerate(classes)
        if support[i] > 0 or predicted[i] > 0
    }
    n = int(true.size)
    accuracy = float(hits.sum() / n) if n else 0.0
    return Report(classes, confusion, accuracy, n, per_class)


def format_report(report: Report, text: dict[str, str] | None = None) -> str:
    """A plain-text table: one row per class (with its Arabic text if given), then totals."""
    text = text or {}
    lines = [f"{'class':<8} {'text':<4} {'n':>6} {'precision':>9} {'recall':>7} {'f1':>7}"]
    for name, m in report.per_class.items():
        lines.append(
            f"{name:<8} {text.get(name, ''):<4} {m['n']:>6} "
            f"{m['precision']:>9.3f} {m['recall']:>7.3f} {m['f1']:>7.3f}"
        )
    macro = report.macro
    lines.append(
        f"{'macro':<8} {'':<4} {report.n:>6} "
        f"{macro['precision']:>9.3f} {macro['recall']:>7.3f} {macro['f1']:>7.3f}"
    )
    correct = int(np.trace(report.confusion))
    lines.append(f"accuracy {report.accuracy:.4f} ({correct}/{report.n})")
    return "\n".join(lines)


def block_scores(
    true_ids: np.ndarray,
    pred_ids: np.ndarray,
    blocks: Sequence[tuple[str, int, int]],
    classes: Sequence[str],
) -> list[dict[str, Any]]:
    """Accuracy of each held-out block, and what its misread images were most often called.

    ``true_ids``/``pred_ids`` hold the blocks' rows one block after another, as
    :func:`edge_arasl.dataset.held_out` returns them. One block is one recording session, so a
    block far below the rest is a signer or setting the model does not handle, which the
    overall accuracy hides.
    """
    scores = []
    start = 0
    for name, first, last in blocks:
        n = last - first + 1
        true, pred = true_ids[start : start + n], pred_ids[start : start + n]
        start += n
        right = pred == true
        wrong = pred[~right]
        mistaken_for = classes[int(np.bincount(wrong).argmax())] if wrong.size else None
        scores.append(
            {
                "class": name,
                "first": first,
                "last": last,
                "n": n,
                "correct": int(right.sum()),
                "accuracy": round(float(right.mean()), 4),
                "mistaken_for": mistaken_for,
            }
        )
    if start != len(true_ids):
        raise ValueError(f"the blocks hold {start} rows, the predictions {len(true_ids)}")
    return scores


def block_interval(
    scores: Sequence[dict[str, Any]], level: float = 0.95, samples: int = 5000, seed: int = 0
) -> tuple[float, float]:
    """A bootstrap interval of the accuracy that resamples whole blocks, not images.

    The images of one block are near-copies of each other, so the uncertainty of a held-out
    accuracy comes from how few recording sessions were held out. Resampling the blocks with
    replacement (seeded, so the figure is reproducible) shows it: a few hard sessions move the
    accuracy by points, which an image-level interval would hide.
    """
    n = np.array([s["n"] for s in scores], dtype=np.float64)
    correct = np.array([s["correct"] for s in scores], dtype=np.float64)
    picks = np.random.default_rng(seed).integers(0, len(scores), (samples, len(scores)))
    accuracy = correct[picks].sum(axis=1) / n[picks].sum(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(accuracy, [tail, 100 - tail])
    return round(float(low), 4), round(float(high), 4)
