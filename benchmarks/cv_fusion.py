"""The landmark fusion over the cross-validation folds of one run: a fused CV figure.

Reads the ``fold{k}_fusion_one_view.json`` / ``fold{k}_fusion_three_views.json`` that
``edge-arasl train-landmarks --split models/folds/fold{k}.json --cnn-model ... --choose-with
...`` wrote (its ``report.json``; ``models/folds/README.md``) and prints, per fold and as the
mean and SD over the folds, the fold's CNN alone and fused three ways::

    python benchmarks/cv_fusion.py --folds models/folds/run3b [--json]

- ``own w``: the weight each fold chose on its own validation blocks (what a fold's run does);
- ``pooled w``: one weight for every fold, the best of the validation curves pooled over all
  folds' validation blocks (row-weighted), so more blocks choose it;
- ``daemon w``: the shipped landmark model's weight (``models/landmarks_mlp.json``), which was
  chosen on the shipped split's validation blocks, some of which are in each fold's test
  blocks: a curve read, not a clean figure.

Every weight is chosen on validation blocks only; the test curves are read at it afterwards.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cv_report import load_folds, spread

from edge_arasl.landmark_classifier import DEFAULT_MODEL_PATH, load_metadata

#: ``[classifier] views`` -> the name of its reports (``fold{k}_fusion_{name}.json``).
VIEWS = {"one": "one_view", "scales": "three_views"}
#: The figures given per fold and as mean and SD over the folds, in the printed order.
COLUMNS = ("cnn", "fused_own_weight", "fused_pooled_weight", "fused_daemon_weight")


def pooled_weight(reports: dict[int, dict[str, Any]]) -> float:
    """The weight best on every fold's validation curve pooled, each weighted by its rows."""
    weights = sorted(reports[min(reports)]["validation_fusion_curve"], key=float)
    total = {
        w: sum(r["validation"]["rows"] * r["validation_fusion_curve"][w] for r in reports.values())
        for w in weights
    }
    return float(max(weights, key=lambda w: (total[w], -float(w))))  # ties: the lighter weight


def _at(report: dict[str, Any], weight: float) -> float:
    curve = report["test_fusion_curve_not_used_for_any_choice"]
    return float(next(v for w, v in curve.items() if abs(float(w) - weight) < 1e-9))


def summary(reports: dict[int, dict[str, Any]], daemon_weight: float) -> dict[str, Any]:
    """Per fold and over the folds: CNN alone, fused at each fold's own, the pooled and the
    daemon's weight."""
    pooled = pooled_weight(reports)
    rows = {
        k: {
            "cnn": r["test"]["cnn"],
            "own_weight": r["fusion_weight"],
            "fused_own_weight": r["test"]["fused"],
            "fused_pooled_weight": _at(r, pooled),
            "fused_daemon_weight": _at(r, daemon_weight),
        }
        for k, r in sorted(reports.items())
    }
    return {
        "folds": sorted(rows),
        "pooled_weight": pooled,
        "daemon_weight": daemon_weight,
        "per_fold": rows,
        **{c: spread([row[c] for row in rows.values()]) for c in COLUMNS},
    }


def _print(views: str, result: dict[str, Any]) -> None:
    print(
        f"views {views!r}: folds {result['folds']}, pooled-validation w = "
        f"{result['pooled_weight']:g}, daemon w = {result['daemon_weight']:g}"
    )
    print("fold     CNN  own w  fused  pooled w  daemon w")
    for k, row in result["per_fold"].items():
        print(
            f"{k:>4}  {row['cnn']:.4f}  {row['own_weight']:5.2f}  {row['fused_own_weight']:.4f}"
            f"    {row['fused_pooled_weight']:.4f}    {row['fused_daemon_weight']:.4f}"
        )
    cells = [result[c] for c in COLUMNS]
    means = "  ".join(f"{c['mean']:.4f}" for c in cells)
    sds = "  ".join("     -" if c["sd"] is None else f"{c['sd']:.4f}" for c in cells)
    print(f"mean  {means}\nsd    {sds}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=Path, required=True, metavar="DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    daemon = load_metadata(DEFAULT_MODEL_PATH.with_suffix(".json")).fusion_weight
    results = {}
    for views in VIEWS:
        reports = load_folds(args.folds, f"_fusion_{VIEWS[views]}.json")
        if reports:
            results[views] = summary(reports, daemon)
    if not results:
        parser.error(f"no fold*_fusion_*.json in {args.folds}")
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for views, result in results.items():
            _print(views, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
