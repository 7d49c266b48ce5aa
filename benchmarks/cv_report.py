"""K-fold block cross-validation (issue 21): write the fold lists, pool the fold figures.

    python benchmarks/cv_report.py [--folds models/folds] [--json]
    python benchmarks/cv_report.py --write-folds arasl.npz [--folds models/folds]

The report reads whatever ``fold{k}_metrics.json`` exist (``make fold`` / ``make cv`` write
them), so it can be run while the folds are still being trained, over several sessions: the
mean and standard deviation over the folds, the per-fold table, the worst sessions (test
blocks) and the confusion matrix and per-class F1 of the out-of-fold predictions, pooled over
every fold's test blocks. Each fold's ``training`` entry says whether it is a full recipe run
or a shorter screening one; folds trained differently should not be pooled, and the report
says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.dataset import kfold_splits, load_dataset, model_labels, split_to_json
from edge_arasl.evaluation import evaluate_predictions
from edge_arasl.labels import MODEL_CLASSES
from edge_arasl.training.files import dump_json

K = 5
SEED = 0
WORST = 10
METHOD = (
    "fold {fold} of {k}: contiguous blocks of 80 rows per class (a tail under 40 rows joins "
    "the block before it) dealt to {k} folds; 2 inner blocks per class reserved out of all "
    "folds; validation 10% of each class's blocks from the other folds; 4 guard rows dropped "
    "each side of every held-out block (seed {seed})"
)

FINAL_METHOD = (
    "the shipped model's split: the blocks of the fold files; the reserve (2 inner blocks per "
    "class) is its test; validation 10% of each class's other blocks; all the rest trains; 4 "
    "guard rows dropped each side of every held-out block (seed {seed})"
)


def write_folds(data_path: Path, out: Path, k: int = K, seed: int = SEED) -> list[Path]:
    """``fold{k}.json`` (the split file format of ``models/split.json``), ``reserve.json``
    and ``final.json``.

    ``reserve.json`` lists the reserve as its ``test_blocks``, so ``edge-arasl evaluate
    --split`` reads it like any split file. ``final.json`` is the shipped model's split
    (``make model``): every block but the reserve trains or validates, the reserve tests.
    """
    data = load_dataset(data_path)
    labels = model_labels(data, MODEL_CLASSES)
    *folds, final = kfold_splits(labels, MODEL_CLASSES, k=k, seed=seed, final=True)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fold, split in enumerate(folds):
        entry = split_to_json(split, data, METHOD.format(fold=fold, k=k, seed=seed))
        path = out / f"fold{fold}.json"
        dump_json(path, {"fold": fold, "folds": k, **entry})
        written.append(path)
    reserve = folds[0].reserve_blocks
    path = out / "reserve.json"
    dump_json(
        path,
        {
            "data": Path(data.source).name,
            "rows": len(data),
            "method": "the reserve of the fold files, out of every fold's training and test, "
            "listed as test blocks for edge-arasl evaluate --split",
            "test_blocks": [list(b) for b in reserve],
            "val_blocks": [],
            "test_rows": sum(last - first + 1 for _, first, last in reserve),
        },
    )
    final_path = out / "final.json"
    dump_json(
        final_path, split_to_json(split=final, data=data, method=FINAL_METHOD.format(seed=seed))
    )
    return [*written, path, final_path]


def load_folds(folder: Path, suffix: str = "_metrics.json") -> dict[int, dict[str, Any]]:
    """Every ``fold{k}{suffix}`` in ``folder`` (the metrics, or another per-fold JSON such as
    ``_fusion_three_views.json``), by fold number."""
    found = {}
    for path in sorted(folder.glob(f"fold*{suffix}")):
        number = path.name[len("fold") : -len(suffix)]
        if number.isdigit():
            found[int(number)] = json.loads(path.read_text(encoding="utf-8"))
    return found


def spread(values: list[float]) -> dict[str, float | None]:
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return {"mean": round(float(np.mean(values)), 4), "sd": None if sd is None else round(sd, 4)}


def report(folds: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Mean/SD over the folds, the per-fold rows, the worst blocks and the pooled predictions."""
    if not folds:
        return {"folds": 0}
    rows = []
    for fold, m in sorted(folds.items()):
        rows.append(
            {
                "fold": fold,
                "training": m["training"],
                "test_rows": m["test_rows"],
                "test_blocks": len(m["blocks"]),
                "int8": m["int8"]["accuracy"],
                "float": m["float"]["accuracy"],
                "int8_macro_f1": m["int8"]["macro_f1"],
                "int8_interval": m["int8"]["accuracy_interval"],
            }
        )
    blocks = [{"fold": f, **b} for f, m in sorted(folds.items()) for b in m["blocks"]]
    classes = folds[min(folds)]["predictions"]["classes"]
    true = np.concatenate([m["predictions"]["true"] for m in folds.values()])
    pred = np.concatenate([m["predictions"]["int8"] for m in folds.values()])
    pooled = evaluate_predictions(true, pred, classes)
    return {
        **_views(folds, rows),
        "folds": len(folds),
        "fold_numbers": sorted(folds),
        "same_training": len({json.dumps(r["training"], sort_keys=True) for r in rows}) == 1,
        **{key: spread([r[key] for r in rows]) for key in ("int8", "float", "int8_macro_f1")},
        "per_fold": rows,
        "worst_blocks": sorted(blocks, key=lambda b: b["accuracy"])[:WORST],
        "out_of_fold_int8": pooled.to_dict(),
    }


