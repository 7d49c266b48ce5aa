"""The processing loop: source -> region -> reader -> decoder -> dispatcher.

One frame at a time: find the hand region, read its crop and landmarks, let the decoder turn the
probabilities into letters and words, and hand everything to the output plugins through the
dispatcher (which never blocks the loop). About once a second the loop also emits a
:class:`~edge_arasl.plugin.StatusEvent`, also while a live source is away and waits to be
reopened (:meth:`Source.ready <edge_arasl.sources.base.Source.ready>` lets the loop wait for a
frame no longer than until the next report).

Code that must *watch* the loop rather than consume its output (systemd notification, the
status file, the ``process`` command's JSON lines and progress bar) registers an
:class:`Observer`: its hooks run synchronously in the loop thread, so the service layer can
feed a watchdog from the loop itself without the loop knowing about systemd.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from edge_arasl.labels import text_for
from edge_arasl.plugin import (
    HOOKS,
    EventHooks,
    FrameEvent,
    Gauges,
    LetterEvent,
    PluginContext,
    StatusEvent,
    WordEvent,
)
from edge_arasl.reader import SignReader
from edge_arasl.region import RegionProvider, build_region
from edge_arasl.sources.base import Frame, Source
from edge_arasl.stats import RunStats

if TYPE_CHECKING:
    from edge_arasl.config import Config, SourceSettings
    from edge_arasl.decoder import Event, LetterDecoder
    from edge_arasl.dispatcher import Dispatcher

log = logging.getLogger(__name__)


class Observer(EventHooks):
    """Synchronous hooks into the loop; override what you need. Keep them quick.

    The event hooks are the plugins' own (:class:`~edge_arasl.plugin.EventHooks`, so a
    misspelt one fails when the class is made): ``on_frame`` runs after every processed frame
    (so it doubles as a liveness signal), ``on_status`` for every status report (``starting``,
    periodic ``running``, ``stopping``). Observers add ``on_start`` and ``on_stop`` (once at
    the end, also after an error).
    """

    declares_hooks = ("on_start", "on_stop")

    def on_start(self, pipeline: Pipeline) -> None:
        """The source is open and the plugins have started; no frame read yet."""

    def on_stop(self, summary: Summary) -> None:
        """The run is over and the plugins are flushed and stopped."""


@dataclass
class Summary:
    """What a run produced: every letter and word (if recorded), and how long it took."""

    frames: int = 0
    frames_dropped: int = 0
    seconds: float = 0.0
    letters: list[LetterEvent] = field(default_factory=list)
    words: list[WordEvent] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The recognised words, space-separated (logical order, never reshaped)."""
        return " ".join(word.text for word in self.words)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class Pipeline:
    """Runs ``source`` through ``region``, ``reader`` and ``decoder`` into ``dispatcher``.

    ``source`` must be open; :meth:`run` closes it. The dispatcher is started by :meth:`run`
    and always stopped by it (plugins flushed), however the run ends. ``record`` keeps every
    letter and word in the :class:`Summary` (a file); a daemon leaves it off, as its memory
    must not grow with uptime.
    """

    def __init__(
        self,
        source: Source,
        region: RegionProvider,
        reader: SignReader,
        decoder: LetterDecoder,
        dispatcher: Dispatcher,
        *,
        observers: Iterable[Observer] = (),
        status_interval: float = 1.0,
        gauges: Gauges | None = None,
        record: bool = True,
    ) -> None:
        self.record = record
        self.source = source
        self.region = region
        self.reader = reader
        self.decoder = decoder
        self.dispatcher = dispatcher
        self.observers = list(observers)
        self._observer_hooks = {
            hook: [getattr(o, hook) for o in self.observers]
            for hook in (*HOOKS.values(), *Observer.declares_hooks)
        }
        self.status_interval = status_interval
        self.gauges = gauges if gauges is not None else Gauges()
        self.stats = RunStats()
        self._stop_requested = False
        classes = reader.classifier.classes
        self._texts = dict(zip(classes, map(text_for, classes), strict=True))

    def stop(self) -> None:
        """Ask the loop to finish after the current frame; safe from a signal handler."""
        self._stop_requested = True
        self.source.interrupt()
        self.dispatcher.interrupt()  # a file read at a stuck plugin's pace waits no more

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    def run(self) -> Summary:
        """Process frames until the source ends or :meth:`stop`; flush and stop the plugins."""
        summary = Summary()
        started = time.perf_counter()
        last_time: float | None = None
        try:
            self.dispatcher.start()
        except BaseException:
            self.source.close()
            raise
        try:
            self._notify("on_start", self)
            self._report("starting")
            next_status = time.monotonic() + self.status_interval
            while not self._stop_requested:
                # A source that is away keeps nothing from reporting (and feeding a watchdog).
                if self.source.ready(max(0.0, next_status - time.monotonic())):
                    frame = self.source.read()
                    if frame is None:
                        break
                    self._process(frame, summary)
                    last_time = frame.timestamp
                # once stopping, the last word is the "stopping" status below
                if not self._stop_requested and time.monotonic() >= next_status:
                    self._report("running")
                    next_status = time.monotonic() + self.status_interval
        finally:
            try:
                self._emit(self.decoder.finish(last_time), summary)
                summary.frames = self.stats.frames
                summary.frames_dropped = self.source.dropped
                summary.seconds = time.perf_counter() - started
                self._report("stopping")
            finally:
                self.source.close()
                self.dispatcher.stop()
                self._notify("on_stop", summary)
        return summary

    def _process(self, frame: Frame, summary: Summary) -> None:
        t0 = time.perf_counter()
        located = self.region.locate(frame)
        probs = self.reader.read(frame, located)
        self.stats.frame((time.perf_counter() - t0) * 1000.0)
        self._emit(self.decoder.update(probs, frame.timestamp), summary)
        class_id, confidence = self.decoder.current
        event = FrameEvent(
            index=frame.index,
            timestamp=frame.timestamp,
            image=frame.image,
            roi=None if located is None else located.box,
            class_id=class_id,
            confidence=confidence,
            text=self._texts[class_id],
            hand_box=None if located is None else located.hand_box,
            landmarks=None if located is None else located.landmarks,
        )
        self._publish(event)

    def _emit(self, events: Iterable[Event], summary: Summary) -> None:
        for event in events:
            if isinstance(event, LetterEvent):
                self.stats.letter(event)
                if self.record:
                    summary.letters.append(event)
            elif isinstance(event, WordEvent):
                self.stats.word(event)
                if self.record:
                    summary.words.append(event)
            self._publish(event)

    def _report(self, state: str) -> None:
        d = self.dispatcher
        status = self.stats.status(
            state,
            frames_dropped=self.source.dropped,
            plugin_errors=d.errors,
            plugin_frames_dropped=d.frames_dropped,
            plugin_gauges=self.gauges.snapshot(),
            plugin_failed=d.failed,
            plugin_queue_depths=d.queue_depths,
            source_lost_since=self.source.lost_since,
        )
        self._publish(status)

    def _publish(self, event: FrameEvent | Event | StatusEvent) -> None:
        """To the plugins (queued), then to the observers (now, in this thread)."""
        self.dispatcher.publish(event)
        self._notify(HOOKS[type(event)], event)

    def _notify(self, hook: str, arg: object) -> None:
        for method in self._observer_hooks[hook]:
            method(arg)


