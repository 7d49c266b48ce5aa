"""Where the hand is: the region of each frame that the classifiers see.

The pipeline asks a :class:`RegionProvider` for each frame's :class:`Located` hand: the square
the CNN reads and, when the hand's landmarks were read, the landmarks; ``None`` when no hand
is in view (the pipeline then feeds the decoder "no sign"). Two modes (``[region] mode``):

- ``fixed``: a rectangle given in fractions of the frame (:class:`Roi`), so the same setting
  works at any resolution and on the Pi camera's smaller gray stream. The CNN reads the whole
  rectangle; the landmark model reads the hand in it, so an empty rectangle is "no hand"
  whatever it shows (a shelf, a poster), unless the CNN is sure of a sign
  (:class:`~edge_arasl.reader.SignReader`).
- ``auto``: the hand is searched in the whole frame by the palm detector and tracked by its
  landmarks (:mod:`edge_arasl.hand.tracker`); the CNN reads a square around the landmarks.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

import numpy as np

from edge_arasl.hand.geometry import square_box
from edge_arasl.hand.landmarks import HandLandmarks, LandmarkModel
from edge_arasl.hand.tracker import (
    HandSettings,
    HandTracker,
    PalmSearch,
    RectangleSearch,
    load_landmarks,
    load_palms,
)
from edge_arasl.preprocess import INPUT_SIZE, prepare
from edge_arasl.settings import bounded, bounds
from edge_arasl.sources.base import Frame

if TYPE_CHECKING:
    from edge_arasl.hand.palm import PalmDetector

#: ``(x, y, width, height)`` in pixels of :attr:`Frame.image`.
Box = tuple[int, int, int, int]
#: The region modes: a fixed rectangle, or the hand found and tracked in the whole frame.
Mode = Literal["fixed", "auto"]
MODES: tuple[str, ...] = get_args(Mode)


@dataclass(frozen=True)
class Roi:
    """A rectangle in fractions of the frame: ``x``, ``y`` of its top-left corner, ``w``, ``h``.

    The default is a 256x256 square near the centre of a 640x480 frame (where a signer's
    hand is when they face the camera with the elbow bent).
    """

    x: float = bounded(0.3, ge=0, le=1)
    y: float = bounded(0.2, ge=0, le=1)
    w: float = bounded(0.4, gt=0, le=1)
    h: float = bounded(0.5333, gt=0, le=1)

    def __post_init__(self) -> None:
        for name, rng in bounds(Roi).items():  # also what --roi gives, not only the config
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value in rng):
                raise ValueError(f"region {self.text()}: {name} must be {rng}")
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


def _like_roi(name: str) -> Any:
    """A field with the default and the declared range of :class:`Roi`'s field ``name``."""
    roi_field = Roi.__dataclass_fields__[name]
    return dataclasses.field(default=roi_field.default, metadata=roi_field.metadata)


@dataclass(frozen=True)
class RegionSettings:
    """``[region]``: the mode, and the rectangle of ``fixed`` mode (fractions, as :class:`Roi`)."""

    mode: Mode = "fixed"
    x: float = _like_roi("x")
    y: float = _like_roi("y")
    w: float = _like_roi("w")
    h: float = _like_roi("h")

    def __post_init__(self) -> None:
        self.roi  # noqa: B018 - checks the rectangle (ValueError saying why)

    @property
    def roi(self) -> Roi:
        return Roi(self.x, self.y, self.w, self.h)

    def with_roi(self, roi: Roi) -> RegionSettings:
        return RegionSettings(self.mode, roi.x, roi.y, roi.w, roi.h)


@dataclass(frozen=True)
class Located:
    """A hand in a frame: ``box``, the square the CNN reads, and its landmarks if read.

    ``looked`` says the landmark model looked in ``box`` and saw no hand (``fixed`` mode): the
    CNN alone then decides, and only a confident reading counts
    (:attr:`~edge_arasl.hand.tracker.HandSettings.cnn_alone_min`).
    """

    box: Box
    hand: HandLandmarks | None = None
    looked: bool = False

    @property
    def landmarks(self) -> np.ndarray | None:
        """The 21 landmarks' ``x, y`` in pixels (21x2; ``None`` without landmarks)."""
        return None if self.hand is None else self.hand.points[:, :2]

    @property
    def hand_box(self) -> Box | None:
        """The landmarks' bounding box in pixels (``None`` without landmarks)."""
        if self.hand is None:
            return None
        lo = self.hand.points[:, :2].min(axis=0)
        hi = self.hand.points[:, :2].max(axis=0)
        return round(lo[0]), round(lo[1]), round(hi[0] - lo[0]), round(hi[1] - lo[1])


