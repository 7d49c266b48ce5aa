"""Palm detection: MediaPipe's palm detector (a TFLite SSD) and its decoding, written here.

The model takes a 192x192 RGB image in [0, 1] and scores 2016 fixed anchors: a 24x24 grid
(stride 8) with 2 anchors a cell, then a 12x12 grid (stride 16) with 6, row by row, each anchor
centred in its cell. For every anchor it regresses a box (centre offset and size, in input
pixels) and 7 keypoints (0 = wrist, 2 = middle-finger knuckle). Frames that are not square are
letterboxed (padded, centred) so hands keep their shape. Overlapping detections are merged by
weighted non-maximum suppression: the boxes of one hand averaged by score, which is steadier
than keeping only the best one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.preprocess import UNIT_SCALE, to_rgb
from edge_arasl.runtime import load_interpreter

#: Side of the detector's square input, in pixels.
INPUT_SIZE = 192
#: (grid side, anchors a cell) of the two feature maps, in output order.
GRIDS = ((24, 2), (12, 6))
KEYPOINTS = 7


def anchors() -> np.ndarray:
    """The 2016 anchor centres, ``(x, y)`` in [0, 1] of the input, in output order."""
    rows = []
    for side, per_cell in GRIDS:
        ys, xs = np.mgrid[0:side, 0:side]
        centres = np.stack([(xs + 0.5) / side, (ys + 0.5) / side], axis=-1).reshape(-1, 2)
        rows.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(rows).astype(np.float32)


@dataclass(frozen=True)
class Palm:
    """One detected palm: ``box`` ``(cx, cy, w, h)`` and ``keypoints`` 7x2, in image pixels."""

    score: float
    box: np.ndarray
    keypoints: np.ndarray

    def corners(self) -> np.ndarray:
        """``(x0, y0, x1, y1)`` of the box."""
        cx, cy, w, h = self.box
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Scores from raw logits, clipped as MediaPipe does so exp never overflows."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))


def decode(
    regressors: np.ndarray, logits: np.ndarray, anchor_centres: np.ndarray, min_score: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, rows)`` of anchors scoring at least ``min_score``.

    Each row is ``cx, cy, w, h`` then 7 keypoints ``x, y``, all in input pixels.
    """
    scores = sigmoid(logits.reshape(-1))
    keep = np.flatnonzero(scores >= min_score)
    rows = regressors.reshape(-1, 4 + 2 * KEYPOINTS)[keep].astype(np.float64)
    offset = anchor_centres[keep].astype(np.float64) * INPUT_SIZE
    rows[:, 0:2] += offset
    for k in range(KEYPOINTS):
        rows[:, 4 + 2 * k : 6 + 2 * k] += offset
    return scores[keep], rows


def iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Intersection over union of one ``cx, cy, w, h`` box with each row of ``others``."""
    a0, a1 = box[:2] - box[2:4] / 2, box[:2] + box[2:4] / 2
    b0, b1 = others[:, :2] - others[:, 2:4] / 2, others[:, :2] + others[:, 2:4] / 2
    inter = np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0, None).prod(axis=1)
    union = box[2] * box[3] + others[:, 2] * others[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(
    scores: np.ndarray, rows: np.ndarray, threshold: float
) -> list[tuple[float, np.ndarray]]:
    """Merge overlapping detections: each cluster's rows averaged by score, best first.

    A cluster is the best remaining detection and every other one overlapping it by more than
    ``threshold`` IoU; it keeps the best one's score.
    """
    order = np.argsort(-scores, kind="stable")
    scores, rows = scores[order], rows[order]
    merged = []
    remaining = np.arange(len(scores))
    while remaining.size:
        best = remaining[0]
        overlap = iou(rows[best], rows[remaining]) > threshold
        overlap[0] = True
        cluster = remaining[overlap]
        weights = scores[cluster] / scores[cluster].sum()
        merged.append((float(scores[best]), weights @ rows[cluster]))
        remaining = remaining[~overlap]
    return merged


@dataclass(frozen=True)
class Letterbox:
    """How an image was fitted into the square input: scale, then padding on the left/top."""

    scale: float
    pad_x: float
    pad_y: float

    @classmethod
    def fit(cls, width: int, height: int, size: int = INPUT_SIZE) -> Letterbox:
        scale = size / max(width, height)
        return cls(scale, (size - width * scale) / 2, (size - height * scale) / 2)

    def to_image(self, rows: np.ndarray) -> np.ndarray:
        """Rows of input pixels (box, then keypoints) back in image pixels."""
        out = rows.copy()
        out[:, 0::2] -= self.pad_x  # x of the centre, then width (fixed below), keypoint x
        out[:, 1::2] -= self.pad_y
        out[:, 2:4] = rows[:, 2:4]  # sizes are not shifted
        return out / self.scale

    def image(self, image: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
        """``image`` scaled into a black ``size x size`` square, centred (channels kept)."""
        h, w = image.shape[:2]
        new_w, new_h = max(round(w * self.scale), 1), max(round(h * self.scale), 1)
        interpolation = cv2.INTER_AREA if self.scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
        out = np.zeros((size, size, *image.shape[2:]), dtype=image.dtype)
        x0, y0 = round(self.pad_x), round(self.pad_y)
        out[y0 : y0 + new_h, x0 : x0 + new_w] = resized[: size - y0, : size - x0]
        return out


class PalmDetector:
    """Palms in an RGB image, best first (at most ``max_palms``)."""

    def __init__(
        self,
        model_path: Path,
        *,
        num_threads: int = 1,
        min_score: float = 0.5,
        nms_threshold: float = 0.3,
        max_palms: int = 2,
        hint: str = "",
    ) -> None:
        _, self._interpreter = load_interpreter(model_path, num_threads, hint=hint)
        inputs = self._interpreter.get_input_details()
        details = self._interpreter.get_output_details()
        outputs = {tuple(d["shape"][1:]): d["index"] for d in details}
        shape = tuple(inputs[0]["shape"]) if len(inputs) == 1 else ()
        expected = (len(anchors()), 4 + 2 * KEYPOINTS)
        if shape != (1, INPUT_SIZE, INPUT_SIZE, 3) or expected not in outputs:
            raise UserError(f"{model_path}: not a palm detection model ({hint})")
        self._input_index = inputs[0]["index"]
        self._boxes_index = outputs[expected]
        self._scores_index = outputs[(expected[0], 1)]
        self._anchors = anchors()
        self._input = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
        self.min_score = min_score
        self.nms_threshold = nms_threshold
        self.max_palms = max_palms

    def detect(self, image: np.ndarray, color: str = "rgb") -> list[Palm]:
        """Palms in ``image`` (gray, or ``color`` "rgb"/"bgr" uint8), in its pixels.

        The frame is scaled down before any colour conversion, so a BGR camera frame costs
        one 192x192 conversion, not a full-frame one.
        """
        h, w = image.shape[:2]
        box = Letterbox.fit(w, h)
        rgb = to_rgb(box.image(image), color)
        np.multiply(rgb, UNIT_SCALE, out=self._input[0], casting="unsafe")
        self._interpreter.set_tensor(self._input_index, self._input)
        self._interpreter.invoke()
        regressors = self._interpreter.get_tensor(self._boxes_index)[0]
        logits = self._interpreter.get_tensor(self._scores_index)[0]
        scores, rows = decode(regressors, logits, self._anchors, self.min_score)
        if not len(scores):
            return []
        palms = []
        for score, row in weighted_nms(scores, rows, self.nms_threshold)[: self.max_palms]:
            image_row = box.to_image(row[None, :])[0]
            keypoints = image_row[4:].reshape(KEYPOINTS, 2)
            palms.append(Palm(score, image_row[:4], keypoints))
        return palms