def _views(folds: dict[int, dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The int8 figures with other test-time views, over the folds that recorded them."""
    for row in rows:
        recorded = folds[row["fold"]].get("int8_views", {})
        row["int8_views"] = {v: figures["accuracy"] for v, figures in recorded.items()}
    names = sorted({v for row in rows for v in row["int8_views"]})
    spreads = {}
    for views in names:
        having = [row for row in rows if views in row["int8_views"]]
        spreads[views] = {
            **spread([row["int8_views"][views] for row in having]),
            "folds": [row["fold"] for row in having],
            "int8_same_folds": spread([row["int8"] for row in having])["mean"],
        }
    return {"int8_views": spreads}


def _epochs(training: dict[str, Any]) -> str:
    """``24+0>0+12``: each stage's cosine + averaged epochs (stage 1 first, if any)."""
    stages = [t for t in (training.get("stage1"), training) if isinstance(t, dict)]
    return ">".join(f"{t['epochs']}+{t['swa_epochs']}" for t in stages)


def print_report(result: dict[str, Any]) -> None:
    if not result["folds"]:
        print("no fold metrics yet (make cv DATA=arasl.npz writes them)")
        return
    print(f"folds {result['fold_numbers']} of {K}")
    if not result["same_training"]:
        print("WARNING: the folds were trained differently; their mean mixes recipes")
    for key in ("int8", "float", "int8_macro_f1"):
        spread = result[key]
        sd = "-" if spread["sd"] is None else f"{spread['sd']:.4f}"
        print(f"{key:<14} mean {spread['mean']:.4f}  sd {sd}")
    for views, spread in result["int8_views"].items():
        sd = "-" if spread["sd"] is None else f"{spread['sd']:.4f}"
        print(
            f"{'int8, ' + views:<14} mean {spread['mean']:.4f}  sd {sd}  ([classifier] views = "
            f"{views!r}; folds {spread['folds']}, whose int8 mean is "
            f"{spread['int8_same_folds']:.4f})"
        )
    print(
        f"\n{'fold':>4} {'epochs':>9} {'blocks':>6} {'rows':>5} {'int8':>7} {'float':>7} "
        f"{'F1':>6}  int8 95% interval"
    )
    for r in result["per_fold"]:
        low, high = r["int8_interval"]
        print(
            f"{r['fold']:>4} {_epochs(r['training']):>9} {r['test_blocks']:>6} "
            f"{r['test_rows']:>5} {r['int8']:>7.4f} {r['float']:>7.4f} "
            f"{r['int8_macro_f1']:>6.4f}  {low:.4f}-{high:.4f}"
        )
    print("\nworst sessions (fold, class, rows, int8 accuracy, most often read as):")
    for b in result["worst_blocks"]:
        rows = f"{b['first']}-{b['last']}"
        print(
            f"  {b['fold']} {b['class']:<8} {rows:<13} {b['accuracy']:6.1%}  "
            f"{b['mistaken_for'] or '-'}"
        )
    pooled = result["out_of_fold_int8"]
    print(
        f"\nout-of-fold int8, pooled: accuracy {pooled['accuracy']:.4f} on {pooled['n']} rows, "
        f"macro F1 {pooled['macro']['f1']:.4f}"
    )
    print(f"{'class':<8} {'n':>5} {'recall':>7} {'F1':>6}  most often read as")
    names = pooled["confusion"]["classes"]
    for i, name in enumerate(names):
        m = pooled["per_class"].get(name)
        if m is None or not m["n"]:
            continue
        row = np.array(pooled["confusion"]["matrix"][i])
        row[i] = 0
        other = f"{names[int(row.argmax())]} ({int(row.max())})" if row.any() else "-"
        print(f"{name:<8} {m['n']:>5} {m['recall']:>7.3f} {m['f1']:>6.3f}  {other}")
    print("(the full confusion matrix is in --json: out_of_fold_int8.confusion)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=Path, default=Path("models/folds"), metavar="DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--write-folds", type=Path, metavar="DATA_NPZ", help="write the fold lists and exit"
    )
    args = parser.parse_args(argv)
    if args.write_folds is not None:
        for path in write_folds(args.write_folds, args.folds):
            print(path)
        return 0
    result = report(load_folds(args.folds))
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False)
        print()
    else:
        print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
