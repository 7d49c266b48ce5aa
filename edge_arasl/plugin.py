"""The public plugin API: event dataclasses and the :class:`OutputPlugin` base class.

This module is all a plugin may import from edge-arasl. The pipeline hands every plugin, in
its own worker thread and in order, the frames (droppable when the plugin falls behind) and
the letters, words, sentences and status reports (never dropped). A plugin is registered
under the entry-point group ``edge_arasl.plugins`` and configured by the config table of its
name::

    [mqtt]
    enabled = true
    host = "broker.local"

``enabled`` is read by the loader; every other key must be a field of the plugin's
``Settings`` dataclass (unknown keys are rejected, types are checked, and a numeric field
declared with :func:`bounded` must lie in its range).
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.settings import bounded, secret

__all__ = [
    "ENTRY_POINT_GROUP",
    "FrameEvent",
    "LetterEvent",
    "NoSettings",
    "OutputPlugin",
    "PluginContext",
    "PluginError",
    "SentenceEvent",
    "StatusEvent",
    "WordEvent",
    "bounded",
    "secret",
]

ENTRY_POINT_GROUP = "edge_arasl.plugins"


class PluginError(UserError):
    """A plugin's one-line, user-facing error (bad setting, unreachable output path, ...)."""


@dataclass(frozen=True)
class FrameEvent:
    """One processed frame.

    ``image`` is the frame for display and annotation (BGR ``HxWx3`` uint8, or ``HxW`` gray for
    gray-only sources); plugins must not modify it in place (copy first). ``roi`` is the pixel
    box ``(x, y, w, h)`` that was classified, ``None`` when no hand region was found.
    ``class_id``/``confidence`` are the smoothed top prediction of this frame and ``text`` its
    Arabic text (empty for ``none``), so plugins need no label table of their own.
    ``hand_box`` is the box ``(x, y, w, h)`` of the hand's landmarks and ``landmarks`` the 21
    landmarks (21x2 float pixels, MediaPipe's order: wrist, then four joints per finger from
    the thumb), both ``None`` when no landmarks were read in this frame.
    """

    index: int
    timestamp: float
    image: np.ndarray
    roi: tuple[int, int, int, int] | None
    class_id: str
    confidence: float
    text: str = ""
    hand_box: tuple[int, int, int, int] | None = None
    landmarks: np.ndarray | None = None


@dataclass(frozen=True)
class LetterEvent:
    """A recognised letter. Times are in seconds on the frame clock (media time for files)."""

    class_id: str
    text: str
    confidence: float
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "letter",
            "class": self.class_id,
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
        }


@dataclass(frozen=True)
class WordEvent:
    """A finished word: the letter classes in signing order and their joined Arabic text.

    ``classes``/``text`` are the chosen spelling, what plugins show, publish and speak;
    ``raw_classes``/``raw_text`` are the letters as the decoder read them, and ``corrected``
    says the lexicon-aware speller changed them (docs/decoder.md). Left out, the raw ones
    are the chosen ones.
    """

    classes: tuple[str, ...]
    text: str
    start: float
    end: float
    raw_classes: tuple[str, ...] | None = None
    raw_text: str | None = None
    corrected: bool = False

    def __post_init__(self) -> None:
        if self.raw_classes is None:
            object.__setattr__(self, "raw_classes", tuple(self.classes))
        if self.raw_text is None:
            object.__setattr__(self, "raw_text", self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "word",
            "classes": list(self.classes),
            "text": self.text,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "raw_classes": list(self.raw_classes or ()),
            "raw_text": self.raw_text,
            "corrected": self.corrected,
        }


@dataclass(frozen=True)
class SentenceEvent:
    """The words since the last long pause (``sentence_gap_s`` of the decoder), in order.

    For plugins that speak or display whole phrases; emitted after its last word. ``words``
    are the words' chosen texts, ``start``/``end`` the first word's start and the last's end.
    """

    words: tuple[str, ...]
    start: float
    end: float

    @property
    def text(self) -> str:
        """The words joined by spaces (logical order, never reshaped)."""
        return " ".join(self.words)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "sentence",
            "text": self.text,
            "words": list(self.words),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
        }


@dataclass(frozen=True)
class StatusEvent:
    """A periodic health report (about once a second, and once on start and stop).

    ``state`` is ``"starting"``, ``"running"`` or ``"stopping"``. Counters are totals since
    start. ``inference_buckets`` holds cumulative counts of inference latency at or under each
    bound in milliseconds (Prometheus-style), with ``inference_ms_sum`` their total.
    ``plugin_gauges`` holds values plugins report through :meth:`PluginContext.gauge`,
    ``plugin_failed`` why a plugin was given up on (its later events are skipped) and
    ``plugin_queue_depths`` the frames and events waiting for each plugin. ``source_state`` is
    ``"ok"``, or ``"lost"`` while the source is away and being reopened (a camera unplugged, a
    stream or the daemon's video file gone), for ``source_lost_s`` seconds so far (0 if ok).
    """

    state: str
    wall_time: float
    source_state: str = "ok"
    source_lost_s: float = 0.0
    frames: int = 0
    frames_dropped: int = 0
    fps: float = 0.0
    letters: int = 0
    words: int = 0
    last_letter: str = ""
    text: str = ""
    inference_ms_sum: float = 0.0
    inference_buckets: tuple[tuple[float, int], ...] = ()
    plugin_errors: Mapping[str, int] = field(default_factory=dict)
    plugin_frames_dropped: Mapping[str, int] = field(default_factory=dict)
    plugin_gauges: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    plugin_failed: Mapping[str, str] = field(default_factory=dict)
    plugin_queue_depths: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["inference_buckets"] = [list(b) for b in self.inference_buckets]
        return data


