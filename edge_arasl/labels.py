"""ArASL class ids and the Arabic text each one stands for.

Class ids are the data set's folder names. Watch ``ta`` / ``taa``: ``ta`` is ط and ``taa`` is
ت (some public projects swap them). ``ya`` and ``yaa`` follow the data set's reference chart:
``ya`` ("Yā", thumb + little finger) is drawn there as ى/ئ and ``yaa`` ("Yāa", index finger and
thumb pointing sideways) as ي; sources disagree on which of the two is plain ي, so treat the
exact letter of these two as uncertain. ``al`` and ``la`` are two-letter signs.
"""

from __future__ import annotations

#: Sign classes in the data set's order (sorted folder names).
SIGN_CLASSES: tuple[str, ...] = (
    "ain", "al", "aleff", "bb", "dal", "dha", "dhad", "fa", "gaaf", "ghain", "ha", "haa",
    "jeem", "kaaf", "khaa", "la", "laam", "meem", "nun", "ra", "saad", "seen", "sheen",
    "ta", "taa", "thaa", "thal", "toot", "waw", "ya", "yaa", "zay",
)  # fmt: skip

#: The synthetic class for "no sign in view" (background, empty region, motion blur).
NONE_CLASS = "none"

#: Model output order: the 32 signs, then ``none``.
MODEL_CLASSES: tuple[str, ...] = (*SIGN_CLASSES, NONE_CLASS)

ARABIC: dict[str, str] = {
    "aleff": "ا",
    "bb": "ب",
    "taa": "ت",
    "thaa": "ث",
    "jeem": "ج",
    "haa": "ح",
    "khaa": "خ",
    "dal": "د",
    "thal": "ذ",
    "ra": "ر",
    "zay": "ز",
    "seen": "س",
    "sheen": "ش",
    "saad": "ص",
    "dhad": "ض",
    "ta": "ط",
    "dha": "ظ",
    "ain": "ع",
    "ghain": "غ",
    "fa": "ف",
    "gaaf": "ق",
    "kaaf": "ك",
    "laam": "ل",
    "meem": "م",
    "nun": "ن",
    "ha": "ه",
    "waw": "و",
    "ya": "ى",
    "yaa": "ي",
    "toot": "ة",
    "al": "ال",
    "la": "لا",
    NONE_CLASS: "",
}


def text_for(class_id: str) -> str:
    """Arabic text of a class id (empty for ``none``); raises KeyError for an unknown id."""
    return ARABIC[class_id]


def join_classes(class_ids: list[str] | tuple[str, ...]) -> str:
    """Logical-order Arabic text of a letter sequence (never reshaped: shaping is for drawing)."""
    return "".join(ARABIC[c] for c in class_ids)
