"""Augmentation: shapes, determinism, and that it really changes images."""

import cv2
import numpy as np

from edge_arasl.training.augment import (
    augment,
    augmented_epoch,
    clutter,
    dark_room,
    hand_mask,
    synth_none,
)


def _hand() -> np.ndarray:
    image = np.full((64, 64), 220, np.uint8)
    image[20:60, 25:40] = 90  # a dark "finger" on a bright wall
    return image


def test_augment_is_seeded_and_changes_the_image():
    a = augment(_hand(), np.random.default_rng(1))
    b = augment(_hand(), np.random.default_rng(1))
    c = augment(_hand(), np.random.default_rng(2))
    assert a.dtype == np.uint8 and a.shape == (64, 64)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, _hand())


def test_hand_mask_finds_the_hand_not_the_wall():
    mask = hand_mask(_hand())
    assert mask[40, 32] > 0.9
    assert mask[5, 5] < 0.1


def test_epoch_adds_none_images_with_their_label():
    images = np.stack([_hand()] * 10)
    labels = np.zeros(10, np.int64)
    x, y = augmented_epoch(images, labels, none_label=32, n_none=5, seed=0)
    assert x.shape == (15, 64, 64)
    assert (y == 32).sum() == 5 and (y == 0).sum() == 10


def test_none_images_are_not_copies_of_hands():
    rng = np.random.default_rng(0)
    images = np.stack([_hand()] * 4)
    nones = [synth_none(images, rng) for _ in range(20)]
    assert all(n.shape == (64, 64) and n.dtype == np.uint8 for n in nones)
    assert all(np.abs(n.astype(int) - _hand()).mean() > 3 for n in nones)


def test_half_strength_stays_closer_to_the_original():
    def mean_change(strength: float) -> float:
        rng = np.random.default_rng(7)
        changed = [augment(_hand(), rng, strength).astype(int) for _ in range(200)]
        return float(np.mean([np.abs(c - _hand()).mean() for c in changed]))

    assert mean_change(0.5) < mean_change(1.0)
    assert mean_change(0.0) < 2  # no change at all but rounding


def test_dark_room_dims_the_wall_and_lights_the_hand():
    rng = np.random.default_rng(3)
    wall = np.full((64, 64), 200.0, np.float32)
    for _ in range(20):
        background, hand = dark_room(wall, _hand().astype(np.float32), rng)
        assert background.max() <= 0.35 * 200 + 1e-3
        finger, rest = hand[40, 32], hand[5, 5]
        assert finger >= 90 + 0.3 * (255 - 90) - 1e-3  # the dark finger is lit
        assert rest >= 220  # bright stays bright: relit, not inverted
        assert finger > background.max()  # now brighter than the room behind it


def _edges(image: np.ndarray) -> float:
    """Share of pixels on a strong edge: a cluttered room has many, a wall or a blur few."""
    return float((cv2.Canny(image, 60, 150) > 0).mean())


def test_clutter_none_images_are_cut_from_cluttered_rooms_and_off_leaves_the_recipe_alone():
    images = np.stack([_hand()] * 4)
    plain = [synth_none(images, np.random.default_rng(k)) for k in range(30)]
    off = [synth_none(images, np.random.default_rng(k), clutter_share=0.0) for k in range(30)]
    busy = [synth_none(images, np.random.default_rng(k), clutter_share=1.0) for k in range(30)]
    assert all(np.array_equal(a, b) for a, b in zip(plain, off, strict=True))
    assert all(b.shape == (64, 64) and b.dtype == np.uint8 for b in busy)
    assert np.mean([_edges(b) for b in busy]) > 1.5 * np.mean([_edges(p) for p in plain])
    square = clutter(np.random.default_rng(3))
    assert square.shape == (64, 64) and square.std() > 10


def test_an_epoch_passes_the_clutter_share_to_its_none_images():
    images = np.stack([_hand()] * 10)
    labels = np.zeros(10, np.int64)
    edges = []
    for share in (0.0, 1.0):
        x, y = augmented_epoch(images, labels, 32, n_none=20, seed=0, clutter_share=share)
        edges.append(np.mean([_edges(image) for image in x[y == 32]]))
    assert edges[1] > 1.3 * edges[0]
