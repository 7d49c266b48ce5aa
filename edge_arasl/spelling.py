"""Lexicon-aware word decoding: the most likely word given every letter's class probabilities.

The letter decoder keeps, for each letter of a word, the time-weighted mean of its smoothed
class probabilities. When the classifier confuses two similar hand shapes, the right letter
is usually still its second or third choice, and the letters' top choices spell a non-word
(``همر`` for ``قمر``). A reader fixes that at a glance; :class:`Speller` does it by a beam
search over the spellings the evidence allows, scored as

    score(w) = sum_i log p_i(w_i)  -  edit_cost * edits  +  weight * ln(10) * (zipf(w) - floor)

and ``- oov_cost`` in place of the last term for a spelling that is not in the lexicon,

- ``p_i`` is letter ``i``'s probability vector over the signs (``none`` left out,
  renormalised, floored at ``1e-4``), and only each letter's ``top_k`` signs are tried;
- a **dropped letter** may be put where a hand was in view for at least ``gap_s`` without
  giving a letter (before, between or after the word's letters: a sign the classifier could
  not read): any sign, for its log probability in those frames' mean probabilities
  (floored: a sign the classifier could not read is often none of its top choices) plus
  ``gap_bonus``. Between letters a hand is otherwise without a letter only
  for the blurred transition, so a long stretch is evidence that a letter was signed there;
- an *edit* is any other dropped letter (any sign the lexicon allows) or an extra one (a
  letter read twice, or a blur read as a letter), at ``edit_cost`` each, at most
  ``max_edits`` a word;
- ``zipf`` is the word's frequency in the lexicon, ``floor`` the rarest word's;
- ``oov_cost`` is what being no word at all costs beside the rarest listed word. Without it a
  misread common word, whose right letter the classifier gave a tenth of the wrong one's
  probability, stays misread: its frequency bonus alone is a nat or two.

The **character-level fallback** is the decoder's own reading (each letter's top sign), scored
the same way (``- oov_cost`` unless it is itself a word). A lexicon word replaces it only when
its score is higher, that is when being a word, and a frequent one, outweighs what its letters
cost: a confidently signed name outside the lexicon stays as it
was, a doubtful letter in a non-word is fixed. Ties keep the decoder's reading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge_arasl.labels import NONE_CLASS, SIGN_CLASSES
from edge_arasl.lexicon import Lexicon, decode, encode, sign_code
from edge_arasl.settings import bounded

__all__ = ["Speller", "WordSettings"]

#: Probability floor of a sign, so one near-zero letter cannot veto a whole word.
P_FLOOR = 1e-4
#: Scores closer than this are ties (kept as the decoder read them).
TIE = 1e-9


@dataclass(frozen=True)
class WordSettings:
    """The ``[decoder.words]`` table: spelling correction with an Arabic word list."""

    enabled: bool = True
    """Correct words with the lexicon (false: the letters as read, e.g. for spelling names)."""
    lexicon: str = ""
    """Word list file (one word a line, optionally a tab and its Zipf frequency); "" = the
    bundled wordfreq extract."""
    weight: float = bounded(0.5, ge=0, le=10)
    """Weight of the word frequency against the letters' log probabilities (0 = no prior)."""
    top_k: int = bounded(10, ge=1, le=len(SIGN_CLASSES))
    """Signs tried for each letter: its most probable ones."""
    beam: int = bounded(32, ge=1, le=1000)
    """Partial spellings kept at each letter."""
    gap_s: float = bounded(0.6, ge=0, le=10, unit="s")
    """A pause this long between two letters of a word may hold a dropped letter (0: never)."""
    gap_bonus: float = bounded(4.0, ge=-50, le=50, unit="nats")
    """Nats gained by putting a letter where such a stretch was (besides its log probability;
    negative: a cost)."""
    oov_cost: float = bounded(1.0, ge=0, le=50, unit="nats")
    """What a spelling outside the lexicon (a name) costs beside the rarest listed word."""
    max_edits: int = bounded(0, ge=0, le=3)
    """Other dropped or extra letters allowed in one word."""
    edit_cost: float = bounded(8.0, ge=0, le=50, unit="nats")
    """Cost of one such edit, in nats (8: like a letter at probability 0.0003)."""


@dataclass(frozen=True)
class Choice:
    """The speller's answer for one word."""

    classes: tuple[str, ...]
    corrected: bool
    score: float  # of the chosen spelling
    raw_score: float  # of the decoder's own reading


