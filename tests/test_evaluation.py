"""Scores of edge_arasl.evaluation against a small example worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_arasl.evaluation import (
    block_interval,
    block_scores,
    evaluate_predictions,
    format_report,
)

CLASSES = ("a", "b", "c")
# true a a a b b c / predicted a a b b c c -> confusion [[2,1,0],[0,1,1],[0,0,1]]
TRUE = [0, 0, 0, 1, 1, 2]
PRED = [0, 0, 1, 1, 2, 2]


def test_confusion_accuracy_and_per_class_match_hand_computation() -> None:
    report = evaluate_predictions(TRUE, PRED, CLASSES)
    assert report.confusion.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert report.n == 6
    assert report.accuracy == pytest.approx(4 / 6)
    a, b, c = (report.per_class[k] for k in CLASSES)
    assert (a["precision"], a["recall"], a["f1"], a["n"]) == pytest.approx((1.0, 2 / 3, 0.8, 3))
    assert (b["precision"], b["recall"], b["f1"], b["n"]) == pytest.approx((0.5, 0.5, 0.5, 2))
    assert (c["precision"], c["recall"], c["f1"], c["n"]) == pytest.approx((0.5, 1.0, 2 / 3, 1))
    assert report.macro["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_classes_absent_from_truth_and_predictions_are_left_out() -> None:
    # Only class a is in the data; one sample is mistaken for d; b and c take no part.
    report = evaluate_predictions([0, 0, 0, 0], [0, 0, 0, 3], ("a", "b", "c", "d"))
    assert list(report.per_class) == ["a", "d"]
    assert report.per_class["a"] == pytest.approx(
        {"precision": 1, "recall": 0.75, "f1": 6 / 7, "n": 4}
    )
    assert report.per_class["d"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "n": 0}
    assert report.macro["recall"] == pytest.approx(0.75)  # d has no true samples: not averaged


def test_to_dict_is_json_ready() -> None:
    report = evaluate_predictions(np.array(TRUE), np.array(PRED), list(CLASSES))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["accuracy"] == pytest.approx(0.6667)
    assert data["n"] == 6
    assert set(data["per_class"]["b"]) == {"precision", "recall", "f1", "n"}
    assert data["confusion"]["classes"] == list(CLASSES)
    assert data["confusion"]["matrix"][0] == [2, 1, 0]


def test_mismatched_or_out_of_range_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="3 true labels but 2"):
        evaluate_predictions([0, 1, 2], [0, 1], CLASSES)
    with pytest.raises(ValueError, match="predicted class index out of range"):
        evaluate_predictions([0, 1], [0, 3], CLASSES)


def test_empty_input_scores_zero_without_dividing_by_zero() -> None:
    report = evaluate_predictions([], [], CLASSES)
    assert (report.n, report.accuracy, report.per_class) == (0, 0.0, {})


def test_format_report_lists_each_class_and_the_accuracy() -> None:
    table = format_report(evaluate_predictions(TRUE, PRED, CLASSES), {"a": "ا"})
    lines = table.splitlines()
    assert lines[1].split()[:3] == ["a", "ا", "3"]
    assert lines[-1] == "accuracy 0.6667 (4/6)"


def test_block_scores_split_the_rows_block_by_block() -> None:
    # TRUE is a a a b b c: blocks "a" rows 10-12, "b" 40-41, "c" 7-7 in that order
    blocks = [("a", 10, 12), ("b", 40, 41), ("c", 7, 7)]
    scores = block_scores(np.array(TRUE), np.array(PRED), blocks, CLASSES)
    assert [(s["class"], s["first"], s["last"], s["n"]) for s in scores] == [
        ("a", 10, 12, 3),
        ("b", 40, 41, 2),
        ("c", 7, 7, 1),
    ]
    assert [s["correct"] for s in scores] == [2, 1, 1]
    assert [s["accuracy"] for s in scores] == pytest.approx([2 / 3, 0.5, 1.0], abs=1e-4)
    assert [s["mistaken_for"] for s in scores] == ["b", "c", None]
    with pytest.raises(ValueError, match="the blocks hold 5 rows"):
        block_scores(np.array(TRUE), np.array(PRED), blocks[:2], CLASSES)


def test_block_interval_widens_with_one_bad_session_and_is_reproducible() -> None:
    perfect = [{"n": 70, "correct": 70}] * 20
    assert block_interval(perfect) == (1.0, 1.0)
    one_bad = [*perfect[:19], {"n": 70, "correct": 10}]
    low, high = block_interval(one_bad)
    assert low < 1290 / 1400 < high == 1.0  # overall accuracy inside; no bad block drawn
    assert block_interval(one_bad) == (low, high)
    narrow_low, _ = block_interval(one_bad, level=0.5)
    assert low < narrow_low
