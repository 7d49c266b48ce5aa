"""The Arabic word list of the spelling corrector, keyed by the ArASL signs that spell each word.

Fingerspelling spells letters, not the written word: hamza forms are signed with their base
letter, ``ال`` at the start of a word and ``لا`` anywhere are one sign each, and diacritics
are not signed (:func:`edge_arasl.demo.text_to_classes`). So a word list is turned into sign
sequences once, at load time; written forms that are signed alike (``أن``, ``إن``, ``ان``)
become one entry whose frequency is the sum of theirs.

The bundled list, ``models/lexicon_ar.txt``, is an extract of the wordfreq package's Arabic
list (CC BY-SA 4.0, ``models/LEXICON.md``). A file of one's own has one word a line, optionally
followed by a tab and its Zipf frequency (log10 of uses per billion words; 4 if left out);
``#`` starts a comment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

from edge_arasl.errors import UserError
from edge_arasl.labels import SIGN_CLASSES

__all__ = ["DEFAULT_ZIPF", "Lexicon", "default_lexicon_path", "spell"]

#: Zipf frequency of a word listed without one.
DEFAULT_ZIPF = 4.0

#: One character per sign, so a sign sequence is a short string (cheap to hash and slice).
_CODE = {c: chr(0x41 + i) for i, c in enumerate(SIGN_CLASSES)}
_SIGN = {v: k for k, v in _CODE.items()}


def spell(word: str) -> tuple[str, ...]:
    """The signs that fingerspell one written word; :class:`UserError` if it is not one."""
    from edge_arasl.demo import text_to_classes  # the one rule for text -> signs

    words = text_to_classes(word)
    if len(words) != 1:
        raise UserError(f"{word!r} is not one word")
    return tuple(words[0])


def default_lexicon_path() -> Path:
    """The bundled list (``models/lexicon_ar.txt``)."""
    return Path(str(resources.files("edge_arasl_models") / "lexicon_ar.txt"))


class Lexicon:
    """Sign sequences with their Zipf frequencies, and the best frequency under each prefix.

    The prefix table lets a beam search drop a partial spelling as soon as no word starts with
    it, and rank partial spellings by the most frequent word they could still become.
    """

    def __init__(self, entries: Iterable[tuple[tuple[str, ...], float]]) -> None:
        per_use: dict[str, float] = {}
        for signs, zipf in entries:
            key = encode(signs)
            per_use[key] = per_use.get(key, 0.0) + 10.0**zipf
        if not per_use:
            raise ValueError("a lexicon needs at least one word")
        self.words: dict[str, float] = {k: math.log10(v) for k, v in per_use.items()}
        self.floor = min(self.words.values())  # the rarest word: what "unknown" is worth
        self.prefixes: dict[str, float] = {}
        for key, zipf in self.words.items():
            for i in range(len(key) + 1):
                prefix = key[:i]
                if self.prefixes.get(prefix, -math.inf) < zipf:
                    self.prefixes[prefix] = zipf

    def __len__(self) -> int:
        return len(self.words)

    def zipf(self, signs: tuple[str, ...] | list[str]) -> float | None:
        """The Zipf frequency of a sign sequence, ``None`` if it is not a word of the list."""
        return self.words.get(encode(signs))

    @classmethod
    def load(cls, path: str | Path | None = None) -> Lexicon:
        """Read a word list (default: the bundled one, read once and shared)."""
        if path is None or str(path) == "":
            return _default()
        return cls(_read(Path(path)))


@lru_cache(maxsize=1)
def _default() -> Lexicon:
    return Lexicon(_read(default_lexicon_path()))


def encode(signs: Iterable[str]) -> str:
    return "".join(_CODE[s] for s in signs)


def decode(key: str) -> tuple[str, ...]:
    return tuple(_SIGN[ch] for ch in key)


def sign_code(sign: str) -> str | None:
    """The one-character code of a sign (``None`` for ``none`` or an unknown id)."""
    return _CODE.get(sign)


def _read(path: Path) -> list[tuple[tuple[str, ...], float]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read the word list: {exc}") from None
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, zipf_text = line.partition("\t")
        try:
            zipf = float(zipf_text) if zipf_text.strip() else DEFAULT_ZIPF
            if not 0 <= zipf <= 10:
                raise ValueError(f"Zipf frequency {zipf} outside 0-10")
            entries.append((spell(word.strip()), zipf))
        except (UserError, ValueError) as exc:
            message = str(exc).removeprefix("--text: ")
            raise UserError(f"{path}:{number}: {message}") from None
    if not entries:
        raise UserError(f"{path}: no words in the word list")
    return entries
