"""The Arabic text overlay: region box, current letter and confidence, running text.

:class:`Overlay` draws onto a copy of a frame; the ``video`` plugin uses it for every frame it
writes, and :class:`OverlayPlugin` (``[overlay]``) keeps a JPEG snapshot of the latest
annotated frame up to date for dashboards. Text is rendered once per distinct string into a
small mask (see :mod:`edge_arasl_plugins.arabic_text`) and blended into the frame with numpy,
so Pillow never touches a whole frame.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from edge_arasl.plugin import FrameEvent, LetterEvent, OutputPlugin, WordEvent, bounded

from .arabic_text import ArabicTextRenderer, Engine, TextSettings, find_font
from .output_file import output_path, prepare_file, write_atomically

BGR = tuple[int, int, int]
TEXT_COLOR: BGR = (255, 255, 255)
LETTER_COLOR: BGR = (80, 255, 80)
ROI_COLOR: BGR = (80, 255, 80)
ROI_IDLE_COLOR: BGR = (160, 160, 160)
HAND_COLOR: BGR = (255, 200, 60)
JOINT_COLOR: BGR = (40, 120, 255)


class Overlay:
    """Annotates frames with what the recogniser sees and has recognised so far.

    Feed it the letters and words (:meth:`on_letter`, :meth:`on_word`) in the order they
    happen, then :meth:`draw` frames. Not thread-safe: use it from one plugin's worker.
    """

    def __init__(self, text: TextSettings | None = None) -> None:
        text = text or TextSettings()
        self.font_path = find_font(text.font)
        self.engine: Engine = text.text_engine
        self.current: list[str] = []  # letters of the word being signed
        self.words: deque[str] = deque(maxlen=text.last_words)
        self._renderers: dict[int, ArabicTextRenderer] = {}

    def on_letter(self, letter: LetterEvent) -> None:
        self.current.append(letter.text)

    def on_word(self, word: WordEvent) -> None:
        self.current.clear()
        if self.words.maxlen:
            self.words.append(word.text)

    @property
    def running_text(self) -> str:
        """The last words and the word in progress, in logical (signing) order."""
        return " ".join([*self.words, "".join(self.current)]).strip()

    def renderer(self, size: int) -> ArabicTextRenderer:
        if size not in self._renderers:
            self._renderers[size] = ArabicTextRenderer(self.font_path, size, self.engine)
        return self._renderers[size]

    def draw(self, frame: FrameEvent) -> np.ndarray:
        """A BGR copy of the frame with the overlay drawn on it."""
        image = frame.image
        out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
        height = out.shape[0]
        signing = bool(frame.text) and frame.class_id != "none"
        line = max(1, height // 240)
        if frame.roi is not None:
            x, y, w, h = frame.roi
            color = ROI_COLOR if signing else ROI_IDLE_COLOR
            cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), color, line)
        if frame.landmarks is not None:
            draw_hand(out, frame.landmarks, frame.hand_box, line)
        if signing:
            self._draw_letter(out, frame.text, frame.confidence, max(16, height // 8))
        self._draw_running_text(out, max(14, height // 16))
        return out

    def _draw_letter(self, out: np.ndarray, text: str, confidence: float, size: int) -> None:
        """The current letter in the top-right corner, its confidence to its left."""
        mask = self.renderer(size).mask(text)
        margin = size // 4
        x = out.shape[1] - margin - mask.shape[1]
        label = f"{round(confidence * 100)}%"
        scale = size / 60
        thickness = max(1, size // 24)
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        box_x = x - tw - margin
        _darken(out, box_x - margin, 0, out.shape[1], mask.shape[0] + margin)
        blend_mask(out, mask, x, margin // 2, LETTER_COLOR)
        baseline_y = margin // 2 + (mask.shape[0] + th) // 2
        cv2.putText(
            out, label, (box_x, baseline_y), cv2.FONT_HERSHEY_SIMPLEX, scale, TEXT_COLOR,
            thickness, cv2.LINE_AA,
        )  # fmt: skip

    def _draw_running_text(self, out: np.ndarray, size: int) -> None:
        """The running text right-aligned in a dark band along the bottom (RTL reading start)."""
        renderer = self.renderer(size)
        margin = size // 3
        room = out.shape[1] - 2 * margin
        words = [*self.words, "".join(self.current)]
        mask = renderer.mask(" ".join(words).strip())
        while mask.shape[1] > room and len(words) > 1:  # drop the oldest words first
            words.pop(0)
            mask = renderer.mask(" ".join(words).strip())
        if mask.shape[1] == 0:
            return
        if mask.shape[1] > room:  # one long word: keep its newest (leftmost) part
            mask = mask[:, :room]
        top = out.shape[0] - mask.shape[0] - margin
        _darken(out, 0, top - margin // 2, out.shape[1], out.shape[0])
        blend_mask(out, mask, out.shape[1] - margin - mask.shape[1], top, TEXT_COLOR)


#: The hand's skeleton: the joints of each finger from the wrist (MediaPipe's 21 landmarks).
_CHAINS = ((0, 1, 2, 3, 4), (0, 5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (0, 17, 18, 19, 20))
HAND_BONES = tuple(
    pair for chain in (*_CHAINS, (5, 9, 13, 17)) for pair in itertools.pairwise(chain)
)


def draw_hand(
    out: np.ndarray, landmarks: np.ndarray, box: tuple[int, int, int, int] | None, line: int
) -> None:
    """The hand's box, its skeleton and its joints, as the locator read them."""
    if box is not None:
        x, y, w, h = box
        cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), HAND_COLOR, line)
    points = np.round(landmarks[:, :2]).astype(np.int32)
    for a, b in HAND_BONES:
        cv2.line(out, tuple(points[a]), tuple(points[b]), HAND_COLOR, line, cv2.LINE_AA)
    for point in points:
        cv2.circle(out, tuple(point), line + 1, JOINT_COLOR, -1, cv2.LINE_AA)


