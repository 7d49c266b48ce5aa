"""A USB/V4L2 camera by device index, or a network stream (RTSP/HTTP) by URL, via OpenCV."""

from __future__ import annotations

import logging
import time

import cv2

from edge_arasl.errors import UserError
from edge_arasl.sources.base import Frame, Source

log = logging.getLogger(__name__)

#: Seconds between reconnection attempts after a camera or stream stops delivering.
RECONNECT_DELAYS = (0.5, 1.0, 2.0, 5.0)


class Camera(Source):
    """Frames from ``cv2.VideoCapture(device)``, stamped with ``time.monotonic()``.

    ``device`` is an index (``0`` for ``/dev/video0``) or a URL. ``width``/``height``/``fps``
    are requests; the camera may pick the nearest mode it supports. A camera that stops
    delivering (unplugged, stream dropped) is reopened with back-off until interrupted.
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
        attempt = 0
        while not self.interrupted:
            if self._capture is not None:
                ok, image = self._capture.read()
                if ok:
                    frame = Frame(image=image, timestamp=time.monotonic(), index=self._index)
                    self._index += 1
                    return frame
                log.warning("camera %r: no frame; reconnecting", self.device)
                self._capture.release()
                self._capture = None
            delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
            attempt += 1
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self.interrupted:
                time.sleep(0.05)
            if not self.interrupted:
                self._capture = self._open_capture()
        return None

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
