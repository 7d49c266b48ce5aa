"""Class ids and their Arabic text (edge_arasl.labels), and the shipped model's class order."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from edge_arasl.labels import (
    ARABIC,
    MODEL_CLASSES,
    NONE_CLASS,
    SIGN_CLASSES,
    join_classes,
    text_for,
)


def test_32_signs_then_none() -> None:
    assert len(SIGN_CLASSES) == 32
    assert len(set(SIGN_CLASSES)) == 32
    assert list(SIGN_CLASSES) == sorted(SIGN_CLASSES)  # the data set's folder order
    assert (*SIGN_CLASSES, NONE_CLASS) == MODEL_CLASSES
    assert NONE_CLASS == "none"


@pytest.mark.parametrize(
    ("class_id", "text"),
    [
        ("ta", "\u0637"),  # ط, not ت: some public projects swap ta and taa
        ("taa", "\u062a"),  # ت
        ("toot", "\u0629"),  # ة
        ("al", "\u0627\u0644"),  # ال
        ("la", "\u0644\u0627"),  # لا
        ("aleff", "\u0627"),  # ا
        ("yaa", "\u064a"),  # ي
        ("ya", "\u0649"),  # ى
    ],
)
def test_confusable_classes_map_to_the_right_letters(class_id: str, text: str) -> None:
    assert text_for(class_id) == text


def test_every_class_has_text_and_signs_are_distinct_arabic_letters() -> None:
    assert set(ARABIC) == set(MODEL_CLASSES)
    sign_texts = [text_for(c) for c in SIGN_CLASSES]
    assert len(set(sign_texts)) == 32
    for class_id, text in zip(SIGN_CLASSES, sign_texts, strict=True):
        assert 1 <= len(text) <= 2, class_id
        assert all(unicodedata.name(ch).startswith("ARABIC LETTER") for ch in text), class_id
    assert text_for(NONE_CLASS) == ""


def test_unknown_class_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        text_for("alef")


def test_join_classes_gives_logical_order_text() -> None:
    assert join_classes(["seen", "la", "meem"]) == "\u0633\u0644\u0627\u0645"  # سلام
    assert join_classes(("al", "bb", "ya", "taa")) == "\u0627\u0644\u0628\u0649\u062a"
    assert join_classes([]) == ""


def test_shipped_model_outputs_the_label_module_classes_in_order(shipped_model: Path) -> None:
    metadata = json.loads(shipped_model.with_suffix(".json").read_text(encoding="utf-8"))
    assert tuple(metadata["classes"]) == MODEL_CLASSES
    assert metadata["input"]["size"] == 64
    assert metadata["input"]["color"] == "gray"
    assert metadata["input"]["scale"] == pytest.approx(1 / 255)
