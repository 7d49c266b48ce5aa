"""Fixtures for the plugin tests: a fingerspelling video made from held-out samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DEMO_TEXT = "سلام مدد"


@pytest.fixture(scope="session")
def demo_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 640x480, 30 fps video spelling ``DEMO_TEXT`` (truth in the .json beside it)."""
    path = tmp_path_factory.mktemp("demo") / "salam.mp4"
    subprocess.run(
        [sys.executable, "-m", "edge_arasl", "make-demo", str(path), "--text", DEMO_TEXT],
        check=True,
        capture_output=True,
    )
    assert json.loads(path.with_suffix(".json").read_text())["text"] == DEMO_TEXT
    return path
