"""The Raspberry Pi camera through picamera2: a main stream to show, a lores stream to classify.

Two streams come from the same sensor readout. The ISP scales the small ``lores`` stream in
YUV420, whose first plane (Y) is a grayscale image at no cost; the classifier only needs
that. The ``main`` stream (``RGB888``, which picamera2 lays out as B, G, R: OpenCV's order) is
kept for the overlay and the video writer. Converting full-size RGB in Python instead would
cost more than the whole classification.

picamera2 is imported lazily: it exists only on Raspberry Pi OS (apt ``python3-picamera2``,
with its libcamera bindings), so importing this module anywhere else is fine.
"""

from __future__ import annotations

import time
from typing import Any

from edge_arasl.errors import UserError
from edge_arasl.sources.base import Frame, Source

INSTALL_HINT = (
    "picamera2 is not available: on Raspberry Pi OS run `sudo apt install python3-picamera2` "
    "and create the virtual environment with --system-site-packages "
    "(`pip install edge-arasl[pi]` alone cannot provide libcamera); "
    "or set [source] kind to 'camera' or 'video'"
)


def _import_picamera2() -> Any:
    try:
        from picamera2 import Picamera2
    except ImportError as exc:
        raise UserError(f"{INSTALL_HINT} ({exc})") from None
    return Picamera2


class PiCamera(Source):
    """Frames from a Pi camera module: ``image`` = main (BGR), ``gray`` = lores Y plane.

    Each frame's main and lores arrays come from one request, so they show the same instant.
    Timestamps are ``time.monotonic()`` at capture. Wrap in
    :class:`~edge_arasl.sources.delivery.LatestFrame` for live use.
    """

    def __init__(
        self,
        camera: int = 0,
        size: tuple[int, int] = (640, 480),
        lores_size: tuple[int, int] = (320, 240),
        fps: float = 30.0,
    ) -> None:
        super().__init__(f"picamera{camera}")
        self.camera = camera
        self.size = size
        self.lores_size = lores_size
        self.requested_fps = fps
        self._picam2: Any = None
        self._index = 0

    def open(self) -> None:
        picamera2_class = _import_picamera2()
        try:
            picam2 = picamera2_class(self.camera)
        except (RuntimeError, IndexError) as exc:
            raise UserError(f"Pi camera {self.camera}: cannot be opened ({exc})") from None
        try:
            config = picam2.create_video_configuration(
                main={"size": self.size, "format": "RGB888"},
                lores={"size": self.lores_size, "format": "YUV420"},
                controls={"FrameRate": self.requested_fps},
            )
            picam2.configure(config)
            picam2.start()
        except Exception as exc:
            picam2.close()
            raise UserError(f"Pi camera {self.camera}: cannot be configured ({exc})") from None
        self._picam2 = picam2
        self.fps = self.requested_fps
        self.frame_size = self.size

    def read(self) -> Frame | None:
        if self._picam2 is None or self.interrupted:
            return None
        (main, lores), _metadata = self._picam2.capture_arrays(["main", "lores"])
        width, height = self.lores_size
        gray = lores[:height, :width]  # Y plane; rows below it hold U and V, columns may pad
        frame = Frame(image=main, timestamp=time.monotonic(), index=self._index, gray=gray)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._picam2 is not None:
            picam2, self._picam2 = self._picam2, None
            try:
                picam2.stop()
            finally:
                picam2.close()
