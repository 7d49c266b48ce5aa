"""The shipped hand models (loaded once) and scenes with a committed sample hand in them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from hand_sample import HAND_SAMPLE

from edge_arasl.hand.landmarks import LandmarkModel
from edge_arasl.hand.palm import PalmDetector
from edge_arasl.hand.tracker import HandSettings, load_landmarks, load_palms


@pytest.fixture(scope="session")
def palms() -> PalmDetector:
    return load_palms(HandSettings())


@pytest.fixture(scope="session")
def landmarks() -> LandmarkModel:
    return load_landmarks(HandSettings())


def _scene(at: tuple[int, int] | None, size: int = 256, sample: Path = HAND_SAMPLE) -> np.ndarray:
    frame = np.full((480, 640, 3), 170, np.uint8)
    if at is not None:
        hand = cv2.resize(cv2.imread(str(sample), cv2.IMREAD_GRAYSCALE), (size, size))
        x, y = at
        frame[y : y + size, x : x + size] = cv2.cvtColor(hand, cv2.COLOR_GRAY2BGR)
    return frame


@pytest.fixture
def scene() -> Callable[..., np.ndarray]:
    """``scene(at, size=256)``: a 640x480 BGR plain wall with the sample hand's top-left at
    ``at`` (None: no hand)."""
    return _scene
