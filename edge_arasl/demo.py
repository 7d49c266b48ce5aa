"""Compose a fingerspelling video from still sign images, with its ground truth.

There is no public video of ArASL fingerspelling with letter-level timing, so the demo and the
end-to-end tests make one: each letter is a held-out photo of that sign (never seen in
training) held for a natural, randomised time with a slight tremor, letters are joined by
short blurred cross-fades, a repeated letter by a brief release (hand out of view), words by a
longer pause, and a textured "room" surrounds the region of interest. The truth file written
next to the video lists the letter classes of every word and when each letter is shown.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.labels import ARABIC, NONE_CLASS, SIGN_CLASSES
from edge_arasl.region import Roi

#: Single characters and the sign that spells them.
SIGN_FOR_CHAR: dict[str, str] = {
    text: cls for cls, text in ARABIC.items() if len(text) == 1 and cls != NONE_CLASS
}
#: Letters written with a hamza or madda, spelled with the sign of their base letter.
HAMZA_FORMS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ى"}
#: Harakat and other marks that are not spelled (fatha, damma, shadda, sukun, tatweel, ...).
UNSPELLED = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670", "\u0640"}


def text_to_classes(text: str) -> list[list[str]]:
    """The signs that spell ``text``, word by word.

    ``لا`` anywhere is the ``la`` sign and ``ال`` at the start of a word the ``al`` sign (the
    article); hamza forms are spelled with their base letter; diacritics are skipped. A
    character with no sign raises :class:`UserError` naming it.
    """
    words: list[list[str]] = []
    for word in unicodedata.normalize("NFC", text).split():
        chars = [HAMZA_FORMS.get(c, c) for c in word if c not in UNSPELLED]
        classes: list[str] = []
        i = 0
        while i < len(chars):
            pair = "".join(chars[i : i + 2])
            if pair == "لا":
                classes.append("la")
                i += 2
            elif pair == "ال" and i == 0:
                classes.append("al")
                i += 2
            elif chars[i] in SIGN_FOR_CHAR:
                classes.append(SIGN_FOR_CHAR[chars[i]])
                i += 1
            else:
                char = chars[i]
                raise UserError(
                    f"--text: no ArASL sign for {char!r} (U+{ord(char):04X}) in {word!r}; "
                    "use Arabic letters only"
                )
        if classes:
            words.append(classes)
    if not words:
        raise UserError("--text: nothing to spell (give Arabic words)")
    return words


def default_samples() -> Traversable:
    """The held-out sample images shipped with the model: ``samples/<class>/*.png``."""
    return resources.files("edge_arasl_models") / "samples"


def load_samples(
    folder: Path | Traversable | None = None,
) -> dict[str, list[tuple[str, np.ndarray]]]:
    """``{class: [(name, 64x64 gray image), ...]}`` from a folder of class sub-folders."""
    folder = default_samples() if folder is None else folder
    if not folder.is_dir():
        raise UserError(f"{folder}: no such folder of sample images")
    samples: dict[str, list[tuple[str, np.ndarray]]] = {}
    for class_dir in sorted(folder.iterdir(), key=lambda p: p.name):
        if not class_dir.is_dir() or class_dir.name not in SIGN_CLASSES:
            continue
        for item in sorted(class_dir.iterdir(), key=lambda p: p.name):
            if item.name.lower().endswith((".png", ".jpg", ".jpeg")):
                data = np.frombuffer(item.read_bytes(), np.uint8)
                image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
                if image is None:
                    raise UserError(f"{item}: not a readable image")
                samples.setdefault(class_dir.name, []).append(
                    (f"{class_dir.name}/{item.name}", image)
                )
    if not samples:
        raise UserError(f"{folder}: no <class>/*.png sample images")
    return samples


@dataclass(frozen=True)
class DemoTiming:
    """Durations in seconds, each drawn uniformly from its range per occurrence."""

    hold: tuple[float, float] = (0.6, 1.0)
    transition: tuple[float, float] = (0.12, 0.2)  # blurred cross-fade between two letters
    release: tuple[float, float] = (0.25, 0.35)  # hand out of view between repeated letters
    fade: float = 0.08  # hand entering or leaving view
    word_pause: tuple[float, float] = (1.0, 1.4)
    lead_in: float = 0.6
    tail: float = 1.0


class _Scene:
    """Draws frames: a static textured background with the hand patch in the region."""

    def __init__(self, size: tuple[int, int], roi: Roi, rng: np.random.Generator) -> None:
        self.width, self.height = size
        self.box = roi.to_pixels(self.width, self.height)
        self.rng = rng
        self.background = _room(self.width, self.height, rng)
        x, y, w, h = self.box
        self.empty = cv2.cvtColor(self.background[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY)
        self.empty = self.empty.astype(np.float32)

    def hand(self, image: np.ndarray) -> _Hand:
        return _Hand(image, (self.box[2], self.box[3]), self.rng)

    def frame(self, patch: np.ndarray | None) -> np.ndarray:
        out = self.background.copy()
        if patch is not None:
            x, y, w, h = self.box
            gray = np.clip(patch, 0, 255).astype(np.uint8)
            out[y : y + h, x : x + w] = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        return out


class _Hand:
    """One shown sign: the sample scaled to the region, a fixed pose jitter and a tremor."""

    def __init__(self, image: np.ndarray, size: tuple[int, int], rng: np.random.Generator):
        w, h = size
        self.size = size
        self.base = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        scale = rng.uniform(1.0, 1.08)
        angle = rng.uniform(-4, 4)
        shift = rng.uniform(-0.03, 0.03, 2) * (w, h)
        self.matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        self.matrix[:, 2] += shift
        self.gain = rng.uniform(0.92, 1.08)
        self.phase = rng.uniform(0, 2 * math.pi, 2)

    def at(self, t: float) -> np.ndarray:
        """The patch ``t`` seconds into the hold (a ~1.5 px, ~2 Hz tremor)."""
        m = self.matrix.copy()
        m[0, 2] += 1.5 * math.sin(2 * math.pi * 1.7 * t + self.phase[0])
        m[1, 2] += 1.5 * math.sin(2 * math.pi * 2.3 * t + self.phase[1])
        patch = cv2.warpAffine(
            self.base, m, self.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return patch * self.gain


def _room(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
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


def _blend(a: np.ndarray, b: np.ndarray, s: float, blur: float) -> np.ndarray:
    """``a`` turning into ``b`` (``s`` from 0 to 1), motion-blurred by up to ``blur`` px."""
    s = s * s * (3 - 2 * s)  # smoothstep
    mixed = (1 - s) * a + s * b
    sigma = blur * math.sin(math.pi * s)
    return cv2.GaussianBlur(mixed, (0, 0), sigma) if sigma > 0.3 else mixed


def _frames_in(start: float, duration: float, fps: float) -> Iterator[float]:
    """Seconds since ``start`` of the frames falling in ``[start, start + duration)``."""
    first = math.ceil(start * fps - 1e-9)
    last = math.ceil((start + duration) * fps - 1e-9)
    for n in range(first, last):
        yield n / fps - start


class _Recorder:
    """Writes frames on a running clock: the hand held, blended, or out of view."""

    def __init__(self, writer: cv2.VideoWriter, scene: _Scene, fps: float) -> None:
        self.writer, self.scene, self.fps = writer, scene, fps
        self.clock = 0.0

    def _emit(self, duration: float, patch_at: Callable[[float], np.ndarray | None]) -> None:
        for t in _frames_in(self.clock, duration, self.fps):
            self.writer.write(self.scene.frame(patch_at(t)))
        self.clock += duration

    def absent(self, duration: float) -> None:
        self._emit(duration, lambda t: None)

    def hold(self, hand: _Hand, duration: float) -> None:
        self._emit(duration, hand.at)

    def blend(self, a: np.ndarray | None, b: np.ndarray | None, duration: float) -> None:
        """From patch ``a`` to ``b`` (``None``: out of view), blurred most in the middle."""
        a = self.scene.empty if a is None else a
        b = self.scene.empty if b is None else b
        self._emit(duration, lambda t: _blend(a, b, t / duration, blur=8.0))


def make_demo(
    out: str | Path,
    text: str,
    *,
    samples: Path | Traversable | None = None,
    seed: int = 0,
    fps: float = 30.0,
    size: tuple[int, int] = (640, 480),
    roi: Roi | None = None,
    timing: DemoTiming | None = None,
) -> dict[str, Any]:
    """Write the video ``out`` and its truth (:func:`truth_path`); returns the truth record."""
    out = Path(out)
    words = text_to_classes(text)
    library = load_samples(samples)
    missing = sorted({c for word in words for c in word} - set(library))
    if missing:
        raise UserError(f"no sample images for sign(s) {', '.join(missing)} in the samples folder")
    if fps <= 0 or min(size) < 64:
        raise UserError(f"fps must be > 0 and the size at least 64x64 (got {fps}, {size})")
    timing = timing or DemoTiming()
    roi = roi or Roi()
    rng = np.random.default_rng(seed)

    def uniform(bounds: tuple[float, float]) -> float:
        return float(rng.uniform(*bounds))

    scene = _Scene(size, roi, rng)
    writer = _open_writer(out, fps, size)
    rec = _Recorder(writer, scene, fps)
    letters: list[dict[str, Any]] = []
    try:
        rec.absent(timing.lead_in)
        for w, word in enumerate(words):
            if w:
                rec.absent(uniform(timing.word_pause))
            shown: tuple[str, np.ndarray] | None = None  # previous letter and its last patch
            for class_id in word:
                name, image = library[class_id][int(rng.integers(len(library[class_id])))]
                hand = scene.hand(image)
                if shown is None:
                    rec.blend(None, hand.at(0.0), timing.fade)
                elif shown[0] == class_id:  # a repeat: the hand leaves and comes back
                    rec.blend(shown[1], None, timing.fade)
                    rec.absent(uniform(timing.release))
                    rec.blend(None, hand.at(0.0), timing.fade)
                else:
                    rec.blend(shown[1], hand.at(0.0), uniform(timing.transition))
                start, hold = rec.clock, uniform(timing.hold)
                rec.hold(hand, hold)
                end = round(rec.clock, 3)
                letters.append({"class": class_id, "start": round(start, 3), "end": end})
                letters[-1]["sample"] = name
                shown = (class_id, hand.at(hold))
            rec.blend(shown[1] if shown else None, None, timing.fade)
        rec.absent(timing.tail)
    finally:
        writer.release()
    truth = {
        "text": " ".join(text.split()),
        "words": words,
        "letters": letters,
        "fps": fps,
        "size": list(size),
        "roi": [roi.x, roi.y, roi.w, roi.h],
        "seed": seed,
        "seconds": round(rec.clock, 3),
    }
    with truth_path(out).open("w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return truth


def truth_path(video: str | Path) -> Path:
    """Where the truth of ``video`` is written: ``demo.mp4`` -> ``demo.json``."""
    return Path(video).with_suffix(".json")


def _open_writer(out: Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    codecs = {".mp4": "mp4v", ".avi": "MJPG"}
    codec = codecs.get(out.suffix.lower())
    if codec is None:
        raise UserError(f"{out}: the output must end in .mp4 or .avi")
    if not out.parent.is_dir():
        raise UserError(f"{out.parent}: no such folder for the output video")
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise UserError(f"{out}: cannot write a {codec} video here")
    return writer
