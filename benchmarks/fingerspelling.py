"""Random texts to spell and the edit distances that score them, shared by the benchmarks.

Imported by ``tune_decoder.py`` and ``bench_scenes.py`` (run as scripts, so ``benchmarks/``
is on the path).
"""

from __future__ import annotations

from collections.abc import Iterable

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


def boundary_errors(truth: list[list[str]], got: list[list[str]]) -> int:
    """Word-boundary errors: edit distance of the letters-per-word counts."""
    return align([str(len(w)) for w in truth], [str(len(w)) for w in got])[0]
