"""Fixtures of the fault-injection tests (the helpers are in child.py)."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from child import DEMO, Child


@pytest.fixture
def child(tmp_path: Path):
    """``child(*args, env=...)`` starts ``edge-arasl args``; every child is killed at the end."""
    started: list[Child] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Child:
        c = Child(list(args), tmp_path / f"child-{len(started)}.log", env)
        started.append(c)
        return c

    yield start
    for c in started:
        c.close()


@pytest.fixture(scope="session")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 1.5 s of the demo as an mp4v file (its index is at the end, as OpenCV writes)."""
    out = tmp_path_factory.mktemp("short") / "short.mp4"
    capture = cv2.VideoCapture(str(DEMO))
    fps = capture.get(cv2.CAP_PROP_FPS)
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(int(1.5 * fps)):
        ok, image = capture.read()
        assert ok
        writer.write(image)
    writer.release()
    capture.release()
    return out
