"""A folder of still images played as a video at a fixed frame rate (tests, data sets)."""

from __future__ import annotations

import re
from pathlib import Path

from edge_arasl.errors import UserError
from edge_arasl.preprocess import read_image_file
from edge_arasl.sources.base import Frame, Source

#: The file suffixes read as images, here and wherever a folder of images is read.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})


def natural_key(path: Path) -> list[object]:
    """Sort ``img2.png`` before ``img10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


class ImageFolder(Source):
    """The images of a folder in natural name order, one frame each, timestamped ``index/fps``.

    Gray images stay gray (and double as :attr:`Frame.gray`); colour ones are read as BGR,
    other modes and depths as :func:`~edge_arasl.preprocess.read_image_file` converts them.
    """

    def __init__(self, path: str | Path, fps: float = 30.0) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.fps = self._rate = fps  # _rate: never None, unlike Source.fps
        self._files: list[Path] = []
        self._index = 0

    def open(self) -> None:
        if not self.path.is_dir():
            raise UserError(f"{self.path}: no such folder of images")
        files = [p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        if not files:
            suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
            raise UserError(f"{self.path}: no images ({suffixes}) in this folder")
        self._files = sorted(files, key=natural_key)
        self.frame_count = len(self._files)

    def read(self) -> Frame | None:
        if self.interrupted or self._index >= len(self._files):
            return None
        image = read_image_file(self._files[self._index])
        gray = image if image.ndim == 2 else None
        frame = Frame(image=image, timestamp=self._index / self._rate, index=self._index, gray=gray)
        self._index += 1
        return frame
