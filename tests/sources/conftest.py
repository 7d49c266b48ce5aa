"""Small video files made on the fly: frame i is a flat gray of level 10 * i."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest


def write_video(path: Path, n: int, fps: float = 25.0, size: tuple[int, int] = (160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), 10 * i, np.uint8))
    writer.release()
    return path


@pytest.fixture
def make_video(tmp_path) -> Callable[..., Path]:
    """``make_video(n, fps=25.0, name="v.avi")``: an MJPG file of ``n`` numbered frames."""

    def make(n: int, fps: float = 25.0, name: str = "v.avi") -> Path:
        return write_video(tmp_path / name, n, fps)

    return make


@pytest.fixture
def level() -> Callable[[np.ndarray], int]:
    """The number of a frame made by :func:`write_video`."""
    return lambda image: round(float(image.mean()) / 10)
