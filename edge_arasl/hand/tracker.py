"""Hand tracking, as MediaPipe's hand pipeline does it: detect once, then follow the landmarks.

The palm detector is the expensive step (about twice the landmark model), so it runs only while
no hand is tracked, and then at most ``search_fps`` times a second of frame time. Once a hand
is found, each frame's landmark crop comes from the previous frame's landmarks; when the
landmark model's presence score drops below ``min_presence`` the track is lost and the search
starts again. The crop is smoothed over time (it would otherwise jitter with the landmarks),
and a hand missed for less than ``hold_s`` is held: one blurred frame does not end a letter.
For ``relook_s`` after a hand was last seen, each search reads the place where it was first: a
signer's hand comes back where it was after a pause or a change of letter, and the landmark
model finds it there even when the palm detector does not.

``search`` decides where a lost hand is looked for: :class:`PalmSearch` runs the palm detector
on the whole frame (``auto`` mode); :class:`RectangleSearch` reads the landmarks of a fixed
rectangle directly (``fixed`` mode), so an empty rectangle is "no hand" whatever it shows.
"""

from __future__ import annotations

import importlib.resources
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from edge_arasl.hand.geometry import RotatedRect, landmark_rect, palm_rect, square_box
from edge_arasl.hand.landmarks import HandLandmarks, LandmarkModel
from edge_arasl.hand.motion import MotionMap
from edge_arasl.hand.palm import PalmDetector
from edge_arasl.settings import bounded

_MODELS = importlib.resources.files("edge_arasl_models")
#: The shipped MediaPipe models (provenance in models/hand_models.json).
DEFAULT_PALM_MODEL = Path(str(_MODELS / "palm_detection_lite.tflite"))
DEFAULT_LANDMARK_MODEL = Path(str(_MODELS / "hand_landmark_lite.tflite"))
#: Added to every error about a hand model file: how to get the shipped ones back.
SETUP_HINT = "restore the shipped hand models with: python tools/extract_hand_models.py"

#: MediaPipe's framing: a palm box x2.6, half a box toward the fingers; landmarks x2.0.
PALM_SCALE, PALM_SHIFT = 2.6, -0.5
LANDMARK_SCALE, LANDMARK_SHIFT = 2.0, -0.1
#: A second look when MediaPipe's framing finds no hand: an upright square of 4 palm boxes.
#: The palm box is small beside the hand when the fingers are spread or the palm is seen
#: edge-on; on ArASL hands pasted into scenes it raised the hands found from 61 % to 79 % of
#: the detected palms (models/MODEL_CARD.md, "Hand finding").
WIDE_SCALE, WIDE_SHIFT = 4.0, -0.25


@dataclass(frozen=True)
class HandSettings:
    """``[hand]``: how the hand is found and followed (both region modes)."""

    min_presence: float = bounded(0.5, gt=0, lt=1)
    min_palm_score: float = bounded(0.3, gt=0, lt=1)
    search_fps: float = bounded(15.0, ge=0.1, le=1000, unit="fps", also=0)  # 0: every frame
    hold_s: float = bounded(0.1, ge=0, le=10, unit="s")
    relook_s: float = bounded(2.0, ge=0, le=10, unit="s")
    scan: float = bounded(0.55, ge=0.1, le=1, also=0)
    smoothing_s: float = bounded(0.04, ge=0, le=10, unit="s")
    crop_scale: float = bounded(1.7, ge=1, le=4)
    cnn_alone_min: float = bounded(0.5, ge=0, le=1)
    unread_none_max: float = bounded(0.1, ge=0, le=1)
    threads: int = bounded(1, ge=1, le=64)
    palm_model: str = ""
    landmark_model: str = ""

    @property
    def palm_path(self) -> Path:
        return Path(self.palm_model).expanduser() if self.palm_model else DEFAULT_PALM_MODEL

    @property
    def landmark_path(self) -> Path:
        path = self.landmark_model
        return Path(path).expanduser() if path else DEFAULT_LANDMARK_MODEL


class Search(Protocol):
    """Where a lost hand is looked for; returns its landmarks or ``None``."""

    def __call__(self, image: np.ndarray, color: str) -> HandLandmarks | None: ...


