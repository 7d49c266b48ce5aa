"""What every frame source yields, and the one interface all of them share.

A source is opened, read until it returns ``None`` (end of stream, or interrupted), and
closed. Backends implement a plain blocking :meth:`Source.read`; the wrappers in
:mod:`edge_arasl.sources.threaded` add latest-frame semantics for live cameras and read-ahead
for files, so no backend has to deal with threads.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One captured frame.

    ``image`` is for display and annotation: BGR ``HxWx3`` uint8, or ``HxW`` gray from
    gray-only sources. ``gray`` is a uint8 ``HxW`` luma image when the source has one for free
    (the Pi camera's low-resolution Y plane, gray images); it may be smaller than ``image`` but
    covers the same field of view. ``timestamp`` is in seconds: media time for files,
    ``time.monotonic()`` at capture for cameras. ``index`` counts frames the source produced,
    from 0, including any dropped before they were read.
    """

    image: np.ndarray
    timestamp: float
    index: int
    gray: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of :attr:`image`."""
        return self.image.shape[1], self.image.shape[0]


class Source:
    """Base class of frame sources.

    Attributes a backend sets: ``name`` (for messages, e.g. the file path), ``live`` (frames
    arrive on their own clock and are dropped when not read in time), ``fps`` (frames per
    second when known), ``frame_size`` (``(width, height)`` of :attr:`Frame.image` when known
    before the first frame), ``frame_count`` (total frames when known: files), ``dropped``
    (frames produced but never read).
    """

    live: bool = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.fps: float | None = None
        self.frame_size: tuple[int, int] | None = None
        self.frame_count: int | None = None
        self.dropped = 0
        self._interrupted = False
        self._lost_since: float | None = None

    def open(self) -> None:
        """Acquire the device or file. Raise :class:`~edge_arasl.errors.UserError` if unusable."""

    def read(self) -> Frame | None:
        """The next frame, blocking until there is one; ``None`` at the end or once interrupted."""
        raise NotImplementedError

    def ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for :meth:`read` to have something; False if it would wait.

        Lets the loop report status while a source is away. A source whose :meth:`read` does
        the waiting itself (no capture thread) says True at once.
        """
        return True

    @property
    def lost_since(self) -> float | None:
        """``time.monotonic()`` when the source was lost, while it is being reopened; else None."""
        return self._lost_since

    @contextmanager
    def reopening(self) -> Iterator[float]:
        """Marks the source lost (:attr:`lost_since`) for the block; yields when that began."""
        self._lost_since = time.monotonic()
        try:
            yield self._lost_since
        finally:
            self._lost_since = None

    def close(self) -> None:
        """Release the device or file. Safe to call twice and after a failed :meth:`open`."""

    def interrupt(self) -> None:
        """Make a blocked or future :meth:`read` return ``None``; safe from a signal handler."""
        self._interrupted = True

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    def __enter__(self) -> Source:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
