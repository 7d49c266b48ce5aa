"""Counters of a pipeline run, and the :class:`StatusEvent` snapshots made from them.

Kept apart from the loop so the loop reads as the data flow and the bookkeeping stays here:
frames, frame rate over the last report interval, letters and words, the recent text, and a
Prometheus-style histogram of per-frame inference latency.
"""

from __future__ import annotations

import bisect
import time
from collections import deque
from collections.abc import Callable, Mapping

from edge_arasl.plugin import LetterEvent, StatusEvent, WordEvent

#: Upper bounds (ms) of the inference latency histogram; frames above the last one are counted
#: only in the total, which equals ``frames`` (Prometheus' ``+Inf`` bucket).
LATENCY_BOUNDS_MS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0)

#: Finished words kept for the status text (a daemon runs for months; the text must not grow).
RECENT_WORDS = 8


class RunStats:
    """Everything a status report says, updated by the loop as frames and events pass."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.frames = 0
        self.letters = 0
        self.words = 0
        self.last_letter = ""
        self.inference_ms_sum = 0.0
        self._bucket_counts = [0] * len(LATENCY_BOUNDS_MS)
        self._recent_words: deque[str] = deque(maxlen=RECENT_WORDS)
        self._open_word = ""  # letters of the word being signed
        self._rate_mark = (self.started, 0)  # (time, frames) at the previous report
        self.fps = 0.0

    def frame(self, inference_ms: float) -> None:
        self.frames += 1
        self.inference_ms_sum += inference_ms
        i = bisect.bisect_left(LATENCY_BOUNDS_MS, inference_ms)
        if i < len(self._bucket_counts):
            self._bucket_counts[i] += 1

    def letter(self, event: LetterEvent) -> None:
        self.letters += 1
        self.last_letter = event.text
        self._open_word += event.text

    def word(self, event: WordEvent) -> None:
        self.words += 1
        self._recent_words.append(event.text)
        self._open_word = ""

    @property
    def text(self) -> str:
        """The last few words and the word being signed, space-separated (logical order)."""
        return " ".join([*self._recent_words, *([self._open_word] if self._open_word else [])])

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    def inference_buckets(self) -> tuple[tuple[float, int], ...]:
        """Cumulative counts at or under each bound, as Prometheus histograms want them."""
        total, buckets = 0, []
        for bound, count in zip(LATENCY_BOUNDS_MS, self._bucket_counts, strict=True):
            total += count
            buckets.append((bound, total))
        return tuple(buckets)

    def _update_fps(self) -> None:
        now = self._clock()
        mark_time, mark_frames = self._rate_mark
        if now - mark_time > 0:
            self.fps = (self.frames - mark_frames) / (now - mark_time)
        self._rate_mark = (now, self.frames)

    def status(
        self,
        state: str,
        *,
        frames_dropped: int = 0,
        plugin_errors: Mapping[str, int] | None = None,
        plugin_frames_dropped: Mapping[str, int] | None = None,
        plugin_gauges: Mapping[str, Mapping[str, float]] | None = None,
        plugin_failed: Mapping[str, str] | None = None,
        plugin_queue_depths: Mapping[str, int] | None = None,
        source_lost_since: float | None = None,
    ) -> StatusEvent:
        """A snapshot; the frame rate is measured since the previous snapshot.

        ``source_lost_since`` is when (on this clock) the source was lost, if it is away.
        """
        self._update_fps()
        lost_s = None if source_lost_since is None else max(0.0, self._clock() - source_lost_since)
        return StatusEvent(
            state=state,
            wall_time=time.time(),
            source_state="ok" if lost_s is None else "lost",
            source_lost_s=0.0 if lost_s is None else round(lost_s, 1),
            frames=self.frames,
            frames_dropped=frames_dropped,
            fps=round(self.fps, 2),
            letters=self.letters,
            words=self.words,
            last_letter=self.last_letter,
            text=self.text,
            inference_ms_sum=round(self.inference_ms_sum, 3),
            inference_buckets=self.inference_buckets(),
            plugin_errors=dict(plugin_errors or {}),
            plugin_frames_dropped=dict(plugin_frames_dropped or {}),
            plugin_gauges={k: dict(v) for k, v in (plugin_gauges or {}).items()},
            plugin_failed=dict(plugin_failed or {}),
            plugin_queue_depths=dict(plugin_queue_depths or {}),
        )
