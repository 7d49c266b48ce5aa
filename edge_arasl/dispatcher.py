"""Hands frames and events to the output plugins, one worker thread per plugin.

Each plugin has one ordered inbox: frames and events leave it in the order they were put in,
so a plugin never sees a letter before a frame that came earlier (an overlay draws the letter
on the frames that follow it, a subtitle file gets times in order). What differs is how much
may wait: at most ``plugin.queue_size`` frames; when one more arrives, the **oldest waiting
frame** is dropped (a slow plugin stays close to live, and what it shows is the freshest
picture). Letters, words, sentences and status reports are never dropped.

With ``drop_frames=False`` (headless file processing, where every frame must reach a video
writer) :meth:`Dispatcher.publish` waits for room instead: the file is read at the pace of the
slowest plugin, until :meth:`Dispatcher.interrupt` (a stop signal) ends the waiting.

Failures stay with the plugin that had them. Each plugin's hooks are looked up once, and only
what a hook itself raises is the plugin's failure:

- a :class:`PluginError` (an output that cannot work: a path it cannot write, a full disk)
  marks the plugin **failed**: its queue is cleared, its later events are skipped, its
  ``stop()`` still runs, and :attr:`Dispatcher.failed` says why;
- a hook that does not return within :data:`STALL_S` marks it failed too (it holds up
  neither a file being read nor the daemon's memory), and a stop does not wait for it;
- any other exception is logged (the first time with a traceback, later at most every
  :data:`LOG_INTERVAL_S` as a count) and counted in :attr:`Dispatcher.errors`, and the
  plugin keeps receiving events.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from typing import Any

from edge_arasl.errors import UserError
from edge_arasl.plugin import HOOKS, FrameEvent, OutputPlugin, PluginError

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)

#: Least seconds between two warnings about the same plugin's drops or errors.
LOG_INTERVAL_S = 5.0
#: A hook still running after this many seconds is taken for stuck: its plugin is failed.
STALL_S = 10.0
#: Seconds :meth:`Dispatcher.stop` gives each plugin to take its queue and stop, on top of
#: the plugin's own :attr:`~edge_arasl.plugin.OutputPlugin.stop_timeout` (a drain).
STOP_S = 5.0
#: How often a producer waiting for room looks for a stop request or a stuck plugin.
_WAIT_SLICE_S = 0.1


class _Worker:
    """One plugin's inbox and thread. Items are ``(seq, hook name, event)``."""

    def __init__(self, plugin: OutputPlugin, drop_frames: bool, interrupted: threading.Event):
        self.plugin = plugin
        self.name = plugin.name or type(plugin).__name__
        self.hooks = {hook: getattr(plugin, hook) for hook in HOOKS.values()}
        self.capacity = max(1, int(plugin.queue_size))
        self.drop_frames = drop_frames
        self.interrupted = interrupted
        self.frames: deque[tuple[int, str, Any]] = deque()
        self.events: deque[tuple[int, str, Any]] = deque()
        self.cond = threading.Condition()
        self.closing = False
        self.done = False
        self.failed: str | None = None
        self.busy: tuple[str, float] | None = None  # (hook, since) while a hook runs
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
                while len(self.frames) >= self.capacity and self._open_for_more():
                    self.cond.wait(_WAIT_SLICE_S)
                    self._check_stall()
            self._check_stall()
            if self.closing or self.failed is not None:
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
            self._check_stall()
            if self.failed is None:
                self.events.append((next(self._seq), hook, event))
                self.cond.notify_all()

    def depth(self) -> int:
        with self.cond:
            return len(self.frames) + len(self.events)

    def pending(self) -> int:
        """What is still waiting: this inbox and the plugin's own queue."""
        try:
            own = int(self.plugin.pending())
        except Exception:
            log.debug("plugin %s failed in pending()", self.name, exc_info=True)
            own = 0
        return self.depth() + own

    def stop_limit(self, base: float) -> float:
        try:
            return base + max(0.0, float(self.plugin.stop_timeout))
        except Exception:
            log.debug("plugin %s failed in stop_timeout", self.name, exc_info=True)
            return base

    def _open_for_more(self) -> bool:
        return not (self.closing or self.failed is not None or self.interrupted.is_set())

    def _check_stall(self) -> None:
        """Fail the plugin if its current hook has run for longer than :data:`STALL_S`."""
        busy = self.busy
        if busy is not None and self.failed is None and time.monotonic() - busy[1] > STALL_S:
            self._fail(f"{busy[0]} did not return within {STALL_S:g} s")

    def _fail(self, reason: str) -> None:
        """Give up on the plugin (caller holds ``cond``): drop its queue, skip what follows."""
        self.failed = reason
        skipped = len(self.frames) + len(self.events)
        self.frames.clear()
        self.events.clear()
        self.cond.notify_all()
        log.error(
            "plugin %s failed: %s; its later events are skipped (%d queued item(s) dropped)",
            self.name,
            reason,
            skipped,
        )

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
                self.deliver(*item)
        finally:
            self.stop_plugin()
            with self.cond:
                self.done = True
                self.cond.notify_all()

    def deliver(self, hook: str, event: Any) -> None:
        """Call one hook; what it raises is this plugin's failure, nothing else is."""
        method = self.hooks[hook]
        self.busy = (hook, time.monotonic())
        try:
            method(event)
        except Exception as exc:
            self._hook_failed(hook, exc)
        finally:
            self.busy = None

    def stop_plugin(self) -> None:
        try:
            self.plugin.stop()
        except Exception as exc:
            if self.failed is None:
                self._hook_failed("stop", exc)
            else:  # a failed output often fails to close too: said once already
                self.errors += 1
                log.debug("plugin %s failed in stop", self.name, exc_info=True)

    def _hook_failed(self, hook: str, exc: Exception) -> None:
        self.errors += 1
        if isinstance(exc, PluginError):
            with self.cond:
                if self.failed is None:
                    self._fail(f"{hook}: {exc}")
            return
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
        self._interrupted = threading.Event()
        self._workers = [_Worker(p, drop_frames, self._interrupted) for p in plugins]
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
                    done.stop_plugin()
                raise _start_error(worker.name, exc) from exc
            started.append(worker)
        self._state = "running"
        for worker in self._workers:
            worker.thread.start()

    def publish(self, event: Any) -> None:
        """Queue a frame or an event for every plugin (frames: those that want them)."""
        if self._state != "running":
            raise RuntimeError(f"dispatcher is {self._state}, not running")
        hook = HOOKS[type(event)]
        if hook == "on_frame":
            for worker in self._frame_workers:
                worker.put_frame(event)
        else:
            for worker in self._workers:
                worker.put_event(hook, event)

    def interrupt(self) -> None:
        """Stop waiting for room for frames (a stop was asked for); safe from a signal handler."""
        self._interrupted.set()

    def stop(self, timeout: float = STOP_S) -> bool:
        """Deliver what is queued, call each plugin's ``stop()`` once, join the workers.

        Each plugin gets ``timeout`` seconds plus its own ``stop_timeout``, all counted from
        the same moment; a plugin already failed as stuck is not waited for. Returns False
        when a plugin did not finish in time (it is left behind as a daemon thread, named in
        the log and in :attr:`failed` with what it left undelivered). Safe to call twice.
        """
        if self._state != "running":
            self._state = "stopped"
            return True
        self._state = "stopped"
        for worker in self._workers:
            with worker.cond:
                worker.closing = True
                worker.cond.notify_all()
        started = time.monotonic()
        finished = True
        for worker in self._workers:
            limit = worker.stop_limit(timeout)
            if worker.failed is None or worker.busy is None:
                worker.thread.join(max(0.0, started + limit - time.monotonic()))
            if worker.thread.is_alive() and worker.failed is None:
                finished = False
                left = worker.pending()
                reason = f"did not finish within {limit:.1f} s; {left} item(s) left undelivered"
                log.error("plugin %s %s", worker.name, reason)
                worker.failed = reason
            worker._log_drops(force=True)
        return finished

    @property
    def errors(self) -> dict[str, int]:
        """Exceptions raised by each plugin's hooks so far."""
        return {w.name: w.errors for w in self._workers}

    @property
    def failed(self) -> dict[str, str]:
        """The plugins given up on, and why (their later events were skipped)."""
        return {w.name: w.failed for w in self._workers if w.failed is not None}

    @property
    def frames_dropped(self) -> dict[str, int]:
        """Frames each plugin missed because it fell behind."""
        return {w.name: w.dropped for w in self._workers}

    @property
    def queue_depths(self) -> dict[str, int]:
        """Frames and events waiting for each plugin now (in status reports and metrics)."""
        return {w.name: w.depth() for w in self._workers}


def _start_error(name: str, exc: Exception) -> PluginError:
    """One line for the user: the plugin's own message, prefixed with its name if it lacks it."""
    if isinstance(exc, UserError):
        message = str(exc)
        return PluginError(message if name in message else f"{name}: {message}")
    log.debug("plugin %s failed to start", name, exc_info=exc)
    return PluginError(f"{name}: failed to start: {type(exc).__name__}: {exc}")
