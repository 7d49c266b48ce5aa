"""Where the hand is: the region of each frame that the classifier sees.

Today the region is a fixed rectangle given in fractions of the frame (:class:`Roi`), so the
same setting works at any resolution and on the Pi camera's smaller gray stream. The pipeline
only asks a :class:`RegionProvider` for a pixel box per frame, so an automatic hand locator
can replace :class:`FixedRegion` later without touching the loop: it implements ``locate`` and
returns ``None`` when no hand is in view (the pipeline then feeds the decoder "no sign").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edge_arasl.preprocess import INPUT_SIZE, prepare
from edge_arasl.sources.base import Frame

#: ``(x, y, width, height)`` in pixels of :attr:`Frame.image`.
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Roi:
    """A rectangle in fractions of the frame: ``x``, ``y`` of its top-left corner, ``w``, ``h``.

    The default is a 256x256 square near the centre of a 640x480 frame (where a signer's
    hand is when they face the camera with the elbow bent).
    """

    x: float = 0.3
    y: float = 0.2
    w: float = 0.4
    h: float = 0.5333

    def __post_init__(self) -> None:
        values = (self.x, self.y, self.w, self.h)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise ValueError(f"region {self.text()}: values must be finite numbers")
        if min(values) < 0 or self.w <= 0 or self.h <= 0:
            raise ValueError(f"region {self.text()}: x, y must be >= 0 and w, h > 0")
        if self.x + self.w > 1.0001 or self.y + self.h > 1.0001:
            raise ValueError(f"region {self.text()}: must lie inside the frame (x+w, y+h <= 1)")

    @classmethod
    def parse(cls, text: str) -> Roi:
        """``"X,Y,W,H"`` (fractions), as given to ``--roi``; ValueError saying why if not."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 4:
            raise ValueError(f"region {text!r}: expected four numbers X,Y,W,H")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"region {text!r}: expected four numbers X,Y,W,H") from None
        return cls(*values)

    def text(self) -> str:
        return ",".join(f"{v:g}" for v in (self.x, self.y, self.w, self.h))

    def to_pixels(self, width: int, height: int) -> Box:
        """The pixel box in a ``width x height`` frame (rounded, at least 1x1, clipped)."""
        x0 = min(max(round(self.x * width), 0), width - 1)
        y0 = min(max(round(self.y * height), 0), height - 1)
        x1 = min(max(round((self.x + self.w) * width), x0 + 1), width)
        y1 = min(max(round((self.y + self.h) * height), y0 + 1), height)
        return x0, y0, x1 - x0, y1 - y0


class RegionProvider(Protocol):
    """Finds the hand in a frame: a pixel box of :attr:`Frame.image`, or ``None`` if none."""

    def locate(self, frame: Frame) -> Box | None: ...


class FixedRegion:
    """The same fractional rectangle in every frame."""

    def __init__(self, roi: Roi) -> None:
        self.roi = roi
        self._cache: tuple[tuple[int, int], Box] | None = None

    def locate(self, frame: Frame) -> Box:
        size = frame.size
        if self._cache is None or self._cache[0] != size:
            self._cache = (size, self.roi.to_pixels(*size))
        return self._cache[1]


def crop(frame: Frame, box: Box, size: int = INPUT_SIZE) -> np.ndarray:
    """The classifier's ``size x size`` gray input for ``box``, exactly as in training.

    Uses the frame's free gray image when it has one (scaling the box to its resolution),
    else converts only the cropped part of the colour image.
    """
    x, y, w, h = box
    if frame.gray is not None:
        gray = frame.gray
        image_w, image_h = frame.size
        gray_h, gray_w = gray.shape[:2]
        if (gray_w, gray_h) != (image_w, image_h):
            sx, sy = gray_w / image_w, gray_h / image_h
            x0, y0 = round(x * sx), round(y * sy)
            x1 = max(round((x + w) * sx), x0 + 1)
            y1 = max(round((y + h) * sy), y0 + 1)
            return prepare(gray[y0:y1, x0:x1], size=size)
        return prepare(gray[y : y + h, x : x + w], size=size)
    return prepare(frame.image[y : y + h, x : x + w], color="bgr", size=size)