class PalmSearch:
    """The palm detector over the frame (or ``area`` of it): the first palm with landmarks.

    With ``scan`` > 0, a search whose palms hold no hand also reads one window of a coarse
    grid of squares ``scan`` frame heights wide: big, low-resolution hands that the palm
    detector misses are found by the landmark model. The window is where the frame changed
    most since it was last read (:class:`~edge_arasl.hand.motion.MotionMap`), else the next
    one of the sweep.
    """

    def __init__(
        self,
        palms: PalmDetector,
        landmarks: LandmarkModel,
        min_presence: float,
        area: tuple[int, int, int, int] | None = None,
        scan: float = 0.0,
    ) -> None:
        self.palms, self.landmarks, self.min_presence = palms, landmarks, min_presence
        self.area = area
        self.scan = scan
        self._window = -1  # the next scan window is the first one
        self.motion = MotionMap()

    def reset_scan(self) -> None:
        """Start the scan at the first window again (a new, unrelated image)."""
        self._window = -1
        self.motion.reset()

    def __call__(self, image: np.ndarray, color: str) -> HandLandmarks | None:
        x0, y0 = 0, 0
        view = image
        if self.area is not None:
            x, y, w, h = self.area
            x0, y0 = max(x, 0), max(y, 0)
            view = image[y0 : max(y + h, y0 + 1), x0 : max(x + w, x0 + 1)]
        offset = np.array([x0, y0], dtype=np.float64)
        for palm in self.palms.detect(view, color):
            box = np.concatenate([palm.box[:2] + offset, palm.box[2:]])
            wide = RotatedRect(*box).scaled(WIDE_SCALE, WIDE_SHIFT)
            for rect in (palm_rect(box, palm.keypoints + offset, PALM_SCALE, PALM_SHIFT), wide):
                hand = self.landmarks.read(image, rect, color)
                if hand.presence >= self.min_presence:
                    return hand
        if self.scan <= 0:
            return None
        windows = scan_windows(image.shape[1], image.shape[0], self.scan)
        self.motion.update(image, color, windows)
        pick = self.motion.most_moved()
        if pick is None:  # nothing moved: the next window of the sweep
            self._window = pick = (self._window + 1) % len(windows)
            self.motion.read(pick)
        hand = self.landmarks.read(image, windows[pick], color)
        return hand if hand.presence >= self.min_presence else None


def scan_windows(width: int, height: int, side: float) -> list[RotatedRect]:
    """Upright squares of ``side`` x ``height`` covering the frame at half-window steps.

    The grid is laid out from the frame's centre (one window on it, the outermost moved in to
    the edges) and listed nearest the centre first: a signer faces the camera, so a hand nobody
    has seen yet is most often there, and the sweep reaches it in its first searches.
    """
    size = max(side * height, 1.0)

    def centres(extent: int) -> list[float]:
        middle, step = extent / 2, size / 2
        if extent <= size:
            return [middle]
        k = math.ceil((middle - step) / step)  # windows each side to reach the edges
        placed = {min(max(middle + i * step, step), extent - step) for i in range(-k, k + 1)}
        return sorted(placed)

    grid = [RotatedRect(x, y, size, size) for y in centres(height) for x in centres(width)]
    return sorted(grid, key=lambda r: math.hypot(r.cx - width / 2, r.cy - height / 2))


