"""The landmark classifier: which sign a hand's 21 landmarks make, from their shape alone.

A small MLP over :func:`edge_arasl.hand.features.features` (wrist-relative, divided by the
hand's size, a left hand mirrored when the model was trained so). It reads what the CNN cannot
see well, the finger configuration, whatever the lighting and background, and is fused with the
CNN by :mod:`edge_arasl.fusion`.

The metadata JSON beside the model (same stem) gives its classes in output order, the feature
definition it was trained on, the landmark model's presence threshold below which a crop is
taken to hold no hand, and the fusion weight chosen on the validation blocks. A frame costs
one feature vector and one tiny ``invoke`` (microseconds).
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.classifier import VIEWS
from edge_arasl.errors import UserError
from edge_arasl.hand.features import FEATURES, features
from edge_arasl.hand.landmarks import HandLandmarks
from edge_arasl.labels import SIGN_CLASSES
from edge_arasl.runtime import load_interpreter, metadata_classes, read_metadata

#: The shipped landmark classifier (its metadata is the ``.json`` beside it).
DEFAULT_MODEL_PATH = Path(
    str(importlib.resources.files("edge_arasl_models") / "landmarks_mlp.tflite")
)
#: The feature definition this code computes; a model trained on another one is refused.
FEATURE_NAME = "wrist-relative / hand-size / left mirrored"
FEATURE_VERSION = 1


@dataclass(frozen=True)
class LandmarkMetadata:
    """What the runtime needs beyond the tensors: classes, features, threshold, fusion weight."""

    classes: tuple[str, ...]
    mirror_left: bool
    presence_threshold: float
    fusion_weight: float
    fusion_views: str | None = None  # the CNN's test-time views the weight was chosen with


def _number(path: Path, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise UserError(f"{path}: '{what}' must be a number from 0 to 1, not {value!r}")
    return float(value)


def load_metadata(path: Path) -> LandmarkMetadata:
    """Read and check the model's metadata JSON; every problem is a one-line UserError."""
    data = read_metadata(path)
    classes = metadata_classes(path, data, SIGN_CLASSES)
    spec = data.get("features")
    if not isinstance(spec, dict):
        raise UserError(f"{path}: missing 'features' object (name, version, mirror_left)")
    if spec.get("name") != FEATURE_NAME or spec.get("version") != FEATURE_VERSION:
        raise UserError(
            f"{path}: trained on features {spec.get('name')!r} version {spec.get('version')!r}; "
            f"this edge-arasl computes {FEATURE_NAME!r} version {FEATURE_VERSION}"
        )
    mirror = spec.get("mirror_left")
    if not isinstance(mirror, bool):
        raise UserError(f"{path}: 'features.mirror_left' must be true or false, not {mirror!r}")
    threshold = _number(path, data.get("presence_threshold"), "presence_threshold")
    fusion = data.get("fusion")
    if not isinstance(fusion, dict):
        raise UserError(f"{path}: missing 'fusion' object (weight)")
    weight = _number(path, fusion.get("weight"), "fusion.weight")
    views = fusion.get("cnn_views")
    if views is not None and views not in VIEWS:
        raise UserError(
            f"{path}: 'fusion.cnn_views' must be one of {', '.join(VIEWS)}, not {views!r}"
        )
    return LandmarkMetadata(classes, mirror, threshold, weight, views)


class LandmarkClassifier:
    """Probabilities over the sign classes of one hand's landmarks.

    ``model_path`` defaults to the shipped model. Not thread-safe (one interpreter): use one
    per thread.
    """

    def __init__(
        self, model_path: str | Path | None = None, num_threads: int = 1, backend: str | None = None
    ) -> None:
        path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
        self.backend, interpreter = load_interpreter(path, num_threads, backend)
        meta = load_metadata(path.with_suffix(".json"))
        self.model_path = path
        self.classes: tuple[str, ...] = meta.classes
        self.mirror_left = meta.mirror_left
        #: Below this landmark-model presence the crop is taken to hold no hand.
        self.presence_threshold = meta.presence_threshold
        #: The fusion weight chosen on the validation blocks (see :mod:`edge_arasl.fusion`).
        self.fusion_weight = meta.fusion_weight
        #: The CNN's ``[classifier] views`` it was chosen with (None: not recorded).
        self.fusion_views = meta.fusion_views
        inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise UserError(f"{path}: expected one input and one output tensor")
        inp, out = inputs[0], outputs[0]
        if tuple(inp["shape"]) != (1, FEATURES) or inp["dtype"] != np.float32:
            raise UserError(
                f"{path}: input must be 1x{FEATURES} float32 landmark features, not "
                f"{tuple(inp['shape'])} {np.dtype(inp['dtype']).name}"
            )
        if out["dtype"] != np.float32 or int(np.prod(out["shape"])) != len(self.classes):
            raise UserError(
                f"{path.with_suffix('.json')}: lists {len(self.classes)} classes but the model "
                f"outputs {int(np.prod(out['shape']))} {np.dtype(out['dtype']).name} values"
            )
        self._interpreter = interpreter
        self._input = np.zeros((1, FEATURES), dtype=np.float32)
        self._input_index, self._output_index = int(inp["index"]), int(out["index"])

    def probabilities_features(self, vector: np.ndarray) -> np.ndarray:
        """Probabilities (float32, :attr:`classes` order) of one feature vector."""
        self._input[0] = vector
        self._interpreter.set_tensor(self._input_index, self._input)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output_index).reshape(-1).astype(np.float32)

    def probabilities(self, points: np.ndarray, left: bool) -> np.ndarray:
        """Probabilities of 21x3 landmarks (any pixel units, e.g. frame pixels).

        ``left`` (the landmark model's handedness) mirrors the hand first only if the model was
        trained so (:attr:`mirror_left`); the shipped one was not (models/MODEL_CARD.md).
        """
        return self.probabilities_features(features(points, left=left and self.mirror_left))

    def read(self, hand: HandLandmarks | None) -> np.ndarray | None:
        """Probabilities of a landmark reading, or None when it holds no usable hand.

        None below :attr:`presence_threshold` or for degenerate landmarks, so the caller falls
        back to the CNN alone (``Fusion(...)(cnn, None)``).
        """
        if hand is None or not hand.presence >= self.presence_threshold:
            return None
        try:
            return self.probabilities(hand.points, hand.is_left)
        except ValueError:  # all points at the wrist: nothing to classify
            return None

    def __repr__(self) -> str:
        return (
            f"LandmarkClassifier({str(self.model_path)!r}, backend={self.backend!r}, "
            f"classes={len(self.classes)}, fusion_weight={self.fusion_weight:g})"
        )