def blend_mask(out: np.ndarray, mask: np.ndarray, x: int, y: int, color: BGR) -> None:
    """Paint ``color`` into ``out`` (BGR uint8) through a coverage mask placed at ``(x, y)``."""
    h, w = mask.shape
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, out.shape[1]), min(y + h, out.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    alpha = mask[y0 - y : y1 - y, x0 - x : x1 - x, None].astype(np.uint16)
    region = out[y0:y1, x0:x1]
    ink = alpha * np.array(color, np.uint16)
    region[:] = ((region * (255 - alpha) + ink + 127) // 255).astype(np.uint8)


def _darken(out: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> None:
    """Halve the brightness of a rectangle so text on it reads on any background."""
    region = out[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]
    np.right_shift(region, 1, out=region)


@dataclass(frozen=True)
class OverlaySettings(TextSettings):
    #: JPEG file kept up to date with the latest annotated frame; relative paths are taken
    #: from the state directory in the daemon and from the working directory in `process`.
    path: str = "overlay.jpg"
    #: Seconds of frame time between snapshots.
    interval: float = bounded(1.0, ge=0, le=86_400, unit="s")
    jpeg_quality: int = bounded(85, ge=1, le=100)


class OverlayPlugin(OutputPlugin):
    """Keeps a JPEG snapshot of the latest annotated frame (atomically replaced)."""

    name = "overlay"
    Settings = OverlaySettings
    queue_size = 2  # only the latest frame matters

    settings: OverlaySettings

    def start(self) -> None:
        s = self.settings
        self.overlay = Overlay(s)
        self.path = output_path(s.path, self.context)
        prepare_file(self.path, self.context)
        self._last: float | None = None

    def on_letter(self, letter: LetterEvent) -> None:
        self.overlay.on_letter(letter)

    def on_word(self, word: WordEvent) -> None:
        self.overlay.on_word(word)

    def on_frame(self, frame: FrameEvent) -> None:
        if self._last is not None and frame.timestamp - self._last < self.settings.interval:
            return
        self._last = frame.timestamp
        ok, jpeg = cv2.imencode(
            ".jpg", self.overlay.draw(frame), [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality]
        )
        if ok:
            write_atomically(self.path, jpeg.tobytes())