@dataclass(frozen=True)
class NoSettings:
    """Settings of a plugin that takes none."""


class Gauges:
    """The values plugins report, by plugin and key.

    Plugins report from any of their threads (paho's network thread, say) while the loop
    copies the values into a status report, so both go through one lock.
    """

    def __init__(self, values: dict[str, dict[str, float]] | None = None) -> None:
        self._values = values if values is not None else {}
        self._lock = threading.Lock()

    def set(self, plugin: str, key: str, value: float) -> None:
        with self._lock:
            self._values.setdefault(plugin, {})[key] = float(value)

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {name: dict(values) for name, values in self._values.items()}


class PluginContext:
    """What the pipeline tells a plugin about the run, and the one way a plugin reports back."""

    def __init__(
        self,
        *,
        name: str,
        device_id: str,
        mode: str,
        state_dir: Path,
        fps: float | None = None,
        frame_size: tuple[int, int] | None = None,
        gauges: Gauges | dict[str, dict[str, float]] | None = None,
    ) -> None:
        self.name = name
        self.device_id = device_id
        self.mode = mode  # "run" (daemon) or "process" (a file, headless)
        self.state_dir = state_dir
        self.fps = fps  # the source's frame rate when known
        self.frame_size = frame_size  # (width, height) when known before the first frame
        self._gauges = gauges if isinstance(gauges, Gauges) else Gauges(gauges)

    def gauge(self, key: str, value: float) -> None:
        """Report a value (queue depth, connection state...) carried in every StatusEvent."""
        self._gauges.set(self.name, key, value)


class EventHooks:
    """The event hooks, shared by output plugins and the loop's observers.

    :data:`HOOKS` is read from this class, so the hooks are declared here only. A subclass
    whose ``on_*`` method overrides no hook of its bases (a typo such as ``on_leter``, which
    would silently never run) or cannot take that hook's arguments is rejected with a
    ``TypeError`` when the class is created, that is when its plugin is loaded. A class that
    adds hooks of its own names them in ``declares_hooks``.
    """

    declares_hooks: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_hooks(cls)

    def on_frame(self, frame: FrameEvent) -> None:
        """A processed frame."""

    def on_letter(self, letter: LetterEvent) -> None:
        """A recognised letter."""

    def on_word(self, word: WordEvent) -> None:
        """A finished word."""

    def on_sentence(self, sentence: SentenceEvent) -> None:
        """The words since the last long pause, after the last of them."""

    def on_status(self, status: StatusEvent) -> None:
        """A periodic status report."""


def _event_hooks() -> dict[type, str]:
    """Each event type and the hook that receives it, from :class:`EventHooks`."""
    hooks: dict[type, str] = {}
    for name, function in vars(EventHooks).items():
        if name.startswith("on_"):
            hints = typing.get_type_hints(function)
            (event_type,) = (t for key, t in hints.items() if key != "return")
            hooks[event_type] = name
    return hooks


#: Event type -> the name of the hook that receives it (``FrameEvent`` -> ``"on_frame"``).
HOOKS: Mapping[type, str] = _event_hooks()


def _check_hooks(cls: type) -> None:
    """Reject ``on_*`` methods (and ``start``/``stop``) that are no hook or take other arguments."""
    for name, value in vars(cls).items():
        if not (name.startswith("on_") or name in ("start", "stop")):
            continue
        if name in vars(cls).get("declares_hooks", ()):
            continue
        base = next((vars(b)[name] for b in cls.__mro__[1:] if name in vars(b)), None)
        where = f"{cls.__module__}.{cls.__qualname__}.{name}"
        if base is None:
            if name in ("start", "stop"):
                continue
            known = sorted(n for b in cls.__mro__[1:] for n in vars(b) if n.startswith("on_"))
            raise TypeError(f"{where} is not a hook (hooks: {', '.join(known)})")
        expected = list(inspect.signature(base).parameters)
        try:
            inspect.signature(value).bind(*expected)
        except (TypeError, ValueError):
            raise TypeError(f"{where} must take ({', '.join(expected)}) like the hook") from None


class OutputPlugin(EventHooks):
    """Base class of output plugins: override what you need; every hook runs in one thread.

    Subclasses set ``name`` (the config table and entry-point name) and, if they take options,
    ``Settings`` (a dataclass whose fields all have defaults). ``wants_frames = False`` spares
    event-only plugins the frame traffic. ``queue_size`` bounds the frames waiting for this
    plugin; beyond it frames are dropped and counted, never letters, words or status.
    A plugin that keeps a queue of its own (waiting for a broker, say) says how long its
    ``stop()`` may drain it in :attr:`stop_timeout` and how much is still in it in
    :meth:`pending`, so a stop that is cut short counts what was lost.
    """

    name: ClassVar[str] = ""
    Settings: ClassVar[type] = NoSettings
    wants_frames: ClassVar[bool] = True
    queue_size: ClassVar[int] = 8

    def __init__(self, settings: Any, context: PluginContext) -> None:
        self.settings = settings
        self.context = context

    @property
    def stop_timeout(self) -> float:
        """Seconds ``stop()`` may spend draining beyond the dispatcher's own stop limit."""
        return 0.0

    def pending(self) -> int:
        """Items this plugin took but has not delivered yet (its own queue, if it has one)."""
        return 0

    def start(self) -> None:
        """Open outputs. Raise :class:`PluginError` for a problem the user can fix."""

    def stop(self) -> None:
        """Flush and close outputs; called once, also after errors elsewhere."""
