"""A video file read with OpenCV, frame by frame, stamped with media time."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import cv2
import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.sources.backoff import reconnect
from edge_arasl.sources.base import Frame, Source

log = logging.getLogger(__name__)

# FFmpeg's own messages ("moov atom not found") would precede our one-line error; silence them
# unless the user asks for them (OpenCV reads this when it first uses FFmpeg).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


class VideoFile(Source):
    """Every frame of a video file, in order. ``loop`` starts again at the end (demos).

    Timestamps are ``index / fps`` when the container reports a frame rate (exact and
    deterministic), else the decoder's position (``CAP_PROP_POS_MSEC``). With ``loop`` the
    media time keeps increasing across repeats, as a camera's clock would.

    ``follow`` (the daemon) treats a looping file like a camera: each repeat reopens it by
    path, so a replaced file is picked up, and a file that is gone, cut short or no longer
    decodes is reopened with back-off (:data:`~edge_arasl.sources.backoff.RECONNECT`) until it
    plays again; the media time then jumps by the outage, as a camera's would.
    """

    def __init__(self, path: str | Path, loop: bool = False, follow: bool = False) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.loop = loop
        self.follow = follow
        self._capture: cv2.VideoCapture | None = None
        self._index = 0
        self._base_index = 0  # frames before the current repeat (loop)
        self._time_offset = 0.0  # media time before the current repeat (loop, no frame rate)
        self._shift = 0.0  # seconds the file was unavailable (follow), added to media time
        self._last_time = 0.0
        self._file_frames = 0  # frames the container says the current opening has

    def open(self) -> None:
        failure = self._open_capture()
        if failure is not None:
            raise UserError(failure)
        assert self._capture is not None
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and math.isfinite(fps) and 0 < fps < 1000 else None
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frame_size = (width, height) if width > 0 and height > 0 else None
        self.frame_count = self._file_frames if self._file_frames > 0 and not self.loop else None

    def _open_capture(self) -> str | None:
        """Open the file into ``_capture``; None, or why it cannot be opened."""
        self.close()
        if not self.path.is_file():
            return f"{self.path}: no such video file"
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            return f"{self.path}: cannot be opened as a video"
        self._capture = capture
        self._file_frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        return None

    def read(self) -> Frame | None:
        if self._capture is None or self.interrupted:
            return None
        ok, decoded = self._capture.read()
        image: np.ndarray | None = decoded if ok else None
        if image is None and self.loop and self._index > self._base_index:
            image = self._restart()
        if image is None:
            if self._index == 0:
                raise UserError(f"{self.path}: no video frames could be decoded")
            # One frame of slack: some containers count one more frame than they hold.
            if not self.loop and self._index < self._file_frames - 1:
                log.warning(
                    "%s: ended at frame %d of %d: cut short or damaged",
                    self.path,
                    self._index,
                    self._file_frames,
                )
            return None
        assert self._capture is not None
        if self.fps:
            timestamp = self._index / self.fps + self._shift
        else:
            timestamp = self._time_offset + self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        self._last_time = timestamp
        frame = Frame(image=image, timestamp=timestamp, index=self._index)
        self._index += 1
        return frame

    def _restart(self) -> np.ndarray | None:
        """The first frame of the next repeat (loop), or None if there is none."""
        played = self._index - self._base_index
        self._base_index = self._index
        self._time_offset = self._last_time + 1.0 / 30.0
        if not self.follow:
            assert self._capture is not None
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._capture.read()
            return image if ok else None
        first: list[np.ndarray] = []

        def attempt() -> str | None:
            if (failure := self._open_capture()) is not None:
                return failure
            assert self._capture is not None
            ok, image = self._capture.read()
            if not ok:
                return f"{self.path}: no video frames could be decoded"
            first.append(image)
            return None

        if attempt() is None:
            return first[0]
        reason = f"gone, cut short or damaged after {played} frames"
        outage = reconnect(self, str(self.path), reason, attempt)
        if outage is None:
            return None
        self._shift += outage
        self._time_offset += outage
        return first[0]

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