def build_pipeline(
    config: Config,
    source: Source,
    *,
    mode: str,
    observers: Iterable[Observer] = (),
    region: RegionProvider | None = None,
    record: bool = True,
    drop_frames: bool | None = None,
) -> Pipeline:
    """Assemble the pipeline ``config`` describes around an open ``source``.

    ``mode`` is ``"run"`` (daemon) or ``"process"`` (a file); plugins see it in their context.
    ``drop_frames`` lets slow plugins skip frames; by default they do for live sources and
    never for files read frame by frame (every frame must reach a video writer).
    Builds the classifier, the decoder and the enabled plugins (whose settings errors are
    :class:`~edge_arasl.errors.UserError`); starting them is :meth:`Pipeline.run`'s job.
    """
    from edge_arasl.classifier import Classifier
    from edge_arasl.decoder import LetterDecoder
    from edge_arasl.dispatcher import Dispatcher
    from edge_arasl.landmark_classifier import LandmarkClassifier
    from edge_arasl.registry import build_plugins

    settings = config.classifier
    classifier = Classifier(
        model_path=settings.model or None,
        num_threads=settings.threads,
        backend=None if settings.backend == "auto" else settings.backend,
        views=settings.views,
    )
    landmarks = LandmarkClassifier(
        settings.landmark_model or None, num_threads=settings.threads, backend=classifier.backend
    )
    decoder = LetterDecoder(classifier.classes, config.decoder)
    gauges = Gauges()
    device_id = config.service.resolved_device_id
    state_dir: Path = config.service.resolved_state_dir

    def make_context(name: str) -> PluginContext:
        return PluginContext(
            name=name,
            device_id=device_id,
            mode=mode,
            state_dir=state_dir,
            fps=source.fps,
            frame_size=source.frame_size,
            gauges=gauges,
        )

    plugins = build_plugins(dict(config.plugins), make_context, config.where)
    return Pipeline(
        source,
        region or build_region(config.region, config.hand),
        SignReader(classifier, landmarks, config.hand),
        decoder,
        Dispatcher(plugins, drop_frames=source.live if drop_frames is None else drop_frames),
        observers=observers,
        status_interval=config.service.status_interval,
        gauges=gauges,
        record=record,
    )


def open_pipeline(
    config: Config,
    *,
    mode: str,
    realtime: bool,
    source: SourceSettings | None = None,
    observers: Iterable[Observer] = (),
    record: bool = True,
) -> Pipeline:
    """Open ``source`` (default: the config's) and build the pipeline around it.

    The source is closed again if building fails (a bad plugin table, a missing model).
    """
    from edge_arasl.sources import open_source

    opened = open_source(source or config.source, realtime=realtime)
    try:
        return build_pipeline(config, opened, mode=mode, observers=observers, record=record)
    except BaseException:
        opened.close()
        raise
