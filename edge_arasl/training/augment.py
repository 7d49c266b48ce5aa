"""Augmentation that prepares the classifier for real camera crops, and the ``none`` class.

The ArASL photos are tightly framed hands on mostly plain walls. A live region of interest is
not: the hand sits a little off-centre, bigger or smaller, tilted, under other light, on a
busy background, sometimes blurred. Every training image gets a random mix of those changes
each epoch. Plain numpy/OpenCV, so it is testable without TensorFlow.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge_arasl.preprocess import INPUT_SIZE


def texture(rng: np.random.Generator, size: int = INPUT_SIZE) -> np.ndarray:
    """A random background: smooth blobs, a gradient, stripes or a flat wall, with noise."""
    kind = rng.integers(4)
    if kind == 0:  # smooth blobs at a random scale
        cells = int(rng.integers(2, 12))
        small = rng.uniform(0, 255, (cells, cells)).astype(np.float32)
        tex = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    elif kind == 1:  # linear gradient
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
        ramp = np.cos(angle) * xx + np.sin(angle) * yy
        tex = rng.uniform(0, 255) + rng.uniform(-120, 120) * ramp
    elif kind == 2:  # stripes / shelves / tiles
        period = rng.uniform(4, 24)
        angle = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        phase = (np.cos(angle) * xx + np.sin(angle) * yy) * 2 * np.pi / period
        tex = 128 + rng.uniform(20, 110) * np.sign(np.sin(phase)) * rng.uniform(0.3, 1.0)
    else:  # plain wall
        tex = np.full((size, size), rng.uniform(30, 240), np.float32)
    tex = tex + rng.normal(0, rng.uniform(1, 12), (size, size))
    return np.clip(tex, 0, 255).astype(np.float32)


def hand_mask(image: np.ndarray) -> np.ndarray:
    """Soft 0..1 mask of the hand: pixels that differ from the border (the wall) colour."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    wall = float(np.median(border))
    diff = np.abs(image.astype(np.float32) - wall)
    mask = (diff > 28).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    return cv2.GaussianBlur(mask.astype(np.float32), (5, 5), 1.2)


