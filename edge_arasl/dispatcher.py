"""Hands frames and events to the output plugins, one worker thread per plugin.

Each plugin has one ordered inbox: frames and events leave it in the order they were put in,
so a plugin never sees a letter before a frame that came earlier (an overlay draws the letter
on the frames that follow it, a subtitle file gets times in order). What differs is how much
may wait: at most ``plugin.queue_size`` frames; when one more arrives, the **oldest waiting
frame** is dropped (a slow plugin stays close to live, and what it shows is the freshest
picture). Letters, words, sentences and status reports are never dropped.

With ``drop_frames=False`` (headless file processing, where every frame must reach a video
writer) :meth:`Dispatcher.frame` waits for room instead: the file is read at the pace of the
slowest plugin.

A plugin that raises in a hook is logged (the first time with a traceback, later at most every
few seconds as a count) and counted in :attr:`Dispatcher.errors`; its worker, the pipeline and
the other plugins go on.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from typing import Any

from edge_arasl.errors import UserError
from edge_arasl.plugin import (
    FrameEvent,
    LetterEvent,
    OutputPlugin,
    PluginError,
    SentenceEvent,
    StatusEvent,
    WordEvent,
)

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)

#: Least seconds between two warnings about the same plugin's drops or errors.
LOG_INTERVAL_S = 5.0


class _Worker:
    """One plugin's inbox and thread. Items are ``(seq, hook name, event)``."""

    def __init__(self, plugin: OutputPlugin, drop_frames: bool) -> None:
        self.plugin = plugin
        self.name = plugin.name or type(plugin).__name__
        self.capacity = max(1, int(plugin.queue_size))
        self.drop_frames = drop_frames
        self.frames: deque[tuple[int, str, Any]] = deque()
        self.events: deque[tuple[int, str, Any]] = deque()
        self.cond = threading.Condition()
        self.closing = False
        self.done = False
        self.dropped = 0
        self.errors = 0
        self._seq = itertools.count()
        self._dropped_logged = 0
        self._next_drop_log = 0.0
        self._next_error_log = 0.0
        self.thread = threading.Thread(target=self._run, name=f"plugin-{self.name}", daemon=True)

    # -- producer side (the pipeline thread) -------------------------------------------------

    def put_frame(self, frame: FrameEvent) -> None:
        with self.cond:
            if not self.drop_frames:
                while len(self.frames) >= self.capacity and not self.closing:
                    self.cond.wait()
            if self.closing:
                return
            if len(self.frames) >= self.capacity:
                self.frames.popleft()
                self.dropped += 1
            self.frames.append((next(self._seq), "on_frame", frame))
            self.cond.notify_all()
        if self.dropped != self._dropped_logged:
            self._log_drops()

    def put_event(self, hook: str, event: Any) -> None:
        with self.cond:
            self.events.append((next(self._seq), hook, event))
            self.cond.notify_all()

    def depth(self) -> int:
        with self.cond:
            return len(self.frames) + len(self.events)

    def _log_drops(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next_drop_log:
            return
        new = self.dropped - self._dropped_logged
        if new:
            log.warning(
                "plugin %s is falling behind: dropped %d frame(s) (%d in all)",
                self.name,
                new,
                self.dropped,
            )
        self._dropped_logged = self.dropped
        self._next_drop_log = now + LOG_INTERVAL_S

    # -- consumer side (this plugin's thread) ------------------------------------------------

    def _next(self) -> tuple[str, Any] | None:
        """The oldest waiting item, or None once closing and empty."""
        with self.cond:
            while not self.frames and not self.events:
                if self.closing:
                    return None
                self.cond.wait()
            if self.frames and (not self.events or self.frames[0][0] < self.events[0][0]):
                _, hook, event = self.frames.popleft()
                self.cond.notify_all()  # room for a producer waiting in put_frame
            else:
                _, hook, event = self.events.popleft()
            return hook, event

    def _run(self) -> None:
        try:
            while (item := self._next()) is not None:
                hook, event = item
                self.call(hook, event)
        finally:
            self.call("stop")
            with self.cond:
                self.done = True
                self.cond.notify_all()

    def call(self, hook: str, *args: Any) -> None:
        try:
            getattr(self.plugin, hook)(*args)
        except Exception as exc:
            self.errors += 1
            self._log_error(hook, exc)

    def _log_error(self, hook: str, exc: Exception) -> None:
        now = time.monotonic()
        if self.errors == 1:
            user = isinstance(exc, UserError)  # a plugin's own one-line message: no traceback
            log.error("plugin %s failed in %s: %s", self.name, hook, exc, exc_info=not user)
            self._next_error_log = now + LOG_INTERVAL_S
            return
        log.debug("plugin %s failed in %s", self.name, hook, exc_info=True)
        if now >= self._next_error_log:
            log.warning(
                "plugin %s keeps failing: %d errors so far, the last in %s: %s",
                self.name,
                self.errors,
                hook,
                exc,
            )
            self._next_error_log = now + LOG_INTERVAL_S


class Dispatcher:
    """Fan frames and events out to plugins; see the module docstring for the guarantees."""

    def __init__(self, plugins: list[OutputPlugin], *, drop_frames: bool = True) -> None:
        names = [p.name or type(p).__name__ for p in plugins]
        if len(set(names)) != len(names):
            raise ValueError(f"plugin names must be unique, got {names}")
        self._workers = [_Worker(p, drop_frames) for p in plugins]
        self._frame_workers = [w for w in self._workers if w.plugin.wants_frames]
        self._state = "new"  # new -> running -> stopped

    @property
    def plugins(self) -> list[OutputPlugin]:
        return [w.plugin for w in self._workers]

    def start(self) -> None:
        """Start every plugin in order, then their threads; a failure stops those started."""
        if self._state != "new":
            raise RuntimeError(f"dispatcher already {self._state}")
        started: list[_Worker] = []
        for worker in self._workers:
            try:
                worker.plugin.start()
            except Exception as exc:
                self._state = "stopped"
                for done in reversed(started):
                    done.call("stop")
                raise _start_error(worker.name, exc) from exc
            started.append(worker)
        self._state = "running"
        for worker in self._workers:
            worker.thread.start()

    def frame(self, event: FrameEvent) -> None:
        """Queue a frame for every plugin that wants frames (drops the oldest when full)."""
        self._check_running()
        for worker in self._frame_workers:
            worker.put_frame(event)

    def letter(self, event: LetterEvent) -> None:
        self._event("on_letter", event)

    def word(self, event: WordEvent) -> None:
        self._event("on_word", event)

    def sentence(self, event: SentenceEvent) -> None:
        self._event("on_sentence", event)

    def status(self, event: StatusEvent) -> None:
        self._event("on_status", event)

    def stop(self, timeout: float = 10.0) -> bool:
        """Deliver what is queued, call each plugin's ``stop()`` once, join the workers.

        Returns False when a plugin did not finish within ``timeout`` seconds (it is left
        behind as a daemon thread and named in the log). Safe to call more than once.
        """
        if self._state != "running":
            self._state = "stopped"
            return True
        self._state = "stopped"
        for worker in self._workers:
            with worker.cond:
                worker.closing = True
                worker.cond.notify_all()
        deadline = time.monotonic() + timeout
        finished = True
        for worker in self._workers:
            worker.thread.join(max(0.0, deadline - time.monotonic()))
            if worker.thread.is_alive():
                finished = False
                log.error(
                    "plugin %s did not finish within %.1f s; %d item(s) left undelivered",
                    worker.name,
                    timeout,
                    worker.depth(),
                )
            worker._log_drops(force=True)
        return finished

    @property
    def errors(self) -> dict[str, int]:
        """Exceptions raised by each plugin's hooks so far."""
        return {w.name: w.errors for w in self._workers}

    @property
    def frames_dropped(self) -> dict[str, int]:
        """Frames each plugin missed because it fell behind."""
        return {w.name: w.dropped for w in self._workers}

    @property
    def queue_depths(self) -> dict[str, int]:
        """Frames and events waiting for each plugin now."""
        return {w.name: w.depth() for w in self._workers}

    def _event(self, hook: str, event: Any) -> None:
        self._check_running()
        for worker in self._workers:
            worker.put_event(hook, event)

    def _check_running(self) -> None:
        if self._state != "running":
            raise RuntimeError(f"dispatcher is {self._state}, not running")


def _start_error(name: str, exc: Exception) -> PluginError:
    """One line for the user: the plugin's own message, prefixed with its name if it lacks it."""
    if isinstance(exc, UserError):
        message = str(exc)
        return PluginError(message if name in message else f"{name}: {message}")
    log.debug("plugin %s failed to start", name, exc_info=exc)
    return PluginError(f"{name}: failed to start: {type(exc).__name__}: {exc}")
