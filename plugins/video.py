"""The annotated video writer (``[video]``, or ``--output FILE`` on ``edge-arasl process``).

Frames are written at the source's size and frame rate, with the text overlay drawn on them.
``mp4v`` (MPEG-4 Part 2) goes through OpenCV and needs nothing extra; ``h264`` goes through
PyAV (``pip install 'edge-arasl[h264]'``; its bundled FFmpeg includes GPL-licensed libx264)
and gives files that browsers play. ``stop()`` always finalises the file, so it stays playable
after a normal end, SIGTERM or an error elsewhere in the pipeline.

In the daemon, ``path`` may hold strftime fields (``clips/%Y%m%d-%H%M%S.mp4``) and
``rotate_seconds`` starts a new file every so many seconds; frames are written against their
timestamps (gaps filled by repeating a frame) so a file's duration is the real time it covers.
``process`` writes every frame exactly once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np

from edge_arasl.plugin import (
    FrameEvent,
    LetterEvent,
    OutputPlugin,
    PluginError,
    WordEvent,
    bounded,
)

from .arabic_text import TextSettings
from .output_file import output_path, prepare_directory, prepare_file, write_failed
from .overlay import Overlay

log = logging.getLogger(__name__)

DEFAULT_FPS = 25.0
#: In the daemon, a gap longer than this is not filled with repeated frames.
MAX_GAP_SECONDS = 2.0
FOURCC = {"mp4v": "mp4v", "mjpg": "MJPG"}
#: The file name endings (containers) each codec is written in; others are refused at start.
CONTAINERS = {
    "mp4v": (".mp4", ".m4v", ".mov", ".mkv", ".avi"),
    "mjpg": (".avi", ".mkv"),
    "h264": (".mp4", ".mkv", ".mov"),
}


@dataclass(frozen=True)
class VideoSettings(TextSettings):
    #: Output file; strftime fields are filled when a file is opened. Relative paths are
    #: taken from the state directory in the daemon, the working directory in `process`.
    path: str = ""
    #: "mp4v" (OpenCV, .mp4), "mjpg" (OpenCV, .avi) or "h264" (PyAV extra, .mp4).
    codec: Literal["mp4v", "mjpg", "h264"] = "mp4v"
    #: Frames per second of the file; 0 takes the source's rate.
    fps: float = bounded(0.0, ge=1, le=1000, unit="fps", also=0)
    #: Daemon only: start a new file every this many seconds (0: one file).
    rotate_seconds: float = bounded(0.0, ge=1, le=86_400, unit="s", also=0)
    #: Draw the text overlay (region, letter, running text) on the frames.
    overlay: bool = True
    #: H.264 quality (constant rate factor: lower is better and bigger); libx264's range.
    crf: int = bounded(23, ge=0, le=51)


class FrameWriter(Protocol):
    def write(self, image: np.ndarray) -> None: ...
    def close(self) -> None: ...


class OpenCVWriter:
    """mp4v / MJPG through OpenCV's bundled FFmpeg."""

    def __init__(self, path: Path, fourcc: str, fps: float, size: tuple[int, int]) -> None:
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, size)
        if not self._writer.isOpened():
            raise PluginError(f"[video] cannot open {path} for writing with codec {fourcc}")

    def write(self, image: np.ndarray) -> None:
        self._writer.write(image)

    def close(self) -> None:
        self._writer.release()


