"""The int8 sign classifier: the CNN that reads the hand's pixels (:mod:`edge_arasl.runtime`
runs it on whichever TFLite interpreter is installed).

The model's metadata sits beside it (same stem, ``.json``): its class ids in output order and
its input (``size``, ``color`` "gray", ``scale``: the factor from pixels to what the network was
trained on; optional ``margin``: see :func:`edge_arasl.preprocess.add_margin`). Input
quantisation is folded into a 256-entry lookup table and the input buffer is allocated once, so
a frame costs one table lookup, ``set_tensor``, ``invoke`` and ``get_tensor`` per view (see
:data:`VIEWS`). An interpreter is not thread-safe: use one :class:`Classifier` per thread.
"""

from __future__ import annotations

import importlib.resources
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.labels import ARABIC
from edge_arasl.preprocess import add_margin, margin_problem, prepare
from edge_arasl.runtime import check_model_file, load_interpreter, metadata_classes, read_metadata
from edge_arasl.settings import bounded

log = logging.getLogger(__name__)

#: The shipped model (its metadata is the ``.json`` beside it).
DEFAULT_MODEL_PATH = Path(str(importlib.resources.files("edge_arasl_models") / "arasl_int8.tflite"))

#: ``[classifier] views``: the crop is read as it is, or also resized about its centre by each
#: of these factors (edge pixels repeated), and the probabilities of the views are averaged
#: (test-time augmentation). Each view is one more CNN run a frame. The scales were chosen on
#: validation blocks read by a model that did not train on them (models/MODEL_CARD.md,
#: "Test-time augmentation").
Views = Literal["one", "scales"]
VIEWS: dict[str, tuple[float, ...]] = {"one": (1.0,), "scales": (1.0, 0.92, 1.08)}


@dataclass(frozen=True)
class ClassifierSettings:
    """``[classifier]``: which model runs and how."""

    model: str = ""
    landmark_model: str = ""
    threads: int = bounded(1, ge=1, le=64)
    backend: Literal["auto", "ai_edge_litert", "tflite_runtime", "tensorflow"] = "auto"
    views: Views = "scales"


# Ops that only change the number format of a tensor, looked through to find the last real op.
_FORMAT_OPS = {"QUANTIZE", "DEQUANTIZE", "RESHAPE", "SQUEEZE"}


@dataclass(frozen=True)
class Prediction:
    """Top class of one image: its id, Arabic text, probability, and all class probabilities."""

    class_id: str
    text: str
    confidence: float
    probabilities: np.ndarray


@dataclass(frozen=True)
class ModelMetadata:
    """What the runtime needs to know about a model beyond its tensors."""

    classes: tuple[str, ...]
    input_size: int
    input_scale: float
    input_margin: int = 0


def load_metadata(path: Path) -> ModelMetadata:
    """Read and check a model's metadata JSON; every problem is a one-line :class:`UserError`."""
    data = read_metadata(path)
    classes = metadata_classes(path, data, ARABIC)
    spec = data.get("input")
    if not isinstance(spec, dict):
        raise UserError(f"{path}: missing 'input' object (size, color, scale)")
    size, color, scale = spec.get("size"), spec.get("color"), spec.get("scale")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise UserError(f"{path}: 'input.size' must be a positive integer, not {size!r}")
    if color != "gray":
        raise UserError(f"{path}: 'input.color' must be \"gray\", not {color!r}")
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not scale > 0:
        raise UserError(f"{path}: 'input.scale' must be a positive number, not {scale!r}")
    margin = spec.get("margin", 0)
    problem = margin_problem(margin, size)
    if problem:
        raise UserError(f"{path}: 'input.margin' {problem}")
    return ModelMetadata(classes, size, float(scale), margin)


def _ends_with_softmax(interpreter: Any, output_index: int) -> bool | None:
    """Whether the op producing the output (through format conversions) is a softmax.

    None when the backend cannot list its ops.
    """
    try:
        ops = [op for op in interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
    except Exception:
        return None
    producer = {int(t): op for op in ops for t in op["outputs"]}
    tensor = output_index
    while (op := producer.get(tensor)) is not None and op["op_name"] in _FORMAT_OPS:
        tensor = int(op["inputs"][0])
    return op is not None and op["op_name"] == "SOFTMAX"


_EDGE = cv2.BORDER_REPLICATE


def _scaling(scale: float, size: int) -> np.ndarray:
    """The affine matrix that resizes a ``size`` square by ``scale`` about its centre."""
    centre = (size - 1) / 2
    return np.asarray(cv2.getRotationMatrix2D((centre, centre), 0, scale), np.float64)


def _input_table(dtype: type, quantization: tuple[float, int], pixel_scale: float) -> np.ndarray:
    """Input tensor value for each pixel value 0..255: ``pixel * pixel_scale``, quantised."""
    values = np.arange(256, dtype=np.float64) * pixel_scale
    if dtype == np.float32:
        return values.astype(np.float32)
    scale, zero = quantization
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero), info.min, info.max).astype(dtype)


