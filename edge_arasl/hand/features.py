"""Landmark features: the hand's shape, whatever its place, size or side.

The landmark classifier must read a letter the same wherever the hand is in the frame, however
near the camera, and from either hand. So the 21 landmarks are taken relative to the wrist,
divided by the hand's size (the mean distance from the wrist to the four finger knuckles,
steadier than a bounding box, which changes with the letter), and a left hand is mirrored
(x negated) so that one classifier serves both. The hand's rotation is kept: several letters
differ mainly in which way the hand points.
"""

from __future__ import annotations

import numpy as np

from edge_arasl.hand.landmarks import LANDMARKS

#: Length of a feature vector: x, y, z of each landmark.
FEATURES = 3 * LANDMARKS
#: Knuckles (index, middle, ring, little finger) whose distance to the wrist is the hand size.
_KNUCKLES = (5, 9, 13, 17)


def hand_size(points: np.ndarray) -> float:
    """Mean wrist-to-knuckle distance in the image plane (pixels of ``points``)."""
    wrist = points[0, :2]
    return float(np.mean(np.linalg.norm(points[list(_KNUCKLES), :2] - wrist, axis=1)))


def features(points: np.ndarray, left: bool) -> np.ndarray:
    """The ``FEATURES`` float32 vector of 21x3 landmarks; ``left`` mirrors the hand first."""
    if points.shape != (LANDMARKS, 3):
        raise ValueError(f"expected {LANDMARKS}x3 landmarks, got {points.shape}")
    relative = points.astype(np.float64) - points[0]
    size = hand_size(points)
    if not size > 1e-6:
        raise ValueError("landmarks have no extent (all points at the wrist)")
    relative /= size
    if left:
        relative[:, 0] = -relative[:, 0]
    return relative.reshape(-1).astype(np.float32)