class Speller:
    """Chooses each word's spelling from its letters' probabilities and a lexicon."""

    def __init__(
        self, classes: Sequence[str], settings: WordSettings, lexicon: Lexicon | None = None
    ) -> None:
        self.classes = tuple(classes)
        self.settings = settings
        self.lexicon = lexicon if lexicon is not None else Lexicon.load(settings.lexicon or None)
        self._signs = [i for i, c in enumerate(self.classes) if c != NONE_CLASS]
        self._codes = [sign_code(self.classes[i]) for i in self._signs]
        self._all_codes = [c for c in self._codes if c is not None]
        self._index = {c: j for j, c in enumerate(self._codes) if c is not None}
        self._bonus = settings.weight * math.log(10.0)

    def log_probs(self, vector: np.ndarray) -> np.ndarray:
        """Log probabilities over the signs (``none`` left out, renormalised, floored)."""
        p = np.asarray(vector, dtype=np.float64)[self._signs]
        p = np.clip(np.nan_to_num(p, nan=0.0), 0.0, None)
        total = p.sum()
        p = p / total if total > 0 else np.full(len(p), 1.0 / len(p))
        return np.log(np.maximum(p, P_FLOOR))

    def choose(
        self,
        vectors: Sequence[np.ndarray],
        raw: Sequence[str],
        slots: Sequence[np.ndarray | None] | None = None,
    ) -> Choice:
        """The spelling to emit for letters ``vectors`` that the decoder read as ``raw``.

        ``slots[i]``, when given and not ``None``, is the mean probability vector of a hand
        in view without a letter before letter ``i`` (``slots[n]``: after the last one),
        where a dropped letter may go.
        """
        raw = tuple(raw)
        if not raw or not self.settings.enabled:
            return Choice(raw, False, 0.0, 0.0)
        if len(vectors) != len(raw) or (slots is not None and len(slots) != len(raw) + 1):
            raise ValueError(f"{len(raw)} letters need as many vectors and one slot more")
        logp = [self.log_probs(v) for v in vectors]
        slot_logp = [None if v is None else self.log_probs(v) for v in (slots or [])]
        raw_key = encode(raw)
        raw_letters = sum(
            float(lp[self._index[code]]) for code, lp in zip(raw_key, logp, strict=True)
        )
        raw_score = raw_letters + self._prior(raw_key)
        best_key, best = raw_key, raw_score
        for key, letters in self._search(logp, slot_logp):
            score = letters + self._prior(key)
            if score > best + TIE:
                best_key, best = key, score
        if best_key == raw_key:
            return Choice(raw, False, raw_score, raw_score)
        return Choice(decode(best_key), True, best, raw_score)

    # -- internals -------------------------------------------------------------------------

    def _prior(self, key: str) -> float:
        zipf = self.lexicon.words.get(key)
        if zipf is None:
            return -self.settings.oov_cost
        return self._bonus * (zipf - self.lexicon.floor)

    def _search(
        self, logp: list[np.ndarray], slot_logp: list[np.ndarray | None]
    ) -> list[tuple[str, float]]:
        """Lexicon words reachable from the letters: ``(key, letter score incl. edits)``."""
        s = self.settings
        prefixes = self.lexicon.prefixes
        # state: (prefix, edits) -> letter score (higher is better)
        beam: dict[tuple[str, int], float] = {("", 0): 0.0}
        if slot_logp and slot_logp[0] is not None:
            beam = self._fill_gap(beam, slot_logp[0])
        beam = self._insertions(beam)
        for i, lp in enumerate(logp, 1):
            top = np.argsort(-lp)[: s.top_k]
            nxt: dict[tuple[str, int], float] = {}
            for (prefix, edits), score in beam.items():
                for j in top:
                    code = self._codes[j]
                    if code is None or prefix + code not in prefixes:
                        continue
                    _keep(nxt, (prefix + code, edits), score + float(lp[j]))
                if edits < s.max_edits:  # this letter was not in the word (an extra one)
                    _keep(nxt, (prefix, edits + 1), score - s.edit_cost)
            gap = slot_logp[i] if i < len(slot_logp) else None
            if gap is not None:
                nxt = self._fill_gap(nxt, gap)
            beam = self._prune(self._insertions(nxt))
            if not beam:
                return []
        words = self.lexicon.words
        return [(prefix, score) for (prefix, _), score in beam.items() if prefix in words]

    def _fill_gap(
        self, beam: dict[tuple[str, int], float], lp: np.ndarray
    ) -> dict[tuple[str, int], float]:
        """Add, after each state, a letter read from a long pause (or none: the state stays)."""
        out = dict(beam)
        prefixes = self.lexicon.prefixes
        for (prefix, edits), score in beam.items():
            for j, code in enumerate(self._codes):
                if code is not None and prefix + code in prefixes:
                    gain = self.settings.gap_bonus + float(lp[j])
                    _keep(out, (prefix + code, edits), score + gain)
        return out

    def _insertions(self, beam: dict[tuple[str, int], float]) -> dict[tuple[str, int], float]:
        """Add one dropped letter after each state, where the lexicon allows it."""
        s = self.settings
        if s.max_edits == 0:
            return beam
        out = dict(beam)
        prefixes = self.lexicon.prefixes
        for (prefix, edits), score in beam.items():
            if edits >= s.max_edits:
                continue
            for code in self._all_codes:
                if prefix + code in prefixes:
                    _keep(out, (prefix + code, edits + 1), score - s.edit_cost)
        return out

    def _prune(self, beam: dict[tuple[str, int], float]) -> dict[tuple[str, int], float]:
        """Keep the ``beam`` states with the best score plus the best word they could become."""
        if len(beam) <= self.settings.beam:
            return beam
        prefixes, floor = self.lexicon.prefixes, self.lexicon.floor
        ranked = sorted(
            beam.items(),
            key=lambda item: item[1] + self._bonus * (prefixes[item[0][0]] - floor),
            reverse=True,
        )
        return dict(ranked[: self.settings.beam])


def _keep(states: dict[tuple[str, int], float], key: tuple[str, int], score: float) -> None:
    if score > states.get(key, -math.inf):
        states[key] = score
