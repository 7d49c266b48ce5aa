"""A video file read with OpenCV, frame by frame, stamped with media time."""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2

from edge_arasl.errors import UserError
from edge_arasl.sources.base import Frame, Source

# FFmpeg's own messages ("moov atom not found") would precede our one-line error; silence them
# unless the user asks for them (OpenCV reads this when it first uses FFmpeg).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class VideoFile(Source):
    """Every frame of a video file, in order. ``loop`` starts again at the end (demos).

    Timestamps are ``index / fps`` when the container reports a frame rate (exact and
    deterministic), else the decoder's position (``CAP_PROP_POS_MSEC``). With ``loop`` the
    media time keeps increasing across repeats, as a camera's clock would.
    """

    def __init__(self, path: str | Path, loop: bool = False) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.loop = loop
        self._capture: cv2.VideoCapture | None = None
        self._index = 0
        self._base_index = 0  # frames before the current repeat (loop)
        self._time_offset = 0.0  # media time before the current repeat (loop, no frame rate)
        self._last_time = 0.0

    def open(self) -> None:
        if not self.path.is_file():
            raise UserError(f"{self.path}: no such video file")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise UserError(f"{self.path}: cannot be opened as a video")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and math.isfinite(fps) and 0 < fps < 1000 else None
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frame_size = (width, height) if width > 0 and height > 0 else None
        self.frame_count = count if count > 0 and not self.loop else None
        self._capture = capture

    def read(self) -> Frame | None:
        if self._capture is None or self.interrupted:
            return None
        ok, image = self._capture.read()
        if not ok and self.loop and self._index > self._base_index:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._base_index = self._index
            self._time_offset = self._last_time + 1.0 / 30.0
            ok, image = self._capture.read()
        if not ok:
            if self._index == 0:
                raise UserError(f"{self.path}: no video frames could be decoded")
            return None
        if self.fps:
            timestamp = self._index / self.fps
        else:
            timestamp = self._time_offset + self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        self._last_time = timestamp
        frame = Frame(image=image, timestamp=timestamp, index=self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
