"""Rotated squares in frame pixels: where the landmark model looks, and how it maps back.

The landmark model reads an upright hand, so its input is cut from the frame as a rotated
square whose "up" points from the wrist toward the middle finger. :class:`RotatedRect` holds
such a square; :meth:`RotatedRect.to_frame` is the affine map from the model's input pixels to
frame pixels, used both to warp the crop and to bring the landmarks back.

Angles: ``angle`` is the rotation of the rect's axes in image coordinates (y down), so a
positive angle turns it clockwise on screen; 0 is an upright hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: Landmarks whose spread sizes the next frame's crop: wrist, thumb base and the first two
#: joints of each finger (fingertips move most between letters, so they are left out).
TRACKING_LANDMARKS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP = 0, 5, 9, 13


@dataclass(frozen=True)
class RotatedRect:
    """A rectangle of ``width x height`` pixels centred at ``(cx, cy)``, turned by ``angle``."""

    cx: float
    cy: float
    width: float
    height: float
    angle: float = 0.0

    @classmethod
    def of_box(cls, box: tuple[int, int, int, int]) -> RotatedRect:
        """The upright rect of a pixel box ``(x, y, w, h)``."""
        x, y, w, h = box
        return cls(x + w / 2, y + h / 2, w, h)

    def to_frame(self, size: int) -> np.ndarray:
        """2x3 affine map from a ``size x size`` crop of this rect to frame pixels."""
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        ux, uy = cos * self.width / size, sin * self.width / size  # crop x axis in the frame
        vx, vy = -sin * self.height / size, cos * self.height / size  # crop y axis (down)
        ox = self.cx - (ux + vx) * size / 2
        oy = self.cy - (uy + vy) * size / 2
        return np.array([[ux, vx, ox], [uy, vy, oy]], dtype=np.float64)

    def crop(self, image: np.ndarray, size: int) -> np.ndarray:
        """The ``size x size`` upright crop of ``image`` (black outside the frame)."""
        return cv2.warpAffine(
            image,
            self.to_frame(size),
            (size, size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
        )

    def corners(self) -> np.ndarray:
        """The four corners in frame pixels (4x2), clockwise from the top-left."""
        m = self.to_frame(1)
        unit = np.array([[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=np.float64)
        return unit @ m.T

    def scaled(self, scale: float, shift_y: float = 0.0) -> RotatedRect:
        """A square of ``scale`` x the longer side, moved by ``shift_y`` heights along "down".

        A negative ``shift_y`` moves it toward the fingers (the rect's "up").
        """
        dy = shift_y * self.height
        cx = self.cx - math.sin(self.angle) * dy
        cy = self.cy + math.cos(self.angle) * dy
        side = max(self.width, self.height) * scale
        return RotatedRect(cx, cy, side, side, self.angle)


def upright_angle(wrist: np.ndarray, knuckle: np.ndarray) -> float:
    """The rect angle that turns the direction wrist -> ``knuckle`` to point straight up."""
    dx, dy = float(knuckle[0] - wrist[0]), float(knuckle[1] - wrist[1])
    return math.atan2(dx, -dy)


def palm_rect(box: np.ndarray, keypoints: np.ndarray, scale: float, shift_y: float) -> RotatedRect:
    """The landmark crop for a palm detection, as MediaPipe's hand pipeline frames it.

    ``box`` is ``(cx, cy, w, h)`` and ``keypoints`` 7x2, in frame pixels; the square is
    ``scale`` times the palm box, turned upright (keypoint 0 wrist -> 2 middle knuckle) and
    moved ``shift_y`` box heights (negative: toward the fingers).
    """
    angle = upright_angle(keypoints[0], keypoints[2])
    return RotatedRect(float(box[0]), float(box[1]), float(box[2]), float(box[3]), angle).scaled(
        scale, shift_y
    )


def landmark_rect(landmarks: np.ndarray, scale: float, shift_y: float) -> RotatedRect:
    """The next frame's landmark crop, from this frame's 21 landmarks (frame pixels, 21x2+).

    Upright from the wrist toward the middle of the index, middle and ring knuckles; sized by
    the spread of :data:`TRACKING_LANDMARKS` measured along the rect's own axes.
    """
    points = landmarks[:, :2].astype(np.float64)
    knuckle = ((points[INDEX_MCP] + points[RING_MCP]) / 2 + points[MIDDLE_MCP]) / 2
    angle = upright_angle(points[WRIST], knuckle)
    cos, sin = math.cos(angle), math.sin(angle)
    subset = points[list(TRACKING_LANDMARKS)]
    local = subset @ np.array([[cos, -sin], [sin, cos]])  # frame -> rect axes (inverse rotation)
    lo, hi = local.min(axis=0), local.max(axis=0)
    centre_local = (lo + hi) / 2
    cx = centre_local[0] * cos - centre_local[1] * sin
    cy = centre_local[0] * sin + centre_local[1] * cos
    width, height = float(hi[0] - lo[0]), float(hi[1] - lo[1])
    return RotatedRect(cx, cy, max(width, 1.0), max(height, 1.0), angle).scaled(scale, shift_y)


def square_box(points: np.ndarray, scale: float) -> tuple[int, int, int, int]:
    """Axis-aligned square ``(x, y, side, side)`` around ``points``: ``scale`` x their extent.

    It may reach outside the frame; :func:`edge_arasl.region.crop` pads what is outside.
    """
    lo, hi = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    cx, cy = (lo + hi) / 2
    side = max(float(np.max(hi - lo)) * scale, 8.0)
    return round(cx - side / 2), round(cy - side / 2), round(side), round(side)
