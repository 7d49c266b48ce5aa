"""benchmarks/cv_fusion.py: one fusion weight chosen on every fold's validation blocks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "cv_fusion.py"
WEIGHTS = ("0", "0.1", "0.2", "0.25")


def fold_report(rows: int, validation: list[float], test: list[float]) -> dict:
    """What ``train-landmarks`` writes, cut to what the report reads."""
    own = max(range(len(WEIGHTS)), key=lambda i: validation[i])
    return {
        "fusion_weight": float(WEIGHTS[own]),
        "validation": {"rows": rows},
        "validation_fusion_curve": dict(zip(WEIGHTS, validation, strict=True)),
        "test": {"cnn": test[0], "fused": test[own]},
        "test_fusion_curve_not_used_for_any_choice": dict(zip(WEIGHTS, test, strict=True)),
    }


def run(folder: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(SCRIPT), "--folds", str(folder), "--json"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_the_pooled_weight_is_best_over_all_validation_rows(tmp_path):
    # fold 0 alone prefers 0.1, fold 1 (three times the rows) 0.2: pooled, 0.2 wins
    reports = {
        0: fold_report(100, [0.90, 0.95, 0.94, 0.80], [0.91, 0.93, 0.96, 0.90]),
        1: fold_report(300, [0.90, 0.91, 0.93, 0.92], [0.89, 0.90, 0.94, 0.93]),
    }
    for k, report in reports.items():
        (tmp_path / f"fold{k}_fusion_three_views.json").write_text(json.dumps(report))
    result = run(tmp_path)
    assert result.returncode == 0, result.stderr
    scales = json.loads(result.stdout)["scales"]
    assert list(json.loads(result.stdout)) == ["scales"]  # no one-view reports: no section
    assert scales["folds"] == [0, 1] and scales["pooled_weight"] == 0.2
    assert scales["per_fold"]["0"]["own_weight"] == 0.1
    assert scales["fused_own_weight"]["mean"] == round((0.93 + 0.94) / 2, 4)
    assert scales["fused_pooled_weight"]["mean"] == round((0.96 + 0.94) / 2, 4)
    assert scales["cnn"]["mean"] == 0.9


def test_a_folder_without_reports_is_an_error(tmp_path):
    result = run(tmp_path)
    assert result.returncode == 2
    assert f"no fold*_fusion_*.json in {tmp_path}" in result.stderr
