"""Compose a fingerspelling video from still sign images, with its ground truth.

There is no public video of ArASL fingerspelling with letter-level timing, so the demo and the
end-to-end tests make one: each letter is a held-out photo of that sign (never seen in
training) held for a natural, randomised time with a slight tremor, letters are joined by
short blurred cross-fades, a repeated letter by a brief release (hand out of view), words by a
longer pause, and a textured "room" surrounds the region of interest. Harder videos put
clutter in the room and the empty region (:mod:`edge_arasl.scenes`) or move the hand between
letters. The truth file written next to the video lists the letter classes of every word, and
when and where (a pixel box) each letter is shown.
"""

from __future__ import annotations

import json
import math
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.labels import ARABIC, NONE_CLASS, SIGN_CLASSES
from edge_arasl.region import Box, Roi
from edge_arasl.scenes import SCENES, Backdrop, HandLayout, busy_room, plain_room
from edge_arasl.sources.images import IMAGE_SUFFIXES

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # Python 3.10 has it only here
    from importlib.abc import Traversable

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
            if Path(item.name).suffix.lower() in IMAGE_SUFFIXES:
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
    """Draws frames: the backdrop at time ``t`` with a hand patch pasted at a pixel box."""

    def __init__(self, backdrop: Backdrop, box: Box, rng: np.random.Generator) -> None:
        self.backdrop, self.box, self.rng = backdrop, box, rng
        self._empty: dict[tuple[Box, float | None], np.ndarray] = {}

    def hand(self, image: np.ndarray, box: Box | None = None) -> _Hand:
        box = box or self.box
        return _Hand(image, (box[2], box[3]), self.rng)

    def empty(self, box: Box, t: float) -> np.ndarray:
        """The gray background in ``box`` at ``t``: what the region shows with no hand."""
        key = (box, t if self.backdrop.drifts else None)
        if key not in self._empty:
            if len(self._empty) > 64:
                self._empty.clear()
            x, y, w, h = box
            view = self.backdrop.at(t)[y : y + h, x : x + w]
            self._empty[key] = cv2.cvtColor(view, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return self._empty[key]

    def frame(self, patch: np.ndarray | None, box: Box, t: float) -> np.ndarray:
        out = self.backdrop.at(t).copy()
        if patch is not None:
            x, y, w, h = box
            gray = np.clip(patch, 0, 255).astype(np.uint8)
            out[y : y + h, x : x + w] = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
        return out


class _Hand:
    """One shown sign: the sample scaled to its box, a fixed pose jitter and a tremor."""

    def __init__(self, image: np.ndarray, size: tuple[int, int], rng: np.random.Generator):
        w, h = size
        self.size = size
        self.base = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        scale = rng.uniform(1.0, 1.08)
        angle = rng.uniform(-4, 4)
        shift = rng.uniform(-0.03, 0.03, 2) * (w, h)
        rotation = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        self.matrix = np.asarray(rotation, np.float64)
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
    """Writes frames on a running clock: the hand held, moving and blended, or out of view."""

    def __init__(self, writer: cv2.VideoWriter, scene: _Scene, fps: float) -> None:
        self.writer, self.scene, self.fps = writer, scene, fps
        self.clock = 0.0
        self.hand_free: list[list[float]] = []  # [start, end] of every span with no hand

    def _emit(
        self, duration: float, draw: Callable[[float], tuple[np.ndarray | None, Box]]
    ) -> None:
        for t in _frames_in(self.clock, duration, self.fps):
            patch, box = draw(t)
            self.writer.write(self.scene.frame(patch, box, self.clock + t))
        self.clock += duration

    def absent(self, duration: float) -> None:
        self.hand_free.append([round(self.clock, 3), round(self.clock + duration, 3)])
        self._emit(duration, lambda t: (None, self.scene.box))

    def hold(self, hand: _Hand, box: Box, duration: float) -> None:
        self._emit(duration, lambda t: (hand.at(t), box))

    def blend(
        self, a: np.ndarray | None, box_a: Box, b: np.ndarray | None, box_b: Box, duration: float
    ) -> None:
        """From patch ``a`` at ``box_a`` to ``b`` at ``box_b`` (``None``: out of view).

        Blurred most in the middle; between two boxes the hand moves along with the blend.
        """

        def draw(t: float) -> tuple[np.ndarray, Box]:
            s = t / duration
            box = box_a if box_a == box_b else _between(box_a, box_b, s)
            return _blend(self._fit(a, box, t), self._fit(b, box, t), s, blur=8.0), box

        self._emit(duration, draw)

    def _fit(self, patch: np.ndarray | None, box: Box, t: float) -> np.ndarray:
        if patch is None:
            return self.scene.empty(box, self.clock + t)
        if patch.shape != (box[3], box[2]):
            return cv2.resize(patch, box[2:], interpolation=cv2.INTER_LINEAR)
        return patch


def _between(a: Box, b: Box, s: float) -> Box:
    """The box ``s`` (0 to 1) of the way from ``a`` to ``b``, eased like :func:`_blend`."""
    s = s * s * (3 - 2 * s)
    x0, y0 = (round(p + s * (q - p)) for p, q in ((a[0], b[0]), (a[1], b[1])))
    x1 = round(a[0] + a[2] + s * (b[0] + b[2] - a[0] - a[2]))
    y1 = round(a[1] + a[3] + s * (b[1] + b[3] - a[1] - a[3]))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


#: ``make_demo(move=...)`` values and what moves: nothing, each letter, or each word.
MOVES: dict[bool | str, str | None] = {
    False: None,
    True: "letter",
    "letter": "letter",
    "word": "word",
}


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
    scene: str = "plain",
    move: bool | str = False,
    move_scale: tuple[float, float] = (0.6, 1.2),
    drift: bool = False,
) -> dict[str, Any]:
    """Write the video ``out`` and its truth (:func:`truth_path`); returns the truth record.

    ``scene`` is the background (:data:`edge_arasl.scenes.SCENES`: ``"busy"`` puts clutter in
    the empty region); ``move`` shows the hand at a new box for every letter (``True`` or
    ``"letter"``) or word (``"word"``) instead of always at ``roi``, its size scaled by a
    factor from ``move_scale``; ``drift`` pans the background slowly and varies its light.
    The defaults make exactly the video they made before these options existed. The signing
    (samples, poses, timings) depends only on ``seed``, not on these options.
    """
    out = Path(out)
    words = text_to_classes(text)
    library = load_samples(samples)
    missing = sorted({c for word in words for c in word} - set(library))
    if missing:
        raise UserError(f"no sample images for sign(s) {', '.join(missing)} in the samples folder")
    if fps <= 0 or min(size) < 64:
        raise UserError(f"fps must be > 0 and the size at least 64x64 (got {fps}, {size})")
    if scene not in SCENES:
        raise UserError(f"scene {scene!r}: expected one of {', '.join(SCENES)}")
    if move not in MOVES:
        raise UserError(f"move {move!r}: expected False, True, 'letter' or 'word'")
    if not 0 < move_scale[0] <= move_scale[1]:
        raise UserError(f"move_scale {move_scale}: expected 0 < low <= high")
    timing = timing or DemoTiming()
    roi = roi or Roi()
    rng = np.random.default_rng(seed)

    def uniform(bounds: tuple[float, float]) -> float:
        return float(rng.uniform(*bounds))

    region = roi.to_pixels(*size)
    pad = round(0.05 * max(size)) if drift else 0
    canvas_size = (size[0] + 2 * pad, size[1] + 2 * pad)
    canvas = plain_room(*canvas_size, rng)
    if scene == "busy":
        focus = (region[0] + pad, region[1] + pad, region[2], region[3])
        canvas = busy_room(*canvas_size, np.random.default_rng([seed, 1]), canvas, focus)
    backdrop = Backdrop(canvas, size, pad, np.random.default_rng([seed, 2]) if drift else None)
    moves = MOVES[move]
    layout = HandLayout(size, region, move_scale, np.random.default_rng([seed, 3]))
    scene_ = _Scene(backdrop, region, rng)
    writer = _open_writer(out, fps, size)
    rec = _Recorder(writer, scene_, fps)
    letters: list[dict[str, Any]] = []
    try:
        rec.absent(timing.lead_in)
        box = region
        for w, word in enumerate(words):
            if w:
                rec.absent(uniform(timing.word_pause))
            if moves == "word":
                box = layout.next()
            shown: tuple[str, np.ndarray, Box] | None = None  # previous letter, last patch, box
            for class_id in word:
                name, image = library[class_id][int(rng.integers(len(library[class_id])))]
                if moves == "letter":
                    box = layout.next()
                hand = scene_.hand(image, box)
                if shown is None:
                    rec.blend(None, box, hand.at(0.0), box, timing.fade)
                elif shown[0] == class_id:  # a repeat: the hand leaves and comes back
                    rec.blend(shown[1], shown[2], None, shown[2], timing.fade)
                    rec.absent(uniform(timing.release))
                    rec.blend(None, box, hand.at(0.0), box, timing.fade)
                else:
                    rec.blend(shown[1], shown[2], hand.at(0.0), box, uniform(timing.transition))
                start, hold = rec.clock, uniform(timing.hold)
                rec.hold(hand, box, hold)
                end = round(rec.clock, 3)
                letters.append({"class": class_id, "start": round(start, 3), "end": end})
                letters[-1]["sample"] = name
                letters[-1]["box"] = list(box)
                shown = (class_id, hand.at(hold), box)
            assert shown is not None
            rec.blend(shown[1], shown[2], None, shown[2], timing.fade)
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
        "scene": scene,
        "move": moves or False,
        "drift": drift,
        "hand_free": rec.hand_free,
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
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise UserError(f"{out}: cannot write a {codec} video here")
    return writer