class RectangleSearch:
    """A fixed pixel box ``(x, y, w, h)``: its landmarks read as one square crop, then palms.

    ArASL-style crops, where the hand fills the box, read best directly; a smaller or
    off-centre hand is found by the palm detector in the box and around it (twice its size).
    """

    def __init__(
        self,
        box: tuple[int, int, int, int],
        landmarks: LandmarkModel,
        min_presence: float,
        palms: PalmDetector | None = None,
    ) -> None:
        x, y, w, h = box
        self.box = box
        self.rect = RotatedRect.of_box(box).scaled(1.0)
        self.landmarks, self.min_presence = landmarks, min_presence
        around = (x - w // 2, y - h // 2, 2 * w, 2 * h)
        self.palms = None if palms is None else PalmSearch(palms, landmarks, min_presence, around)

    def __call__(self, image: np.ndarray, color: str) -> HandLandmarks | None:
        hand = self.landmarks.read(image, self.rect, color)
        if hand.presence >= self.min_presence:
            return hand
        return None if self.palms is None else self.palms(image, color)

    def contains(self, hand: HandLandmarks) -> bool:
        """Whether the hand's centre is inside the box (else it is not this region's hand)."""
        x, y, w, h = self.box
        cx, cy = hand.points[:, :2].mean(axis=0)
        return bool(x <= cx <= x + w and y <= cy <= y + h)


class HandTracker:
    """Follows one hand from frame to frame; :meth:`find` per frame, in frame-time order."""

    def __init__(
        self, search: Search, landmarks: LandmarkModel, settings: HandSettings | None = None
    ) -> None:
        self.search = search
        self.landmarks = landmarks
        self.settings = settings or HandSettings()
        self.reset()
        self.searches = 0  # palm detector / rectangle reads, for benchmarks and tests

    def reset(self) -> None:
        self._rect: RotatedRect | None = None  # next frame's crop while tracking
        self._place: tuple[int, int, int, int] | None = None  # the last hand's CNN square
        self._relook_until = -math.inf
        self._last: HandLandmarks | None = None
        self._last_seen = -math.inf
        self._next_search = -math.inf
        self._last_time: float | None = None

    @property
    def tracking(self) -> bool:
        return self._rect is not None

    def find(self, image: np.ndarray, timestamp: float, color: str = "bgr") -> HandLandmarks | None:
        """The hand in this frame: tracked, found anew, held from a moment ago, or ``None``."""
        s = self.settings
        dt = 0.0 if self._last_time is None else max(timestamp - self._last_time, 0.0)
        self._last_time = timestamp
        hand = None
        if self._rect is not None:
            hand = self.landmarks.read(image, self._rect, color)
            if hand.presence < s.min_presence or not self._inside(hand):
                hand, self._rect = None, None
        if hand is None and timestamp >= self._next_search:
            self._next_search = timestamp + (1.0 / s.search_fps if s.search_fps > 0 else 0.0)
            self.searches += 1
            hand = self._search(image, color, timestamp)
            dt = math.inf  # a new track starts where it was found, not smoothed from the last
        if hand is None:
            held = timestamp - self._last_seen < s.hold_s
            return self._last if held else None
        self._rect = self._follow(landmark_rect(hand.points, LANDMARK_SCALE, LANDMARK_SHIFT), dt)
        self._last, self._last_seen = hand, timestamp
        if s.relook_s > 0:
            self._place = square_box(hand.points, s.crop_scale)
            self._relook_until = timestamp + s.relook_s
        return hand

    def last_place(self, timestamp: float) -> tuple[int, int, int, int] | None:
        """The square where the hand was last seen, for ``relook_s`` after it was (else None)."""
        return self._place if timestamp < self._relook_until else None

    def _search(self, image: np.ndarray, color: str, timestamp: float) -> HandLandmarks | None:
        """Where the hand was a moment ago first, then wherever :attr:`search` looks."""
        place = self.last_place(timestamp)
        if place is not None:
            there = self.landmarks.read(image, RotatedRect.of_box(place), color)
            if there.presence >= self.settings.min_presence and self._inside(there):
                return there
        hand = self.search(image, color)
        return hand if hand is not None and self._inside(hand) else None

    def _inside(self, hand: HandLandmarks) -> bool:
        return not isinstance(self.search, RectangleSearch) or self.search.contains(hand)

    def _follow(self, target: RotatedRect, dt: float) -> RotatedRect:
        """The next crop: ``target`` smoothed over ``smoothing_s``; a jump is followed at once."""
        previous, tau = self._rect, self.settings.smoothing_s
        if previous is None or tau <= 0 or not math.isfinite(dt):
            return target
        moved = math.hypot(target.cx - previous.cx, target.cy - previous.cy)
        if moved > 0.25 * previous.width:
            return target
        a = 1.0 - math.exp(-dt / tau)
        turn = math.remainder(target.angle - previous.angle, math.tau)
        return RotatedRect(
            previous.cx + a * (target.cx - previous.cx),
            previous.cy + a * (target.cy - previous.cy),
            previous.width + a * (target.width - previous.width),
            previous.height + a * (target.height - previous.height),
            previous.angle + a * turn,
        )


def load_palms(settings: HandSettings) -> PalmDetector:
    """The palm detector ``settings`` names (the shipped one by default)."""
    return PalmDetector(
        settings.palm_path,
        num_threads=settings.threads,
        min_score=settings.min_palm_score,
        hint=SETUP_HINT,
    )


def load_landmarks(settings: HandSettings) -> LandmarkModel:
    """The landmark model ``settings`` names (the shipped one by default)."""
    return LandmarkModel(settings.landmark_path, num_threads=settings.threads, hint=SETUP_HINT)
