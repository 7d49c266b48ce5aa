"""Turn any image or camera crop into the classifier's input, exactly as in training.

The training images are 64x64 grayscale, downscaled from larger photos by area averaging, so a
live crop goes the same way: to gray (ITU-R 601 luma), then area-resized to 64x64. The model
itself takes pixels scaled to 0..1; :mod:`edge_arasl.classifier` quantises that for the int8
input tensor.

Image files are decoded here too (:func:`read_image_file`), one rule for every reader of
them (``classify``, the image-folder source, ``evaluate``'s folders): a size limit checked
before the pixels are decoded, and one conversion of every mode and depth to 8 bits.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from edge_arasl.errors import UserError

#: Side of the square model input, in pixels.
INPUT_SIZE = 64
#: Most pixels an image file may have (a 64-megapixel photo), checked before decoding: a
#: small PNG can decode to gigabytes, more than a Raspberry Pi has.
MAX_IMAGE_PIXELS = 64_000_000
#: Largest value of a 16-bit sample (and of 32-bit integer images, which 16-bit files decode
#: to); it maps to 255.
MAX_16BIT = 65535


def read_image_file(path: Path) -> np.ndarray:
    """8-bit gray ``HxW`` or BGR ``HxWx3`` from an image file; UserError naming the file.

    Alpha is dropped, palette and CMYK images become colour, 16- and 32-bit integers scale
    from 0..65535 and float images from 0..1 (:func:`to_uint8`), the same for every file.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _check_size(path, image.size)
                return _to_array(image)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise UserError(f"{path}: more than {MAX_IMAGE_PIXELS} pixels, too big to read") from None
    except UnidentifiedImageError:
        raise UserError(f"{path}: not a readable image") from None
    except OSError as exc:  # a truncated or damaged file, a folder, no permission
        raise UserError(f"{path}: not a readable image ({exc.strerror or exc})") from None
    except (SyntaxError, ValueError, EOFError) as exc:  # what Pillow's decoders raise on damage
        raise UserError(f"{path}: not a readable image ({exc})") from None


def _check_size(path: Path, size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise UserError(
            f"{path}: {width}x{height} is more than {MAX_IMAGE_PIXELS} pixels, too big to read"
        )
    if width * height == 0:
        raise UserError(f"{path}: not a readable image (no pixels)")


def _to_array(image: Image.Image) -> np.ndarray:
    """The decoded pixels as gray or BGR ``uint8``, whatever the file's mode."""
    if image.mode in ("1", "L", "LA", "La"):
        return np.asarray(image.convert("L"))
    if image.mode.startswith("I") or image.mode == "F":  # I;16*, I, F: gray of more bits
        return to_uint8(np.asarray(image))
    rgb = np.asarray(image.convert("RGB"))  # P, PA, RGBA, CMYK, YCbCr, LAB, HSV, ...
    return np.ascontiguousarray(rgb[:, :, ::-1])


def to_uint8(image: np.ndarray) -> np.ndarray:
    """``uint8`` pixels from any depth: integers scale from 0..65535, floats from 0..1.

    The scale is fixed, not the image's own range, so a dark frame stays dark and a video
    of 16-bit images keeps its brightness from frame to frame.
    """
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.floating):
        scaled = image.astype(np.float32) * np.float32(255.0)
    elif np.issubdtype(image.dtype, np.integer):
        scaled = image.astype(np.float32) * np.float32(255.0 / MAX_16BIT)
    else:
        raise UserError(f"unsupported image dtype {image.dtype}")
    return np.clip(scaled, 0, 255).round().astype(np.uint8)


def to_gray(image: np.ndarray, color: str = "bgr") -> np.ndarray:
    """Gray uint8 ``HxW`` from gray, ``HxWx1``, BGR/RGB ``HxWx3`` or BGRA/RGBA ``HxWx4``.

    ``color`` names the channel order of 3- and 4-channel input (``"bgr"`` as OpenCV reads,
    ``"rgb"`` as Pillow does). Other depths are scaled as :func:`to_uint8` says.
    """
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise UserError("image is empty or not an array")
    image = to_uint8(image)
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
#: ``input.scale``, which is what the runtime classifier then multiplies by. MediaPipe's hand
#: models take the same 0..1 range (:data:`UNIT_SCALE`; -1..1 gives them garbage).
PIXEL_MAX = 255
#: ``1 / PIXEL_MAX`` as float32, for scaling into a preallocated model input in place.
UNIT_SCALE = np.float32(1 / PIXEL_MAX)


def to_unit_range(gray: np.ndarray) -> np.ndarray:
    """Float32 pixels in 0..1: the scale the network is trained, calibrated and tested on."""
    return gray.astype(np.float32) / np.float32(PIXEL_MAX)
