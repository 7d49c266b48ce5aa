"""Arabic text as pixels: a font with Arabic glyphs and correctly shaped, right-to-left masks.

Arabic letters change shape with their neighbours and run right to left. Pillow does both when
it is built with raqm (HarfBuzz + FriBiDi): draw the raw text. Without raqm the text is shaped
by ``arabic_reshaper`` (presentation forms) and reordered by ``python-bidi``, then drawn with
the basic layout engine. Exactly one of the two happens: reshaped text drawn through raqm comes
out reversed. Shaped strings only ever become pixels here; events and payloads keep the raw
Unicode text.

Masks are cached, so a frame loop that draws the same few strings pays for Pillow once.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from edge_arasl.plugin import PluginError, bounded

#: Fonts with Arabic glyphs, best first, and the Debian package that ships each.
FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("NotoNaskhArabic-Regular.ttf", "fonts-noto-core"),
    ("NotoSansArabic-Regular.ttf", "fonts-noto-core"),
    ("DejaVuSans.ttf", "fonts-dejavu-core"),
)

#: Where fonts live on Debian / Raspberry Pi OS and in a user's home.
FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)

Engine = Literal["auto", "raqm", "basic"]


@dataclass(frozen=True)
class TextSettings:
    """The text-drawing keys of every plugin that draws the overlay (``[overlay]``, ``[video]``)."""

    #: Font file (path or installed file name); empty: the best installed Arabic font.
    font: str = ""
    #: "auto" (raqm when Pillow has it), "raqm" or "basic" (arabic_reshaper + python-bidi).
    text_engine: Engine = "auto"
    #: How many finished words stay on screen beside the word being signed.
    last_words: int = bounded(3, ge=0, le=20)


def has_raqm() -> bool:
    """Whether this Pillow can shape and reorder text itself."""
    return bool(features.check("raqm"))


def find_font(font: str = "", search_dirs: Iterable[str] = FONT_DIRS) -> Path:
    """The font to draw with: ``font`` (a path or a file name) if given, else the best installed.

    Raises :class:`PluginError` naming the apt packages to install when nothing usable exists.
    """
    dirs = tuple(os.path.expanduser(d) for d in search_dirs)
    if font:
        path = Path(font).expanduser()
        if path.is_file():
            return path
        if path.name == font:  # a bare file name: look for it among the installed fonts
            found = _installed_fonts(dirs).get(font)
            if found:
                return found
        raise PluginError(f"font {font!r} not found (give a path to a .ttf/.otf file)")
    installed = _installed_fonts(dirs)
    for name, _package in FONT_CANDIDATES:
        if name in installed:
            return installed[name]
    packages = " ".join(dict.fromkeys(pkg for _name, pkg in FONT_CANDIDATES))
    raise PluginError(
        f"no font with Arabic glyphs found in {', '.join(dirs)}; "
        f"install one (apt install {packages}) or set the 'font' option to a .ttf file"
    )


@lru_cache(maxsize=8)
def _installed_fonts(dirs: tuple[str, ...]) -> dict[str, Path]:
    """File name -> path of every font file under ``dirs`` (first one found wins)."""
    found: dict[str, Path] = {}
    for top in dirs:
        for root, _subdirs, files in os.walk(top):
            for name in files:
                if name.lower().endswith((".ttf", ".otf")):
                    found.setdefault(name, Path(root, name))
    return found


def _is_rtl_text(text: str) -> bool:
    return any("\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufefc" for ch in text)


class ArabicTextRenderer:
    """Renders strings into 8-bit coverage masks (0 = background, 255 = ink), cached.

    Every mask of one renderer has the same height (the font's line height), so strings drawn
    side by side share a baseline.
    """

    def __init__(
        self,
        font_path: str | Path,
        size: int,
        engine: Engine = "auto",
        cache_size: int = 512,
    ) -> None:
        if engine == "auto":
            engine = "raqm" if has_raqm() else "basic"
        if engine == "raqm" and not has_raqm():
            raise PluginError("this Pillow has no raqm support; use the 'basic' text engine")
        self.engine: Literal["raqm", "basic"] = engine
        layout = ImageFont.Layout.RAQM if engine == "raqm" else ImageFont.Layout.BASIC
        try:
            self.font = ImageFont.truetype(str(font_path), size, layout_engine=layout)
        except OSError as exc:
            raise PluginError(f"cannot load font {font_path}: {exc}") from None
        ascent, descent = self.font.getmetrics()
        self.height = ascent + descent
        self._pad = max(1, size // 16)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def visual(self, text: str) -> str:
        """The string handed to Pillow: raw for raqm, shaped and reordered for the basic engine."""
        if self.engine == "raqm" or not _is_rtl_text(text):
            return text
        import arabic_reshaper
        from bidi import get_display

        return get_display(arabic_reshaper.reshape(text))

    def mask(self, text: str) -> np.ndarray:
        """The coverage mask of ``text`` (``height x width`` uint8); do not modify it."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        mask = self._render(text)
        mask.setflags(write=False)
        self._cache[text] = mask
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return mask

    def width(self, text: str) -> int:
        return int(self.mask(text).shape[1])

    def _render(self, text: str) -> np.ndarray:
        visual = self.visual(text)
        if not visual:
            return np.zeros((self.height, 0), np.uint8)
        x0, _y0, x1, _y1 = self.font.getbbox(visual)
        left = min(x0, 0)
        width = int(x1 - left) + 2 * self._pad  # whole pixels, though typed as float
        image = Image.new("L", (width, self.height), 0)
        ImageDraw.Draw(image).text((self._pad - left, 0), visual, font=self.font, fill=255)
        return np.asarray(image, dtype=np.uint8)
