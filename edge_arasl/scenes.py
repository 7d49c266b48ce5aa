"""Scenes for composed demo videos: the plain room, a busy one that fools classifiers, and
where a moving hand is shown.

A fixed-region pipeline classifies whatever the region shows between letters. On the smooth
``plain`` wall of :func:`plain_room` the shipped model says "no sign"; real rooms put shelves,
posters, patterned clothes and clutter there, which it can read as letters. :func:`busy_room`
draws such clutter (coloured shapes, book rows, stripes, lines, multi-scale coloured noise),
and :class:`Backdrop` can let it drift slowly (a pan and a lighting change), so videos test
what a real camera shows. :class:`HandLayout` places a hand that moves between letters.
Everything is drawn from the given random generators, so one seed gives one video.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from edge_arasl.region import Box

#: Names accepted by ``make_demo(scene=...)`` and ``make-demo --scene``.
SCENES = ("plain", "busy")


def plain_room(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A plausible indoor background: lit wall with soft blotches, a shelf and a door edge."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    wall = 150 + 50 * (xx / width - 0.5) - 30 * (yy / height)
    for cells, amp in ((3, 25.0), (8, 12.0), (24, 5.0)):
        noise = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
        wall += amp * cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)
    shelf_y = int(height * rng.uniform(0.75, 0.85))
    wall[shelf_y : shelf_y + max(4, height // 60)] -= 60
    door_x = int(width * rng.uniform(0.05, 0.15))
    wall[:, door_x : door_x + max(3, width // 120)] -= 45
    tint = np.array(rng.uniform(0.9, 1.1, 3), dtype=np.float32)  # B, G, R
    room = wall[:, :, None] * tint[None, None, :]
    return np.clip(room, 0, 255).astype(np.uint8)


def _colour(rng: np.random.Generator) -> tuple[float, float, float]:
    """A paint or fabric colour: any brightness, moderately saturated."""
    b, g, r = np.clip(rng.uniform(25, 230) + rng.uniform(-70, 70, 3), 0, 255)
    return float(b), float(g), float(r)


def _noise(width: int, height: int, rng: np.random.Generator, amps: dict[int, float]) -> np.ndarray:
    """Coloured noise summed over scales: ``{pixels per cell: amplitude}``, per channel."""
    out = np.zeros((height, width, 3), np.float32)
    for cell, amp in amps.items():
        cells = (max(2, math.ceil(height / cell)), max(2, math.ceil(width / cell)), 3)
        grid = rng.uniform(-1, 1, cells).astype(np.float32)
        out += amp * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return out


def _poster(img: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """A framed rectangle with blocks, a disc and lines of "text" in it."""
    x, y, w, h = box
    cv2.rectangle(img, (x, y), (x + w, y + h), _colour(rng), -1)
    cv2.rectangle(img, (x, y), (x + w, y + h), _colour(rng), int(rng.integers(1, 5)))
    for _ in range(int(rng.integers(1, 4))):
        bw, bh = int(rng.integers(4, max(5, w // 2))), int(rng.integers(4, max(5, h // 2)))
        bx, by = x + int(rng.integers(0, max(1, w - bw))), y + int(rng.integers(0, max(1, h - bh)))
        cv2.rectangle(img, (bx, by), (bx + bw, by + bh), _colour(rng), -1)
    if rng.random() < 0.6:
        centre = (x + int(rng.integers(0, w + 1)), y + int(rng.integers(0, h + 1)))
        cv2.circle(img, centre, int(rng.integers(3, max(4, min(w, h) // 3))), _colour(rng), -1)
    ink = _colour(rng)
    for row in range(y + 6, y + h - 4, int(rng.integers(5, 10))):
        if rng.random() < 0.7:
            x0 = x + int(rng.integers(3, max(4, w // 4)))
            x1 = x0 + int(rng.integers(4, max(5, w - (x0 - x) - 2)))
            cv2.line(img, (x0, row), (min(x1, x + w - 3), row), ink, 1, cv2.LINE_AA)


def _shelf(img: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """A board with a row of books of random widths, heights and colours on it."""
    x, y, w, h = box
    board = max(3, h // 10)
    cv2.rectangle(img, (x, y + h - board), (x + w, y + h), _colour(rng), -1)
    bx = x
    while bx < x + w - 3:
        bw = int(rng.integers(3, max(4, h // 3)))
        top = y + int(rng.integers(0, max(1, h // 3)))
        cv2.rectangle(img, (bx, top), (min(bx + bw, x + w), y + h - board), _colour(rng), -1)
        bx += bw + int(rng.integers(0, 3))


def _stripes(img: np.ndarray, box: Box, rng: np.random.Generator) -> None:
    """A patterned cloth: stripes (or a check) at a random angle, clipped to the box."""
    x, y, w, h = box
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(4, 24)
    wave = np.sin(2 * math.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period)
    if rng.random() < 0.4:
        wave = wave * np.sin(2 * math.pi * (yy * math.cos(angle) - xx * math.sin(angle)) / period)
    a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
    mask = (wave > 0)[:, :, None]
    img[y : y + h, x : x + w] = np.where(mask, a, b).astype(np.uint8)


def busy_room(
    width: int, height: int, rng: np.random.Generator, base: np.ndarray, focus: Box
) -> np.ndarray:
    """Clutter over ``base`` (a :func:`plain_room`): posters, shelves, cloth, discs, lines.

    Shapes fall anywhere in the frame, and at least two overlap ``focus`` (the default hand
    region), so the region is busy when no hand is in it.
    """
    img = np.clip(base + _noise(width, height, rng, {160: 30, 40: 18, 12: 10}), 0, 255)
    img = img.astype(np.uint8)
    draw = (_poster, _shelf, _stripes)
    n = max(6, round(width * height / 14000))
    fx, fy, fw, fh = focus
    for i in range(n):
        w = int(rng.uniform(0.08, 0.35) * width)
        h = int(rng.uniform(0.06, 0.3) * height)
        if i < 2:  # centred inside the focus region
            cx, cy = fx + rng.uniform(0, fw), fy + rng.uniform(0, fh)
        else:
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        x0 = int(np.clip(cx - w / 2, 0, width - w))
        y0 = int(np.clip(cy - h / 2, 0, height - h))
        draw[int(rng.integers(len(draw)))](img, (x0, y0, max(w, 8), max(h, 8)), rng)
    for _ in range(int(rng.integers(4, 10))):  # plates, a clock, a lamp
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = int(rng.uniform(0.02, 0.09) * min(width, height)) + 2
        thickness = -1 if rng.random() < 0.5 else int(rng.integers(1, 5))
        cv2.circle(img, centre, radius, _colour(rng), thickness, cv2.LINE_AA)
    for _ in range(int(rng.integers(4, 12))):  # cables, frames, door and table edges
        p0 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(img, p0, p1, _colour(rng), int(rng.integers(1, 6)), cv2.LINE_AA)
    lit = img.astype(np.float32) * (1 + _noise(width, height, rng, {200: 0.15, 50: 0.05}))
    lit += _noise(width, height, rng, {6: 6.0, 3: 4.0})  # fine photo-like texture
    lit = cv2.GaussianBlur(lit, (0, 0), 0.7)
    return np.clip(lit, 0, 255).astype(np.uint8)


class Backdrop:
    """The background of every frame: static, or slowly panning and changing its lighting.

    A drifting backdrop is drawn on a canvas ``pad`` pixels larger on each side and seen
    through a window that wanders over it (at most a few pixels a second), under a lighting
    gain that varies by up to 10% over several seconds.
    """

    def __init__(
        self, canvas: np.ndarray, size: tuple[int, int], pad: int, rng: np.random.Generator | None
    ) -> None:
        self.canvas, self.size, self.pad = canvas, size, pad
        self.drifts = rng is not None and pad > 0
        if self.drifts:
            assert rng is not None
            self.periods = rng.uniform(18, 40, 3)  # x, y, lighting (seconds)
            self.phases = rng.uniform(0, 2 * math.pi, 3)
            self.tint = rng.uniform(0.6, 1.0, 3).astype(np.float32)
        self._last: tuple[float, np.ndarray] | None = None

    def at(self, t: float) -> np.ndarray:
        """The background ``t`` seconds into the video (the caller must not change it)."""
        if not self.drifts:
            return self.canvas
        if self._last is not None and self._last[0] == t:
            return self._last[1]
        wave = np.sin(2 * math.pi * t / self.periods + self.phases)
        dx, dy = self.pad * (1 + 0.9 * wave[:2])
        m = np.array([[1, 0, -dx], [0, 1, -dy]], np.float32)
        view = cv2.warpAffine(self.canvas, m, self.size, flags=cv2.INTER_LINEAR)
        gain = 1 + 0.1 * wave[2] * self.tint
        # A per-channel scalar, which OpenCV takes but some versions of its stubs do not list.
        multiply: Any = cv2.multiply
        out = multiply(view, (*gain.tolist(), 1.0))
        self._last = (t, out)
        return out


class HandLayout:
    """Where a moving hand is shown: a new box for every letter (or word), all in the frame.

    Each box is the region's size times a factor drawn from ``scale``, placed uniformly, and
    its centre at least half a side away from the previous one (when the frame allows).
    """

    def __init__(
        self,
        size: tuple[int, int],
        region: Box,
        scale: tuple[float, float],
        rng: np.random.Generator,
    ) -> None:
        self.size, self.region, self.scale, self.rng = size, region, scale, rng
        self.last: Box | None = None

    def next(self) -> Box:
        (width, height), (_, _, w0, h0) = self.size, self.region
        for _ in range(20):
            s = self.rng.uniform(*self.scale)
            w, h = (int(min(n, max(16, round(v * s)))) for v, n in ((w0, width), (h0, height)))
            x, y = (
                int(self.rng.integers(0, width - w + 1)),
                int(self.rng.integers(0, height - h + 1)),
            )
            box = (x, y, w, h)
            if self.last is None or math.dist(_centre(box), _centre(self.last)) >= min(w, h) / 2:
                break
        self.last = box
        return box


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2
