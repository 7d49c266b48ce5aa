"""Acceptance: the committed demo video decodes to its truth (CER <= 3%, right word breaks).

``examples/demo.mp4`` was made by ``edge-arasl make-demo --seed 3`` from held-out sample images
the model never saw in training (``examples/demo.json`` is its truth; docs/pipeline.md says why
seed 3: a regression check, not a measurement). It spells "السلام عليكم
مدد": both two-letter signs (ال, لا) and a repeated letter (the two dal of مدد).
"""

from __future__ import annotations

import json
from pathlib import Path

from edge_arasl.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def with_breaks(words: list[list[str]]) -> list[str]:
    return [token for word in words for token in [*word, " "]][:-1]


def test_edit_distance():
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], ["a"]) == 1 and edit_distance(["a"], ["a"]) == 0


def test_the_demo_video_decodes_to_its_truth(capsys):
    truth = json.loads((EXAMPLES / "demo.json").read_text(encoding="utf-8"))
    assert main(["process", str(EXAMPLES / "demo.mp4"), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    decoded = [r["classes"] for r in records if r["type"] == "word"]
    expected = truth["words"]
    letters_decoded = [c for w in decoded for c in w]
    letters_expected = [c for w in expected for c in w]
    cer = edit_distance(letters_decoded, letters_expected) / len(letters_expected)
    report = f"decoded {decoded}\nexpected {expected}"
    assert cer <= 0.03, f"CER {cer:.1%}\n{report}"
    # Word breaks in the right places: counting them as tokens adds no error.
    assert len(decoded) == len(expected), report
    assert edit_distance(with_breaks(decoded), with_breaks(expected)) == edit_distance(
        letters_decoded, letters_expected
    ), report
    assert ["meem", "dal", "dal"] in decoded, report  # the repeated letter, twice
