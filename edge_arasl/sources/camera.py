"""A USB/V4L2 camera by device index, or a network stream (RTSP/HTTP) by URL, via OpenCV."""

from __future__ import annotations

import logging
import time

import cv2
import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.sources.backoff import reconnect
from edge_arasl.sources.base import Frame, Source

log = logging.getLogger(__name__)


class Camera(Source):
    """Frames from ``cv2.VideoCapture(device)``, stamped with ``time.monotonic()``.

    ``device`` is an index (``0`` for ``/dev/video0``) or a URL. ``width``/``height``/``fps``
    are requests; the camera may pick the nearest mode it supports. A camera that stops
    delivering (unplugged, stream dropped) is reopened with back-off
    (:data:`~edge_arasl.sources.backoff.RECONNECT`) until it delivers again or is interrupted.
    Wrap in :class:`~edge_arasl.sources.delivery.LatestFrame` for live use.
    """

    def __init__(
        self, device: int | str, width: int = 640, height: int = 480, fps: float = 30.0
    ) -> None:
        super().__init__(str(device))
        # "0" from a config file or command line means /dev/video0, not a file named 0.
        self.device = int(device) if isinstance(device, str) and device.isdigit() else device
        self.size = (width, height)
        self.requested_fps = fps
        self._capture: cv2.VideoCapture | None = None
        self._pending: np.ndarray | None = None  # the frame that proved a reopened camera works
        self._index = 0

    def _open_capture(self) -> cv2.VideoCapture | None:
        # OpenCV warns on stderr for every backend that cannot open the device; we say it once.
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            capture = cv2.VideoCapture(self.device)
        finally:
            cv2.utils.logging.setLogLevel(level)
        if not capture.isOpened():
            capture.release()
            return None
        if isinstance(self.device, int):  # settings a network stream ignores
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
            capture.set(cv2.CAP_PROP_FPS, self.requested_fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # do not let the driver queue stale frames
        return capture

    def open(self) -> None:
        self._capture = self._open_capture()
        if self._capture is None:
            raise UserError(
                f"camera {self.device!r}: cannot be opened (check the device index or URL, "
                "that it is connected and that this user may access it, e.g. the video group)"
            )
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.frame_size = (width, height) if width > 0 and height > 0 else None
        self.fps = fps if 0 < fps < 1000 else None

    def read(self) -> Frame | None:
        while not self.interrupted:
            image, self._pending = self._pending, None
            if image is None and self._capture is not None:
                ok, image = self._capture.read()
                if not ok:
                    image = None
            if image is not None:
                frame = Frame(image=image, timestamp=time.monotonic(), index=self._index)
                self._index += 1
                return frame
            self.close()
            name = f"camera {self.device!r}"
            if reconnect(self, name, "no frame", self._reopen) is None:
                break
        return None

    def _reopen(self) -> str | None:
        """One reconnection attempt: None once a frame is read, else why not."""
        self._capture = self._open_capture()
        if self._capture is None:
            return "cannot be opened"
        ok, image = self._capture.read()
        if not ok:
            self.close()
            return "opened, but gives no frame"
        self._pending = image
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
