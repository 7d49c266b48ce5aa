"""How frames reach the processing loop: latest-frame for live input, read-ahead for files.

A camera does not wait for us. If the loop is slower than the camera, queued frames would
make the output lag further and further behind the signer, so :class:`LatestFrame` keeps only
the newest frame and counts the ones it overwrote. A file has no such clock: every frame
matters and the order must be kept, so :class:`ReadAhead` decodes ahead on a second core into
a bounded queue and never drops. :class:`Paced` releases a file's frames at its frame rate,
which together with :class:`LatestFrame` makes a file behave like a camera.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from edge_arasl.sources.base import Frame, Source

log = logging.getLogger(__name__)

#: How often blocked reads wake up to notice :meth:`Source.interrupt` (seconds).
POLL_S = 0.05


class _Wrapper(Source):
    """A source that delegates to ``inner`` and mirrors its description."""

    def __init__(self, inner: Source) -> None:
        super().__init__(inner.name)
        self.inner = inner

    def open(self) -> None:
        self.inner.open()
        self.fps = self.inner.fps
        self.frame_size = self.inner.frame_size
        self.frame_count = self.inner.frame_count

    def interrupt(self) -> None:
        super().interrupt()
        self.inner.interrupt()

    @property
    def lost_since(self) -> float | None:
        return self.inner.lost_since

    def close(self) -> None:
        self.inner.close()


class _Threaded(_Wrapper):
    """Runs ``inner.read()`` in a capture thread; errors there are re-raised by :meth:`read`."""

    def __init__(self, inner: Source) -> None:
        super().__init__(inner)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def open(self) -> None:
        super().open()
        self._thread = threading.Thread(target=self._run, name=f"source:{self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self.interrupted:
                frame = self.inner.read()
                if frame is None or not self._put(frame):
                    break
        except BaseException as exc:  # handed to the reading thread
            self._error = exc
        finally:
            self._end()

    def _put(self, frame: Frame) -> bool:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        self.interrupt()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            if self._thread.is_alive():
                log.warning("%s: capture thread still blocked after 2 s; closing anyway", self.name)
        super().close()


class LatestFrame(_Threaded):
    """Latest-frame semantics for live sources: the loop always gets the newest frame.

    A frame captured while the previous one is still unread replaces it; the replaced frame is
    counted in :attr:`dropped`. Latency therefore stays at about one frame however slow the
    consumer is.
    """

    live = True

    def __init__(self, inner: Source) -> None:
        super().__init__(inner)
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._ended = False

    def _put(self, frame: Frame) -> bool:
        with self._cond:
            if self._latest is not None:
                self.dropped += 1
            self._latest = frame
            self._cond.notify()
        return True

    def _end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify()

    def ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a frame, the end, or an interrupt."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._has_news() and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(min(left, POLL_S))
            return self._has_news()

    def _has_news(self) -> bool:
        return self._latest is not None or self._ended or self.interrupted

    def read(self) -> Frame | None:
        with self._cond:
            while not self._has_news():
                self._cond.wait(POLL_S)
            frame, self._latest = self._latest, None
        if self.interrupted:
            return None
        if frame is None:
            self._raise_error()
        return frame


class ReadAhead(_Threaded):
    """Decode up to ``depth`` frames ahead in a second thread; every frame, in order."""

    _END = None

    def __init__(self, inner: Source, depth: int = 8) -> None:
        super().__init__(inner)
        self._queue: queue.Queue[Frame | None] = queue.Queue(maxsize=depth)

    def _put(self, frame: Frame) -> bool:
        while not self.interrupted:
            try:
                self._queue.put(frame, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _end(self) -> None:
        while not self.interrupted:
            try:
                self._queue.put(self._END, timeout=POLL_S)
                return
            except queue.Full:
                continue

    def read(self) -> Frame | None:
        while not self.interrupted:
            try:
                frame = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if frame is None:
                self._raise_error()
            return frame
        return None


class Paced(_Wrapper):
    """Release frames at their timestamps (the file's frame rate), as a camera would."""

    def __init__(self, inner: Source) -> None:
        super().__init__(inner)
        self._offset: float | None = None  # monotonic time minus media time of frame 0

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is None:
            return None
        now = time.monotonic()
        if self._offset is None:
            self._offset = now - frame.timestamp
        due = self._offset + frame.timestamp
        while (wait := due - time.monotonic()) > 0 and not self.interrupted:
            time.sleep(min(wait, POLL_S))
        return None if self.interrupted else frame
