"""Where the frame changed: which scan window a lost hand most likely entered.

The palm detector misses big, blurred hands, so a search also reads one window of a coarse
grid with the landmark model (:class:`~edge_arasl.hand.tracker.PalmSearch`). Reading the
windows in turn finds a hand only when the sweep comes round to it, up to a second later. A
camera that does not move sees change only where something moved, which is where a hand
arrives or changes shape: Frigate runs its object detector only on such regions for the same
reason. So each window keeps how much of it changed since it was last read, and the search
reads the one that changed most, or, when nothing did, the next window of the sweep.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_arasl.hand.geometry import RotatedRect
from edge_arasl.preprocess import to_gray

#: The frame is compared at 1/SHRINK of its size: cheap, and blind to sensor noise.
SHRINK = 8
#: A thumbnail pixel has changed when its gray level moved by more than this.
LEVEL = 24
#: A window is worth reading first once this fraction of it has changed.
ENOUGH = 0.02


class MotionMap:
    """Per scan window, the fraction of it that changed since the window was last read."""

    def __init__(self) -> None:
        self._last: np.ndarray | None = None
        self._moved: np.ndarray | None = None

    def reset(self) -> None:
        self._last, self._moved = None, None

    def update(self, image: np.ndarray, color: str, windows: list[RotatedRect]) -> None:
        """Add the change between this frame and the last one given to every window."""
        gray = to_gray(image, color)
        h, w = gray.shape[:2]
        size = (max(w // SHRINK, 1), max(h // SHRINK, 1))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        last, self._last = self._last, small
        resized = last is not None and last.shape != small.shape  # other windows: start again
        if self._moved is None or len(self._moved) != len(windows) or resized:
            self._moved = np.zeros(len(windows))
        if last is None or resized:
            return
        changed = cv2.absdiff(small, last) > LEVEL
        sx, sy = small.shape[1] / w, small.shape[0] / h
        for i, window in enumerate(windows):
            half_w, half_h = window.width / 2, window.height / 2  # scan windows are upright
            part = changed[
                max(int((window.cy - half_h) * sy), 0) : int(np.ceil((window.cy + half_h) * sy)),
                max(int((window.cx - half_w) * sx), 0) : int(np.ceil((window.cx + half_w) * sx)),
            ]
            self._moved[i] += part.mean() if part.size else 0.0

    def most_moved(self) -> int | None:
        """The window that changed most, if enough of it did; it counts as read from now."""
        if self._moved is None or len(self._moved) == 0:
            return None
        best = int(np.argmax(self._moved))  # the first of equals: nearest the centre
        if self._moved[best] < ENOUGH:
            return None
        self._moved[best] = 0.0
        return best

    def read(self, window: int) -> None:
        """``window`` was read by the sweep: its change so far is spent."""
        if self._moved is not None and 0 <= window < len(self._moved):
            self._moved[window] = 0.0