class PyAVWriter:
    """H.264 (libx264, yuv420p) through PyAV."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], crf: int) -> None:
        av = self._av = _import_av()
        self._container = av.open(str(path), mode="w")
        self._stream = self._container.add_stream(
            "libx264", rate=Fraction(fps).limit_denominator(1001)
        )
        self._size = (size[0] // 2 * 2, size[1] // 2 * 2)  # yuv420p needs even sides
        self._stream.width, self._stream.height = self._size
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(crf), "preset": "veryfast"}

    def write(self, image: np.ndarray) -> None:
        if (image.shape[1], image.shape[0]) != self._size:
            image = image[: self._size[1], : self._size[0]]
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode():  # flush the encoder's delayed frames
            self._container.mux(packet)
        self._container.close()


class VideoPlugin(OutputPlugin):
    """Writes the annotated frames to a video file (mp4v, MJPG or H.264)."""

    name = "video"
    Settings = VideoSettings
    queue_size = 16  # absorbs encoder hiccups (~15 MB at 640x480); the daemon fills gaps

    settings: VideoSettings

    def start(self) -> None:
        s = self.settings
        if s.rotate_seconds and "%" not in s.path:
            raise PluginError(
                "[video] path: with rotate_seconds set, the path needs strftime fields "
                "(e.g. 'clips/%Y%m%d-%H%M%S.mp4') so files get distinct names"
            )
        path = output_path(s.path, self.context)
        if path.suffix.lower() not in CONTAINERS[s.codec]:
            raise PluginError(
                f"[video] path: {path.name!r} is no container for codec {s.codec!r}; "
                f"end it in {', '.join(CONTAINERS[s.codec])}"
            )
        prepare_file(path, self.context)
        if s.codec == "h264":
            _import_av()  # fail at start, not at the first frame
        self.overlay = Overlay(s) if s.overlay else None
        self.fps = s.fps or self.context.fps or DEFAULT_FPS
        self.paced = self.context.mode == "run"  # daemon: constant rate by timestamps
        self._lock = threading.Lock()  # stop() may come from another thread than the hooks
        self._writer: FrameWriter | None = None
        self._size: tuple[int, int] | None = None
        self._file_start = 0.0
        self._written = 0  # frames in the current file
        self._last_path: Path | None = None
        self.files: list[Path] = []

    def on_letter(self, letter: LetterEvent) -> None:
        if self.overlay:
            self.overlay.on_letter(letter)

    def on_word(self, word: WordEvent) -> None:
        if self.overlay:
            self.overlay.on_word(word)

    def on_frame(self, frame: FrameEvent) -> None:
        image = self.overlay.draw(frame) if self.overlay else _as_bgr(frame.image)
        with self._lock:
            if self._writer is None:
                self._open(frame.timestamp, image)
            elif self._rotation_due(frame.timestamp):
                self._close()
                self._open(frame.timestamp, image)
            assert self._writer is not None and self._size is not None
            if (image.shape[1], image.shape[0]) != self._size:
                image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
            try:
                for _ in range(self._copies(frame.timestamp)):
                    self._writer.write(image)
                    self._written += 1
            except OSError as exc:  # PyAV on a full disk; OpenCV's writer never says
                raise write_failed(self.context, self._last_path, exc) from None

    def stop(self) -> None:
        with self._lock:
            self._close()

    def _copies(self, timestamp: float) -> int:
        """How many times to write this frame: once, or by timestamp in the daemon."""
        if not self.paced:
            return 1
        due = int((timestamp - self._file_start) * self.fps + 1e-6) + 1 - self._written
        if due > MAX_GAP_SECONDS * self.fps:  # a stall: do not fill seconds of frozen video
            return 1
        return max(0, due)

    def _rotation_due(self, timestamp: float) -> bool:
        s = self.settings
        return bool(
            self.paced and s.rotate_seconds and timestamp - self._file_start >= s.rotate_seconds
        )

    def _open(self, timestamp: float, image: np.ndarray) -> None:
        path = output_path(self.settings.path, self.context)
        if path == self._last_path:  # rotated within the same second of the strftime pattern
            path = path.with_name(f"{path.stem}-{len(self.files)}{path.suffix}")
        prepare_directory(path, self.context)
        if self._size is None:
            self._size = (image.shape[1], image.shape[0])
        if self.settings.codec == "h264":
            try:
                self._writer = PyAVWriter(path, self.fps, self._size, self.settings.crf)
            except (OSError, ValueError) as exc:  # PyAV's errors are OSErrors
                raise PluginError(f"[video] cannot open {path} for writing: {exc}") from None
        else:
            self._writer = OpenCVWriter(path, FOURCC[self.settings.codec], self.fps, self._size)
        self._file_start, self._written, self._last_path = timestamp, 0, path
        self.files.append(path)
        log.info("writing %s (%dx%d at %.3g fps)", path, *self._size, self.fps)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            log.info("finished %s (%d frames)", self._last_path, self._written)


def _import_av() -> Any:  # the av module
    try:
        import av
    except ImportError:
        raise PluginError(
            "[video] codec 'h264' needs PyAV: pip install 'edge-arasl[h264]'"
        ) from None
    return av


def _as_bgr(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image