class RegionProvider(Protocol):
    """Finds the hand in a frame, or ``None`` if there is none."""

    def locate(self, frame: Frame) -> Located | None: ...

    def reset(self) -> None: ...


class FixedRegion:
    """The same fractional rectangle in every frame; with ``landmarks``, only with a hand in it."""

    def __init__(
        self,
        roi: Roi,
        landmarks: LandmarkModel | None = None,
        settings: HandSettings | None = None,
        palms: PalmDetector | None = None,
    ) -> None:
        self.roi = roi
        self.landmarks = landmarks
        self.palms = palms
        self.settings = settings or HandSettings()
        self._cache: tuple[tuple[int, int], Box, HandTracker | None] | None = None

    def reset(self) -> None:
        """Forget the hand being tracked (the next frame is unrelated to the last)."""
        self._cache = None

    def locate(self, frame: Frame) -> Located | None:
        size = frame.size
        if self._cache is None or self._cache[0] != size:
            box = self.roi.to_pixels(*size)
            tracker = None
            if self.landmarks is not None:
                presence = self.settings.min_presence
                search = RectangleSearch(box, self.landmarks, presence, self.palms)
                tracker = HandTracker(search, self.landmarks, self.settings)
            self._cache = (size, box, tracker)
        _, box, tracker = self._cache
        if tracker is None:
            return Located(box)
        hand = tracker.find(frame.image, frame.timestamp)
        return Located(box, hand, looked=hand is None)


class AutoRegion:
    """The hand wherever it is: palm detection while lost, landmark tracking once found.

    For ``relook_s`` after the hand was last seen, a frame without landmarks is its last
    place with ``looked`` set, as a ``fixed`` rectangle is: the CNN alone may read it there
    if it is sure (``cnn_alone_min``). A signer's hand changes letter where it was, and the
    landmark model misses some hands there (a letter's hand shape it finds no hand in).
    """

    def __init__(
        self, palms: PalmDetector, landmarks: LandmarkModel, settings: HandSettings | None = None
    ) -> None:
        self.settings = settings or HandSettings()
        search = PalmSearch(palms, landmarks, self.settings.min_presence, scan=self.settings.scan)
        self.tracker = HandTracker(search, landmarks, self.settings)

    def reset(self) -> None:
        """Forget the hand being tracked (the next frame is unrelated to the last)."""
        self.tracker.reset()

    def locate(self, frame: Frame) -> Located | None:
        hand = self.tracker.find(frame.image, frame.timestamp)
        if hand is None:
            place = self.tracker.last_place(frame.timestamp)
            return None if place is None else Located(place, looked=True)
        return Located(square_box(hand.points, self.settings.crop_scale), hand)


def build_region(region: RegionSettings, hand: HandSettings) -> RegionProvider:
    """The region provider of ``mode``, with the hand models ``hand`` names loaded."""
    landmarks, palms = load_landmarks(hand), load_palms(hand)
    if region.mode == "auto":
        return AutoRegion(palms, landmarks, hand)
    return FixedRegion(region.roi, landmarks, hand, palms)


def crop(frame: Frame, box: Box, size: int = INPUT_SIZE) -> np.ndarray:
    """The classifier's ``size x size`` gray input for ``box``, exactly as in training.

    Uses the frame's free gray image when it has one (scaling the box to its resolution),
    else converts only the cropped part of the colour image. A box reaching outside the frame
    (a hand at the edge, in ``auto`` mode) is padded with the frame's edge pixels, so the hand
    keeps its place and shape in the square.
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
            return prepare(_cut(gray, x0, y0, x1, y1), size=size)
        return prepare(_cut(gray, x, y, x + w, y + h), size=size)
    return prepare(_cut(frame.image, x, y, x + w, y + h), color="bgr", size=size)


def _cut(image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """``image[y0:y1, x0:x1]``, with the edge pixels repeated where it lies outside."""
    height, width = image.shape[:2]
    if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
        return image[y0:y1, x0:x1]
    rows = np.clip(np.arange(y0, y1), 0, height - 1)
    cols = np.clip(np.arange(x0, x1), 0, width - 1)
    return image[np.ix_(rows, cols)]
