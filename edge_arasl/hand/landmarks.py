"""Hand landmarks: MediaPipe's landmark model on an upright crop of the hand.

The model takes a 224x224 RGB crop in [0, 1] and returns 21 landmarks (x, y in crop pixels, z
in the same scale, relative to the wrist), a presence score (is a hand in the crop at all), and
handedness (the probability that it is a right hand as seen in an unmirrored camera image).
Landmarks come back in frame pixels through the crop's affine map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.hand.geometry import RotatedRect
from edge_arasl.preprocess import UNIT_SCALE, to_rgb
from edge_arasl.runtime import load_interpreter

#: Side of the landmark model's square input, in pixels.
INPUT_SIZE = 224
LANDMARKS = 21


@dataclass(frozen=True)
class HandLandmarks:
    """What the landmark model read in one crop.

    ``points`` is 21x3: x, y in frame pixels and z (depth relative to the wrist) in the same
    scale; ``presence`` the model's confidence that a hand is there; ``right`` the probability
    that it is a right hand; ``rect`` the crop it was read in.
    """

    points: np.ndarray
    presence: float
    right: float
    rect: RotatedRect

    @property
    def is_left(self) -> bool:
        return self.right < 0.5


class LandmarkModel:
    """Runs the landmark model on a rotated crop of an RGB frame."""

    def __init__(self, model_path: Path, *, num_threads: int = 1, hint: str = "") -> None:
        _, self._interpreter = load_interpreter(model_path, num_threads, hint=hint)
        inputs = self._interpreter.get_input_details()
        outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        shape = tuple(inputs[0]["shape"]) if len(inputs) == 1 else ()
        names = ("Identity", "Identity_1", "Identity_2")
        if shape != (1, INPUT_SIZE, INPUT_SIZE, 3) or not all(n in outputs for n in names):
            raise UserError(f"{model_path}: not a hand landmark model ({hint})")
        self._input_index = inputs[0]["index"]
        self._points_index, self._presence_index, self._right_index = (outputs[n] for n in names)
        self._input = np.zeros((1, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)

    def read(self, image: np.ndarray, rect: RotatedRect, color: str = "rgb") -> HandLandmarks:
        """The landmarks of the hand in ``rect`` of ``image`` (gray, or ``color`` rgb/bgr)."""
        return self.read_crop(to_rgb(rect.crop(image, INPUT_SIZE), color), rect)

    def read_crop(self, crop: np.ndarray, rect: RotatedRect) -> HandLandmarks:
        """Landmarks of an already cut ``224x224`` RGB ``crop`` of ``rect``."""
        np.multiply(crop, UNIT_SCALE, out=self._input[0], casting="unsafe")
        interpreter = self._interpreter
        interpreter.set_tensor(self._input_index, self._input)
        interpreter.invoke()
        raw = interpreter.get_tensor(self._points_index).reshape(LANDMARKS, 3).astype(np.float64)
        presence = float(interpreter.get_tensor(self._presence_index).reshape(-1)[0])
        right = float(interpreter.get_tensor(self._right_index).reshape(-1)[0])
        m = rect.to_frame(INPUT_SIZE)
        points = np.empty((LANDMARKS, 3), dtype=np.float32)
        points[:, :2] = raw[:, :2] @ m[:, :2].T + m[:, 2]
        points[:, 2] = raw[:, 2] * rect.width / INPUT_SIZE
        return HandLandmarks(points, presence, right, rect)
