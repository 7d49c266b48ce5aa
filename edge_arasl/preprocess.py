"""Turn any image or camera crop into the classifier's input, exactly as in training.

The training images are 64x64 grayscale, downscaled from larger photos by area averaging, so a
live crop goes the same way: to gray (ITU-R 601 luma), then area-resized to 64x64. The model
itself takes pixels scaled to 0..1; :mod:`edge_arasl.classifier` quantises that for the int8
input tensor.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_arasl.errors import UserError

#: Side of the square model input, in pixels.
INPUT_SIZE = 64


def to_gray(image: np.ndarray, color: str = "bgr") -> np.ndarray:
    """Gray uint8 ``HxW`` from gray, ``HxWx1``, BGR/RGB ``HxWx3`` or BGRA/RGBA ``HxWx4``.

    ``color`` names the channel order of 3- and 4-channel input (``"bgr"`` as OpenCV reads,
    ``"rgb"`` as Pillow does). Float input is taken as 0..1.
    """
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise UserError("image is empty or not an array")
    if image.dtype != np.uint8:
        if not np.issubdtype(image.dtype, np.floating) and not np.issubdtype(
            image.dtype, np.integer
        ):
            raise UserError(f"unsupported image dtype {image.dtype}")
        scale = 255.0 if np.issubdtype(image.dtype, np.floating) else 1.0
        image = np.clip(image.astype(np.float32) * scale, 0, 255).round().astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise UserError(f"unsupported image shape {image.shape}")
    if color not in ("bgr", "rgb"):
        raise ValueError(f"color must be 'bgr' or 'rgb', not {color!r}")
    if image.shape[2] == 4:
        code = cv2.COLOR_BGRA2GRAY if color == "bgr" else cv2.COLOR_RGBA2GRAY
    else:
        code = cv2.COLOR_BGR2GRAY if color == "bgr" else cv2.COLOR_RGB2GRAY
    return cv2.cvtColor(image, code)


def to_rgb(image: np.ndarray, color: str = "bgr") -> np.ndarray:
    """RGB uint8 ``HxWx3`` (what the hand models read) from a gray or BGR/RGB(A) uint8 image."""
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB if color == "bgr" else cv2.COLOR_RGBA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if color == "bgr" else image


def resize(gray: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """Resize to ``size x size``: area averaging when shrinking (as the data set was made)."""
    h, w = gray.shape[:2]
    if (h, w) == (size, size):
        return gray
    shrinking = h >= size and w >= size
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (size, size), interpolation=interpolation)


def prepare(image: np.ndarray, color: str = "bgr", size: int = INPUT_SIZE) -> np.ndarray:
    """Model-ready ``size x size`` gray uint8 image from any supported image."""
    return resize(to_gray(image, color), size)


def add_margin(gray: np.ndarray, margin: int) -> np.ndarray:
    """Shrink a square image by ``margin`` pixels a side and repeat its edge pixels back out.

    The hand then appears at ``(size - 2 * margin) / size`` of the crop's scale. A model whose
    metadata sets ``input.margin`` reads hands best so, a little smaller than its training
    images show them (models/MODEL_CARD.md, "Input margin"); the classifier frames every input
    with it. Bilinear: a tenth of the cost of area averaging at this small ratio.
    """
    if margin == 0:
        return gray
    inner = gray.shape[0] - 2 * margin
    shrunk = cv2.resize(gray, (inner, inner), interpolation=cv2.INTER_LINEAR)
    return cv2.copyMakeBorder(shrunk, margin, margin, margin, margin, cv2.BORDER_REPLICATE)


def margin_problem(margin: object, size: int = INPUT_SIZE) -> str | None:
    """Why ``margin`` cannot frame a ``size`` image (it must leave three quarters), or None."""
    if isinstance(margin, bool) or not isinstance(margin, int) or not 0 <= margin < size // 4:
        return f"must be an integer from 0 to {size // 4 - 1} pixels, not {margin!r}"
    return None


#: The network reads pixels divided by this; a model's metadata records ``1 / PIXEL_MAX`` as its
#: ``input.scale``, which is what the runtime classifier then multiplies by.
PIXEL_MAX = 255


def to_unit_range(gray: np.ndarray) -> np.ndarray:
    """Float32 pixels in 0..1: the scale the network is trained, calibrated and tested on."""
    return gray.astype(np.float32) / np.float32(PIXEL_MAX)
