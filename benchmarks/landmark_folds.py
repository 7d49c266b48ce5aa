"""The landmark MLP alone on the five cross-validation folds: a cheap screen for its recipe.

The MLP needs no CNN, and with the landmark cache (``edge-arasl train-landmarks --cache``) a
fold trains in seconds, so every fold can try an idea::

    python benchmarks/landmark_folds.py --data arasl.npz --cache runs/landmarks/cache.npz \\
        [--hidden 128 64] [--epochs 40] [--warped-copies 1] [--json OUT]

For each fold (``models/folds/foldk.json``) it trains ``train-landmarks``' MLP on the rows
with a hand of the fold's training blocks (and of their warped copies, extracted beside the
cache if missing), keeps the epoch best on its validation blocks, and
reads its test blocks. Reported: the MLP's accuracy on the test rows with a hand (the rows
where the daemon fuses it), the best validation accuracy (what a choice may be made on) and the
presence rate. The test figures are for reporting; choose on the validation column.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.dataset import load_dataset, model_labels, split_from_file
from edge_arasl.labels import MODEL_CLASSES
from edge_arasl.training import import_tf, landmark_cache
from edge_arasl.training import landmarks as lm

FOLDS = Path(__file__).resolve().parent.parent / "models" / "folds"


def fold_figures(args: argparse.Namespace) -> dict[str, Any]:
    data = load_dataset(args.data)
    labels = model_labels(data, MODEL_CLASSES)
    landmark_cache.load_cache(args.cache, data.images)  # the images' own: never re-extracted
    caches = landmark_cache.extract_copies(data.images, args.cache, args.warped_copies)
    reads = [landmark_cache.feature_matrix(c, False, args.presence) for c in caches]
    x, found = reads[0]
    tf = import_tf()
    folds: dict[str, Any] = {}
    for k in args.folds:
        split = split_from_file(data, FOLDS / f"fold{k}.json")
        train = landmark_cache.training_rows(reads, split.train, labels)
        va, te = (rows[found[rows]] for rows in (split.val, split.test))
        trained = lm.train_mlp(
            tf, train, (x[va], labels[va]), epochs=args.epochs, seed=args.seed,
            hidden=tuple(args.hidden), progress=lambda _: None,
        )  # fmt: skip
        right = trained.model.predict(x[te], verbose=0).argmax(1) == labels[te]
        folds[str(k)] = {
            "test_on_hand_rows": round(float(right.mean()), 4),
            "validation_best": round(max(trained.curve), 4),
            "best_epoch": trained.best_epoch,
            "presence_rate_test": round(float(found[split.test].mean()), 4),
        }
        print(f"fold {k}: {folds[str(k)]}", flush=True)
    mean = {
        key: round(float(np.mean([f[key] for f in folds.values()])), 4)
        for key in ("test_on_hand_rows", "validation_best", "presence_rate_test")
    }
    return {
        "hidden": args.hidden, "epochs": args.epochs, "seed": args.seed,
        "warped_copies": args.warped_copies, "folds": folds, "mean": mean,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True, help="train-landmarks' cache")
    parser.add_argument("--hidden", type=int, nargs="+", default=list(lm.HIDDEN))
    parser.add_argument("--epochs", type=int, default=lm.LandmarkTrainOptions.epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--presence", type=float, default=lm.LandmarkTrainOptions.presence)
    parser.add_argument("--warped-copies", type=int, default=lm.LandmarkTrainOptions.warped_copies)
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    report = fold_figures(args)
    print(f"mean: {report['mean']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
