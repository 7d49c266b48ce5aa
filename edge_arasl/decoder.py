"""Per-frame class probabilities -> letters and words, with rules measured in seconds.

Every rule is stated in time, not frames, so a 15 fps Pi camera and a 60 fps video file decode
the same signing alike:

1. **Smoothing.** An exponential moving average of the probability vector with time constant
   ``smoothing_s``: each frame moves it by ``alpha = 1 - exp(-dt / smoothing_s)``.
2. **Sign or no sign.** The smoothed top class is "held" when it is a sign (not ``none``) and
   its smoothed probability reaches ``enter`` -- or only ``exit`` for the class already being
   held (hysteresis). ``none`` and low confidence are "no sign", and so is a frame whose
   smoothed ``none`` probability reaches ``none_max`` even if a sign is more probable: the
   model doubting that a hand is in view at all (a bare wall read as a weak "bb").
3. **Letters.** A class held, with gaps shorter than ``release_s``, for ``hold_s`` seconds
   becomes a letter. It ends when it stops being held; it is emitted once that is certain: when
   it has not been held for ``release_s`` or when a different letter has been held for
   ``hold_s`` (a direct switch). So a letter reaches the plugins ``release_s`` after the hand
   leaves it (or ``hold_s`` after the next sign starts) and carries its true ``end``; the
   running prediction is in :attr:`LetterDecoder.current` on every frame.
4. **Repeats.** A gap shorter than ``release_s`` is a flicker of the same letter; the same letter
   again after a longer gap is a new letter ("مدد" is meem, dal, a short release, dal).
5. **Words.** A word ends after a pause of ``word_gap_s`` with no letter and no hand in view
   (``none`` on top or at ``none_max``). A hand in view whose sign cannot be read keeps the
   word open, so one unreadable letter does not split a word in two; but after
   ``word_timeout_s`` without a letter the word ends whatever is in view.
6. **Sentences.** The words since the last pause of ``sentence_gap_s`` without a letter
   (longer than ``word_gap_s``) make a sentence, emitted once that pause is over.

A letter's ``confidence`` is the time-weighted mean of its smoothed probability while held;
``start`` is the first frame it was held, ``end`` the first frame it no longer was.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edge_arasl.labels import NONE_CLASS, join_classes, text_for
from edge_arasl.plugin import LetterEvent, SentenceEvent, WordEvent
from edge_arasl.settings import bounded
from edge_arasl.spelling import Speller, WordSettings

__all__ = ["DecoderSettings", "Event", "LetterDecoder"]

log = logging.getLogger(__name__)

Event = LetterEvent | WordEvent | SentenceEvent


@dataclass(frozen=True)
class DecoderSettings:
    """The ``[decoder]`` config table; defaults tuned on held-out images (docs/decoder.md)."""

    smoothing_s: float = bounded(0.06, ge=0, le=10, unit="s")
    """Time constant of the moving average of probabilities (0 turns smoothing off)."""
    enter: float = bounded(0.2, gt=0, le=1)
    """Smoothed probability at which a sign starts to be held."""
    exit: float = bounded(0.1, gt=0, le=1)
    """Smoothed probability below which a held sign is let go (hysteresis; <= enter)."""
    none_max: float = bounded(0.7, gt=0, le=1)
    """Smoothed probability of ``none`` from which a frame is no sign, whatever is on top."""
    hold_s: float = bounded(0.2, ge=0, le=10, unit="s")
    """How long a sign must be held to count as a letter."""
    release_s: float = bounded(0.2, gt=0, le=10, unit="s")
    """Gap that ends a letter: shorter gaps are flicker; the same letter again needs this much."""
    word_gap_s: float = bounded(1.0, gt=0, le=60, unit="s")
    """Pause without a letter or a hand in view that ends a word (> release_s)."""
    word_timeout_s: float = bounded(2.5, gt=0, le=600, unit="s")
    """Time without a letter that ends a word even with a hand in view (>= word_gap_s)."""
    sentence_gap_s: float = bounded(3.0, gt=0, le=60, unit="s")
    """Time without a letter after a word that ends the sentence (> word_gap_s, <= 60)."""
    words: WordSettings = field(default_factory=WordSettings)
    """Spelling correction of finished words with a lexicon (``[decoder.words]``)."""

    def __post_init__(self) -> None:  # the rules between fields; ranges are declared above
        if self.exit > self.enter:
            raise ValueError(
                f"thresholds must satisfy exit <= enter (got exit={self.exit}, enter={self.enter})"
            )
        if self.word_gap_s <= self.release_s:
            raise ValueError(
                f"word_gap_s ({self.word_gap_s}) must be longer than release_s ({self.release_s})"
            )
        if self.word_timeout_s < self.word_gap_s:
            raise ValueError(
                f"word_timeout_s ({self.word_timeout_s}) must be at least word_gap_s "
                f"({self.word_gap_s})"
            )
        if self.sentence_gap_s <= self.word_gap_s:
            raise ValueError(
                f"sentence_gap_s ({self.sentence_gap_s}) must be longer than word_gap_s "
                f"({self.word_gap_s})"
            )


@dataclass
class _Run:
    """One class held, possibly with short gaps: a candidate until confirmed as a letter."""

    class_id: str
    start: float
    last: float  # time of the latest frame it was held
    end: float | None = None  # first frame it was no longer held; None while held
    weighted: float = 0.0  # sum of confidence * dt while held
    weight: float = 0.0
    peak: float = 0.0
    vector_sum: np.ndarray | None = None  # sum of smoothed probabilities * dt while held
    last_vector: np.ndarray | None = None  # the latest smoothed probabilities while held
    gap: tuple[float, np.ndarray | None] | None = None  # pause before it in its word

    def hold(self, t: float, conf: float, dt: float, smoothed: np.ndarray) -> None:
        if self.end is not None:  # back within the release gap: the same letter goes on
            self.end = None
        self.weighted += conf * dt
        self.weight += dt
        if self.vector_sum is None:
            self.vector_sum = np.zeros(smoothed.shape, np.float64)
        self.vector_sum += smoothed * dt
        self.last_vector = smoothed.copy()
        self.peak = max(self.peak, conf)
        self.last = t

    def release(self, t: float) -> None:
        if self.end is None:
            self.end = t

    def confidence(self) -> float:
        return self.weighted / self.weight if self.weight > 0 else self.peak

    def vector(self) -> np.ndarray:
        """The time-weighted mean probability vector while held (the evidence for speller)."""
        if self.weight > 0 and self.vector_sum is not None:
            return self.vector_sum / self.weight
        assert self.last_vector is not None
        return self.last_vector.astype(np.float64)


@dataclass
class _Word:
    classes: list[str] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    #: before letter i: seconds of a hand in view without a letter, and its mean probabilities
    gaps: list[tuple[float, np.ndarray | None]] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0


class LetterDecoder:
    """Feed :meth:`update` every frame in time order; it returns the events that frame completed."""

    # The state of one stream (set by _reset).
    _smoothed: np.ndarray | None
    _t: float | None
    _letter: _Run | None  # confirmed letter, held or within its release gap
    _candidate: _Run | None  # a different class held, not yet for hold_s
    _sentence: list[WordEvent]  # finished words since the last long pause
    _gap_sum: np.ndarray | None  # smoothed probabilities * dt, no letter held

    def __init__(self, classes: Sequence[str], settings: DecoderSettings | None = None) -> None:
        self.classes = tuple(classes)
        if NONE_CLASS not in self.classes:
            raise ValueError(f"the class list has no {NONE_CLASS!r} class")
        self.settings = settings or DecoderSettings()
        self._none = self.classes.index(NONE_CLASS)
        self._texts = {c: text_for(c) for c in self.classes}
        self._warned_backwards = False
        words = self.settings.words
        self.speller = Speller(self.classes, words) if words.enabled else None
        self._reset()

    @property
    def current(self) -> tuple[str, float]:
        """Smoothed top class id and its probability now (``("none", 0.0)`` before any frame)."""
        if self._smoothed is None:
            return NONE_CLASS, 0.0
        top = int(np.argmax(self._smoothed))
        return self.classes[top], float(self._smoothed[top])

    def update(self, probs: np.ndarray, t: float) -> list[Event]:
        """Take one frame's probabilities (model class order) at time ``t`` in seconds."""
        probs = np.asarray(probs, dtype=np.float32)
        if probs.shape != (len(self.classes),):
            raise ValueError(f"expected {len(self.classes)} probabilities, got shape {probs.shape}")
        probs = np.clip(np.nan_to_num(probs, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        t, dt = self._advance_clock(float(t))
        if self._smoothed is None:
            self._smoothed = probs.copy()
        else:
            tau = self.settings.smoothing_s
            alpha = 1.0 if tau == 0 else -math.expm1(-dt / tau)
            self._smoothed += np.float32(alpha) * (probs - self._smoothed)
        return self._step(t, dt)

    def finish(self, t: float | None = None) -> list[Event]:
        """End of stream at ``t`` (default: the last frame's time): close the open letter and word.

        The decoder then starts afresh, so the next stream may restart its clock.
        """
        events: list[Event] = []
        if self._t is not None:
            end = self._t if t is None else max(float(t), self._t)
            if self._letter is not None:
                self._letter.release(end)
                events.append(self._close_letter())
            if self._word.classes:
                events.append(self._close_word())
            if self._sentence:
                events.append(self._close_sentence())
        self._reset()
        return events

    def _reset(self) -> None:
        self._smoothed = None
        self._t = None
        self._letter = None
        self._candidate = None
        self._word = _Word()
        self._sentence = []
        self._hand_seen = -math.inf  # time of the latest frame with a hand in view
        self._gap_sum = None
        self._gap_weight = 0.0

    # -- internals --------------------------------------------------------------------------

    def _advance_clock(self, t: float) -> tuple[float, float]:
        """The frame's time and seconds since the previous frame (a backwards step counts as 0)."""
        if not math.isfinite(t):
            raise ValueError(f"timestamp must be finite, got {t}")
        if self._t is None:
            self._t = t
            return t, 0.0
        if t < self._t:
            if not self._warned_backwards:
                log.warning("frame time went backwards (%.3f after %.3f s); clamped", t, self._t)
                self._warned_backwards = True
            return self._t, 0.0
        dt, self._t = t - self._t, t
        return t, dt

    def _held_class(self) -> tuple[str | None, float]:
        assert self._smoothed is not None and self._t is not None
        top = int(np.argmax(self._smoothed))
        conf = float(self._smoothed[top])
        class_id = self.classes[top]
        if top == self._none or self._smoothed[self._none] >= self.settings.none_max:
            return None, conf
        self._hand_seen = self._t  # a hand, even if its sign is unreadable
        ongoing = {r.class_id for r in (self._letter, self._candidate) if r is not None}
        threshold = self.settings.exit if class_id in ongoing else self.settings.enter
        return (class_id if conf >= threshold else None), conf

    def _step(self, t: float, dt: float) -> list[Event]:
        s = self.settings
        events: list[Event] = []
        held, conf = self._held_class()
        letter, cand, smoothed = self._letter, self._candidate, self._smoothed
        assert smoothed is not None  # update() set it before this step
        if self._hand_seen == t and (letter is None or letter.class_id != held):
            self._add_gap(dt)  # a hand but no letter: evidence for a letter missed here
        for run in (letter, cand):
            if run is not None and run.class_id != held:
                run.release(t)
        if held is not None:
            if letter is not None and letter.class_id == held:
                letter.hold(t, conf, dt, smoothed)
                self._candidate = None
            else:
                if cand is None or cand.class_id != held:
                    cand = self._candidate = _Run(held, start=t, last=t, peak=conf)
                cand.hold(t, conf, dt, smoothed)
                if t - cand.start >= s.hold_s:
                    if letter is not None:
                        events.append(self._close_letter())
                    cand.gap = self._take_gap(cand)
                    self._letter, self._candidate = cand, None
        cand = self._candidate
        if cand is not None and cand.end is not None and t - cand.end >= s.release_s:
            self._candidate = None
        letter = self._letter
        if letter is not None and letter.end is not None and t - letter.end >= s.release_s:
            events.append(self._close_letter())
        if self._letter is None and self._word.classes:
            pause = t - max(self._word.end, self._hand_seen)
            if pause >= s.word_gap_s or t - self._word.end >= s.word_timeout_s:
                events.append(self._close_word())
        if (
            self._sentence
            and self._letter is None
            and self._candidate is None
            and not self._word.classes
            and t - self._sentence[-1].end >= s.sentence_gap_s
        ):
            events.append(self._close_sentence())
        return events

    def _add_gap(self, dt: float) -> None:
        assert self._smoothed is not None
        if self._gap_sum is None:
            self._gap_sum = np.zeros(self._smoothed.shape, np.float64)
        self._gap_sum += self._smoothed * dt
        self._gap_weight += dt

    def _take_gap(self, run: _Run | None = None) -> tuple[float, np.ndarray | None]:
        """Seconds of a hand in view without a letter since the last letter (or word), and the
        mean probabilities then, ``run``'s own frames left out; starts the next gap.

        A hand in view that gives no letter for long is where a letter the classifier could
        not read went missing; the speller may put one there (``[decoder.words] gap_s``).
        """
        seconds, vector = 0.0, None
        if self._gap_sum is not None:
            own = 0.0 if run is None or run.vector_sum is None else run.vector_sum
            seconds = max(0.0, self._gap_weight - (0.0 if run is None else run.weight))
            if seconds > 1e-6:
                vector = np.clip((self._gap_sum - own) / seconds, 0.0, None)
            self._gap_sum[:] = 0.0
        self._gap_weight = 0.0
        return seconds, vector

    def _close_letter(self) -> LetterEvent:
        run = self._letter
        assert run is not None and run.end is not None
        self._letter = None
        if not self._word.classes:
            self._word.start = run.start
        self._word.gaps.append(run.gap or (0.0, None))
        self._word.classes.append(run.class_id)
        self._word.vectors.append(run.vector())
        self._word.end = run.end
        return LetterEvent(
            class_id=run.class_id,
            text=self._texts[run.class_id],
            confidence=run.confidence(),
            start=run.start,
            end=run.end,
        )

    def _close_word(self) -> WordEvent:
        word, self._word = self._word, _Word()
        trailing = self._take_gap()  # a hand in view after the last letter
        raw = tuple(word.classes)
        chosen, corrected = raw, False
        if self.speller is not None:
            min_gap = self.settings.words.gap_s
            slots = [
                vector if min_gap > 0 and seconds >= min_gap else None
                for seconds, vector in (*word.gaps, trailing)
            ]
            choice = self.speller.choose(word.vectors, raw, slots)
            chosen, corrected = choice.classes, choice.corrected
        event = WordEvent(
            classes=chosen,
            text=join_classes(chosen),
            start=word.start,
            end=word.end,
            raw_classes=raw,
            raw_text=join_classes(raw),
            corrected=corrected,
        )
        self._sentence.append(event)
        return event

    def _close_sentence(self) -> SentenceEvent:
        words, self._sentence = self._sentence, []
        return SentenceEvent(tuple(w.text for w in words), words[0].start, words[-1].end)
