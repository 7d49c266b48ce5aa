"""Arabic shaping and direction: rendered pixels, on both layout engines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from edge_arasl_plugins import arabic_text
from edge_arasl_plugins.arabic_text import ArabicTextRenderer, find_font, has_raqm

from edge_arasl.plugin import PluginError

ENGINES = [
    pytest.param(
        "raqm", marks=pytest.mark.skipif(not has_raqm(), reason="this Pillow has no raqm")
    ),
    "basic",
]


def components(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(left, right)`` ink columns of each connected glyph component, left to right."""
    n, _labels, stats, _ = cv2.connectedComponentsWithStats((mask > 127).astype(np.uint8), 8)
    boxes = [(int(s[0]), int(s[0] + s[2])) for s in stats[1:n] if s[4] >= 4]  # skip specks
    return sorted(boxes)


def layout_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Share of either mask's ink lying within a pixel of the other's (1.0: same layout)."""
    width = min(a.shape[1], b.shape[1])
    ink_a, ink_b = (a[:, :width] > 127).astype(np.uint8), (b[:, :width] > 127).astype(np.uint8)
    near = np.ones((3, 3), np.uint8)
    a_in_b = (ink_a & cv2.dilate(ink_b, near)).sum() / ink_a.sum()
    b_in_a = (ink_b & cv2.dilate(ink_a, near)).sum() / ink_b.sum()
    return float(min(a_in_b, b_in_a))


def ink_width(mask: np.ndarray) -> int:
    cols = np.flatnonzero((mask > 127).any(axis=0))
    return int(cols[-1] - cols[0] + 1)


@pytest.fixture(scope="module")
def font():
    return find_font()


@pytest.mark.parametrize("engine", ENGINES)
def test_salam_is_joined_and_right_to_left(font, engine):
    r = ArabicTextRenderer(font, 48, engine)
    joined = components(r.mask("سلام"))
    isolated = components(r.mask("س ل ا م"))
    assert len(isolated) == 4
    assert len(joined) == 2  # سلا joined (alef never joins leftwards), then م
    # right to left: the first letters are the rightmost component, the last one leftmost
    (m_left, m_right), (sla_left, sla_right) = joined
    assert abs((sla_right - sla_left) - ink_width(r.mask("سلا"))) <= 2
    assert abs((m_right - m_left) - ink_width(r.mask("م"))) <= 2
    assert sla_left >= m_right - 2


@pytest.mark.skipif(not has_raqm(), reason="this Pillow has no raqm")
@pytest.mark.parametrize("text", ["سلام", "مدد", "لا", "شكرا", "السلام عليكم", "ة"])
def test_raqm_and_fallback_layouts_match(font, text):
    raqm = ArabicTextRenderer(font, 40, "raqm").mask(text)
    basic = ArabicTextRenderer(font, 40, "basic").mask(text)
    assert abs(raqm.shape[1] - basic.shape[1]) <= 2 and raqm.shape[0] == basic.shape[0]
    assert layout_agreement(raqm, basic) > 0.9  # the same glyphs in the same places
    assert len(components(raqm)) == len(components(basic))


def test_drawing_reshaped_text_through_raqm_would_be_caught(font):
    """Guards the tests above: the mistake they exist for gives a visibly different layout."""
    if not has_raqm():
        pytest.skip("this Pillow has no raqm")
    raqm = ArabicTextRenderer(font, 48, "raqm")
    wrong = raqm.mask(ArabicTextRenderer(font, 48, "basic").visual("سلام"))
    right = raqm.mask("سلام")
    assert layout_agreement(wrong, right) < 0.8
    assert components(wrong)[0][1] - components(wrong)[0][0] > ink_width(raqm.mask("م")) + 5


def test_fallback_engine_when_pillow_has_no_raqm(font, monkeypatch):
    monkeypatch.setattr(arabic_text, "has_raqm", lambda: False)
    assert ArabicTextRenderer(font, 20).engine == "basic"
    with pytest.raises(PluginError, match="no raqm"):
        ArabicTextRenderer(font, 20, "raqm")


def test_masks_are_cached_and_read_only(font):
    r = ArabicTextRenderer(font, 24)
    mask = r.mask("مدد")
    assert r.mask("مدد") is mask
    assert not mask.flags.writeable
    assert mask.shape[0] == r.height == r.mask("ا").shape[0]  # one baseline for all strings


def test_visual_string_is_only_reshaped_for_the_basic_engine(font):
    basic = ArabicTextRenderer(font, 20, "basic")
    assert basic.visual("لا") == "\ufefb"  # lam-alef ligature, a presentation form
    assert basic.visual("87%") == "87%"
    if has_raqm():
        assert ArabicTextRenderer(font, 20, "raqm").visual("لا") == "لا"


def test_font_search_prefers_arabic_fonts(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("DejaVuSans.ttf", "NotoSansArabic-Regular.ttf", "Other.ttf"):
        (tmp_path / "a" / "b" / name).write_bytes(b"")
    assert find_font("", [str(tmp_path)]).name == "NotoSansArabic-Regular.ttf"
    assert find_font("Other.ttf", [str(tmp_path)]) == tmp_path / "a" / "b" / "Other.ttf"


def test_no_font_names_the_packages_to_install(tmp_path):
    with pytest.raises(PluginError, match="apt install fonts-noto-core fonts-dejavu-core"):
        find_font("", [str(tmp_path)])
    with pytest.raises(PluginError, match=r"'nope\.ttf' not found"):
        find_font("nope.ttf", [str(tmp_path)])


def test_unreadable_font_file_is_a_plugin_error(tmp_path):
    bad = tmp_path / "bad.ttf"
    bad.write_bytes(b"not a font")
    with pytest.raises(PluginError, match="cannot load font"):
        ArabicTextRenderer(bad, 20)