def _affine(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    scale = rng.uniform(1 - 0.3 * strength, 1 + 0.2 * strength)
    angle = rng.uniform(-15, 15) * strength
    shift = rng.uniform(-0.15, 0.15, 2) * INPUT_SIZE * strength
    center = (INPUT_SIZE / 2, INPUT_SIZE / 2)
    matrix = np.asarray(cv2.getRotationMatrix2D(center, angle, scale), np.float64)
    matrix[:, 2] += shift
    return cv2.warpAffine(
        image,
        matrix,
        (INPUT_SIZE, INPUT_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _photometric(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    x = image.astype(np.float32)
    mean = x.mean()
    contrast = 1 + rng.uniform(-0.4, 0.4) * strength
    x = (x - mean) * contrast + mean + rng.uniform(-40, 40) * strength
    x = np.clip(x, 0, 255)
    gamma = np.exp(rng.uniform(-0.4, 0.4) * strength)
    return 255.0 * (x / 255.0) ** gamma


def _degrade(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    roll = rng.random() / max(strength, 1e-6)
    if roll < 0.2:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.3, 1.2))
    elif roll < 0.35:  # a smaller crop upscaled by the camera pipeline
        side = int(rng.integers(24, 48))
        x = cv2.resize(
            cv2.resize(x, (side, side), interpolation=cv2.INTER_AREA), (INPUT_SIZE, INPUT_SIZE)
        )
    if rng.random() < 0.4 * strength:
        x = x + rng.normal(0, rng.uniform(2, 10), x.shape)
    return x


def dark_room(
    background: np.ndarray, hand: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A lit hand in front of a dark room, as in some recording sessions of the data set.

    Those sessions (bright hands on near-black walls) were the test blocks the first model got
    most wrong: a dark hand pasted on a dark texture does not teach that look.
    """
    return background * rng.uniform(0.05, 0.35), 255 - (255 - hand) * rng.uniform(0.3, 0.7)


def augment(image: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """One randomly changed copy of a 64x64 uint8 hand image (uint8).

    ``strength`` (0..1) scales every range and probability; ``edge-arasl train --swa-strength``
    sets it for the averaged epochs, which end training closer to the clean images.
    """
    x = image.astype(np.float32)
    if rng.random() < 0.4 * strength:
        alpha = hand_mask(image)
        background = texture(rng)
        if rng.random() < 0.3:
            background, x = dark_room(background, x, rng)
        x = alpha * x + (1 - alpha) * background
    x = _affine(x, rng, strength)
    x = _photometric(x, rng, strength)
    x = _degrade(x, rng, strength)
    return np.clip(x, 0, 255).astype(np.uint8)


def motion_blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A hand smeared by fast movement, as between two letters."""
    length = int(rng.integers(13, 31))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
    turned = np.asarray(cv2.warpAffine(kernel, rot, (length, length)), np.float32)
    turned /= max(turned.sum(), 1e-6)
    return cv2.filter2D(image.astype(np.float32), -1, turned, borderType=cv2.BORDER_REPLICATE)


#: Side of a :func:`clutter` square, as a share of its room's height.
CLUTTER_SIDE = (0.3, 0.9)


def clutter(rng: np.random.Generator) -> np.ndarray:
    """A gray square cut anywhere from a cluttered room (:func:`edge_arasl.scenes.busy_room`)."""
    from edge_arasl.scenes import busy_room, plain_room

    w, h = 320, 240
    base = plain_room(w, h, rng)
    focus = (int(rng.integers(0, w - 80)), int(rng.integers(0, h - 80)), 80, 80)
    room = busy_room(w, h, rng, base, focus)
    side = int(rng.uniform(*CLUTTER_SIDE) * h)
    x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
    gray = cv2.cvtColor(room[y0 : y0 + side, x0 : x0 + side], cv2.COLOR_BGR2GRAY)
    return cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)


def synth_none(
    images: np.ndarray, rng: np.random.Generator, clutter_share: float = 0.0
) -> np.ndarray:
    """One "no sign" image: empty background, a motion-blurred hand, or a hand leaving view;
    with ``clutter_share``, that share of them a square of a cluttered room instead (shelves,
    posters: what an empty camera region shows; models/MODEL_CARD.md, "The none class from
    cluttered rooms"). A share of 0 draws nothing more, so the recipe's images stay the same."""
    if clutter_share > 0 and rng.random() < clutter_share:
        x = _photometric(clutter(rng).astype(np.float32), rng)
        x = x + rng.normal(0, rng.uniform(1, 8), x.shape)
        return np.clip(x, 0, 255).astype(np.uint8)
    roll = rng.random()
    if roll < 0.5:
        x = texture(rng)
    elif roll < 0.8:
        x = motion_blur(images[rng.integers(len(images))], rng)
    else:
        src = images[rng.integers(len(images))].astype(np.float32)
        dx, dy = rng.choice([-1, 1], 2) * rng.uniform(0.6, 0.85, 2) * INPUT_SIZE
        matrix = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        wall = float(np.median(src[0]))
        x = cv2.warpAffine(src, matrix, (INPUT_SIZE, INPUT_SIZE), borderValue=wall)
    x = _photometric(x, rng)
    x = x + rng.normal(0, rng.uniform(1, 8), x.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def augmented_epoch(
    images: np.ndarray,
    labels: np.ndarray,
    none_label: int,
    n_none: int,
    seed: int,
    strength: float = 1.0,
    clutter_share: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A freshly augmented copy of the training set plus ``n_none`` synthetic "none" images."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(images) + n_none, INPUT_SIZE, INPUT_SIZE), np.uint8)
    for i, image in enumerate(images):
        out[i] = augment(image, rng, strength)
    for j in range(n_none):
        out[len(images) + j] = synth_none(images, rng, clutter_share)
    y = np.concatenate([labels, np.full(n_none, none_label, labels.dtype)])
    order = rng.permutation(len(y))
    return out[order], y[order]
