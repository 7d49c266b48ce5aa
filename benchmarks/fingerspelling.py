"""Random texts to spell and the edit distances that score them, shared by the benchmarks.

Imported by ``tune_decoder.py``, ``bench_scenes.py`` and ``bench_spelling.py`` (run as
scripts, so ``benchmarks/`` is on the path). :func:`export_validation_images` gives them sign
images the shipped model was trained without, to choose settings on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from edge_arasl.labels import ARABIC, SIGN_CLASSES


def random_text(
    rng: np.random.Generator, n_words: int, doubled: bool, signs: Iterable[str] | None = None
) -> str:
    """``n_words`` random words of 2-5 letters; with ``doubled`` the first has a repeat.

    Letters come from ``signs`` (default: every sign written with one character); a ``ل``
    before ``ا`` is then spelled as the ``la`` sign, so the truth is what
    :func:`edge_arasl.demo.text_to_classes` makes of the text.
    """
    pool = [c for c in (SIGN_CLASSES if signs is None else signs) if len(ARABIC[c]) == 1]
    words = []
    for w in range(n_words):
        letters = [str(c) for c in rng.choice(pool, size=int(rng.integers(2, 6)))]
        if doubled and w == 0:  # a repeated letter, as in "مدد"
            i = int(rng.integers(len(letters)))
            letters.insert(i, letters[i])
        words.append("".join(ARABIC[c] for c in letters))
    return " ".join(words)


def align(truth: list[str], got: list[str]) -> tuple[int, list[tuple[int, int]]]:
    """Levenshtein distance and the matched ``(truth index, got index)`` pairs."""
    n, m = len(truth), len(got)
    d = np.zeros((n + 1, m + 1), np.int32)
    d[:, 0] = np.arange(n + 1)
    d[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = d[i - 1, j - 1] + (truth[i - 1] != got[j - 1])
            d[i, j] = min(sub, d[i - 1, j] + 1, d[i, j - 1] + 1)
    pairs, i, j = [], n, m
    while i > 0 and j > 0:
        if d[i, j] == d[i - 1, j - 1] + (truth[i - 1] != got[j - 1]):
            if truth[i - 1] == got[j - 1]:
                pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif d[i, j] == d[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return int(d[n, m]), pairs[::-1]


def boundary_errors(truth: Sequence[Sequence[str]], got: Sequence[Sequence[str]]) -> int:
    """Word-boundary errors: edit distance of the letters-per-word counts."""
    return align([str(len(w)) for w in truth], [str(len(w)) for w in got])[0]


def export_validation_images(
    data: Path, out: Path, per_class: int, fold_split: Path | None = None
) -> Path:
    """Write ``per_class`` images of each class's validation blocks as ``out/<class>/*.png``.

    The blocks are those the shipped model was trained without (``models/split.json``). With
    ``fold_split`` (a cross-validation fold list, ``models/folds/foldK.json``) they are that
    fold's test blocks less the shipped model's test blocks: read by the fold's model, they are
    sessions it never saw, so it misreads them as a new signer is misread, and the test blocks
    that score the shipped settings stay out of the choice.
    """
    from edge_arasl.dataset import load_dataset

    split = json.loads((resources.files("edge_arasl_models") / "split.json").read_text())
    blocks = [tuple(b) for b in split["val_blocks"]]
    if fold_split is not None:
        held_out = {tuple(b) for b in split["test_blocks"]}
        fold = json.loads(fold_split.read_text())
        blocks = [tuple(b) for b in fold["test_blocks"] if tuple(b) not in held_out]
    ds = load_dataset(data)
    rng = np.random.default_rng(0)
    rows_of: dict[str, list[int]] = {}
    for name, first, last in blocks:
        rows_of.setdefault(str(name), []).extend(range(int(first), int(last) + 1))
    for name, rows in rows_of.items():
        if name not in SIGN_CLASSES:
            continue
        (out / name).mkdir(parents=True, exist_ok=True)
        for row in rng.choice(rows, size=min(per_class, len(rows)), replace=False):
            assert ds.classes[ds.labels[row]] == name, f"row {row} is not {name}"
            cv2.imwrite(str(out / name / f"{row}.png"), ds.images[row])
    return out