class Classifier:
    """Probabilities over the model's classes for a hand image.

    ``model_path`` defaults to the shipped model; ``backend`` forces one of
    :data:`~edge_arasl.runtime.BACKENDS`; ``margin`` replaces the metadata's input margin (to
    measure another one); ``views`` names the test-time views averaged (:data:`VIEWS`).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        num_threads: int = 1,
        backend: str | None = None,
        margin: int | None = None,
        views: str = "one",
    ) -> None:
        path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise UserError(f"num_threads must be a positive integer, not {num_threads!r}")
        check_model_file(path)
        meta = load_metadata(path.with_suffix(".json"))
        self.model_path = path
        self.classes: tuple[str, ...] = meta.classes
        self.input_size: int = meta.input_size
        problem = None if margin is None else margin_problem(margin, meta.input_size)
        if problem:
            raise UserError(f"margin {problem}")
        self.input_margin: int = meta.input_margin if margin is None else margin
        self.num_threads = num_threads
        if views not in VIEWS:
            raise UserError(f"views must be one of {', '.join(VIEWS)}, not {views!r}")
        self.views = views
        self._warps = [_scaling(scale, meta.input_size) for scale in VIEWS[views][1:]]
        self._texts = tuple(ARABIC[c] for c in meta.classes)
        self.backend, interpreter = load_interpreter(path, num_threads, backend)
        self._interpreter = interpreter
        self._setup_tensors(path, meta)

    def _setup_tensors(self, path: Path, meta: ModelMetadata) -> None:
        interpreter = self._interpreter
        inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise UserError(f"{path}: expected one input and one output tensor")
        inp, out = inputs[0], outputs[0]
        size = meta.input_size
        if tuple(inp["shape"]) not in ((1, size, size, 1), (1, size, size)):
            raise UserError(
                f"{path}: input tensor shape {tuple(inp['shape'])} does not match the "
                f"metadata's {size}x{size} gray input"
            )
        if inp["dtype"] not in (np.int8, np.uint8, np.float32):
            raise UserError(f"{path}: unsupported input type {np.dtype(inp['dtype']).name}")
        if inp["dtype"] != np.float32 and not inp["quantization"][0] > 0:
            raise UserError(f"{path}: integer input tensor without quantisation parameters")
        n_out = int(np.prod(out["shape"]))
        if n_out != len(meta.classes):
            raise UserError(
                f"{path.with_suffix('.json')}: lists {len(meta.classes)} classes but the model "
                f"outputs {n_out}"
            )
        self._table = _input_table(inp["dtype"], inp["quantization"], meta.input_scale)
        self._input = np.zeros(inp["shape"], dtype=inp["dtype"])
        self._pixels = self._input.reshape(size, size)  # a view: writes land in _input
        self._input_index = int(inp["index"])
        self._output_index = int(out["index"])
        out_scale, out_zero = out["quantization"]
        self._dequantise = out["dtype"] != np.float32 and out_scale > 0
        self._out_scale, self._out_zero = np.float32(out_scale), np.float32(out_zero)
        self._set_tensor: Callable[..., Any] = interpreter.set_tensor
        self._invoke: Callable[[], Any] = interpreter.invoke
        self._get_tensor: Callable[[int], np.ndarray] = interpreter.get_tensor
        softmax = _ends_with_softmax(interpreter, self._output_index)
        self._softmax = False
        if softmax is None:  # backend cannot list ops: look at what a gray image gives
            probe = self.probabilities_prepared(np.full((size, size), 128, np.uint8))
            softmax = bool(probe.min() >= 0 and abs(float(probe.sum()) - 1) < 0.1)
        self._softmax = not softmax

    def probabilities_prepared(self, gray: np.ndarray) -> np.ndarray:
        """Class probabilities (float32, model order) of an ``input_size`` square gray uint8.

        The model's ``margin``, if any, is added here, so every caller frames alike.
        """
        if gray.shape != self._pixels.shape or gray.dtype != np.uint8:
            raise UserError(
                f"prepared image must be {self.input_size}x{self.input_size} uint8, "
                f"not {gray.shape} {gray.dtype}"
            )
        probs = self._read(gray)
        if self._warps:
            size = (self.input_size, self.input_size)
            for warp in self._warps:
                probs += self._read(
                    cv2.warpAffine(gray, warp, size, flags=cv2.INTER_LINEAR, borderMode=_EDGE)
                )
            probs /= len(self._warps) + 1
        return probs

    def _read(self, gray: np.ndarray) -> np.ndarray:
        """One CNN run: probabilities (a new float32 array) of one view."""
        if self.input_margin:
            gray = add_margin(gray, self.input_margin)
        np.take(self._table, gray, out=self._pixels, mode="clip")
        self._set_tensor(self._input_index, self._input)
        self._invoke()
        raw = self._get_tensor(self._output_index).reshape(-1)
        probs = raw.astype(np.float32)
        if self._dequantise:
            probs -= self._out_zero
            probs *= self._out_scale
        if self._softmax:
            probs -= probs.max()
            np.exp(probs, out=probs)
            probs /= probs.sum()
        return probs

    def probabilities(self, image: np.ndarray, color: str = "bgr") -> np.ndarray:
        """Class probabilities of any gray/BGR/RGB/RGBA image or crop (``color``: bgr or rgb)."""
        return self.probabilities_prepared(prepare(image, color, self.input_size))

    def probabilities_batch(self, images: np.ndarray) -> np.ndarray:
        """``(N, n_classes)`` probabilities of ``N`` images already prepared (N x size x size).

        One frame at a time: a batched interpreter is no faster per image with XNNPACK.
        """
        result = np.empty((len(images), len(self.classes)), dtype=np.float32)
        for i, image in enumerate(images):
            result[i] = self.probabilities_prepared(image)
        return result

    def classify(self, image: np.ndarray, color: str = "bgr") -> Prediction:
        """The most probable class of an image, with its Arabic text and probability."""
        return self.prediction(self.probabilities(image, color))

    def prediction(self, probs: np.ndarray) -> Prediction:
        """The top class of probabilities in this model's class order."""
        best = int(probs.argmax())
        return Prediction(self.classes[best], self._texts[best], float(probs[best]), probs)

    def __repr__(self) -> str:
        return (
            f"Classifier({str(self.model_path)!r}, backend={self.backend!r}, "
            f"num_threads={self.num_threads}, views={self.views!r}, classes={len(self.classes)})"
        )
