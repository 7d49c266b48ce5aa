"""Decoder rules: hold, hysteresis, repeats after a release, word gaps, frame-rate independence.

These are the temporal rules, so the words are the letters as read: the spelling corrector
is off here (``RAW``) and tested in tests/test_spelling.py.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from edge_arasl.decoder import DecoderSettings, LetterDecoder
from edge_arasl.errors import UserError
from edge_arasl.labels import MODEL_CLASSES, NONE_CLASS
from edge_arasl.plugin import LetterEvent, SentenceEvent, WordEvent
from edge_arasl.settings import from_table
from edge_arasl.spelling import WordSettings

N = len(MODEL_CLASSES)
RAW = DecoderSettings(words=WordSettings(enabled=False))


def probs_for(class_id: str, conf: float = 0.95) -> np.ndarray:
    """A probability vector with ``conf`` on ``class_id`` and the rest spread evenly."""
    p = np.full(N, (1.0 - conf) / (N - 1), dtype=np.float32)
    p[MODEL_CLASSES.index(class_id)] = conf
    return p


def sample(script, fps, *, noise=0.0, seed=0, t0=0.0):
    """Frames of a script of ``(class_id, seconds[, conf])`` steps sampled at ``fps``."""
    rng = np.random.default_rng(seed)
    bounds, t = [], t0
    for step in script:
        class_id, seconds = step[0], step[1]
        conf = step[2] if len(step) > 2 else 0.95
        bounds.append((t, t + seconds, class_id, conf))
        t += seconds
    total = t
    out = []
    for i in range(math.floor((total - t0) * fps)):
        ti = t0 + i / fps
        _, _, class_id, conf = next(b for b in bounds if b[0] <= ti < b[1])
        p = probs_for(class_id, conf)
        if noise:  # jitter the logits, as a classifier's frame-to-frame wobble
            logits = np.log(p) + rng.normal(0, noise, N)
            p = np.exp(logits - logits.max())
            p = (p / p.sum()).astype(np.float32)
        out.append((p, ti))
    return out, total


def decode(script, fps=30.0, settings=None, **kw):
    decoder = LetterDecoder(MODEL_CLASSES, settings or RAW)
    frames, total = sample(script, fps, **kw)
    events = []
    for p, t in frames:
        events += decoder.update(p, t)
    events += decoder.finish(total)
    return events


def letters(events):
    return [e.class_id for e in events if isinstance(e, LetterEvent)]


def words(events):
    return [e.text for e in events if isinstance(e, WordEvent)]


NONE = NONE_CLASS


def test_a_held_letter_is_one_letter_with_times_text_and_confidence():
    events = decode([(NONE, 0.5), ("meem", 0.6), (NONE, 1.5)])
    (letter,) = [e for e in events if isinstance(e, LetterEvent)]
    assert (letter.class_id, letter.text) == ("meem", "م")
    # Within the smoothing lag of the onset and the end (a few time constants: at the onset
    # the smoothed "none" must fall below none_max).
    lag = 4 * RAW.smoothing_s
    assert 0.5 <= letter.start <= 0.5 + lag
    assert 1.1 <= letter.end <= 1.1 + lag
    assert 0.6 < letter.confidence <= 0.95
    assert words(events) == ["م"]


def test_a_sign_shorter_than_the_hold_time_is_not_a_letter():
    s = RAW
    assert letters(decode([(NONE, 0.5), ("meem", s.hold_s * 0.5), (NONE, 1.0)])) == []
    assert letters(decode([(NONE, 0.5), ("meem", s.hold_s + 0.2), (NONE, 1.0)])) == ["meem"]


def test_none_and_low_confidence_are_no_sign():
    # "dal" is the top class throughout but never reaches the enter threshold.
    weak = RAW.enter * 0.75
    assert decode([(NONE, 0.5), ("dal", 1.0, weak), (NONE, 1.0)]) == []
    assert letters(decode([(NONE, 0.5), ("dal", 1.0, 0.9), (NONE, 1.0)])) == ["dal"]
    assert decode([(NONE, 3.0)]) == []


def test_a_sign_is_no_sign_while_the_model_doubts_a_hand_is_there():
    s = DecoderSettings(smoothing_s=0.0, enter=0.3, none_max=0.1)

    def mixed(class_id, conf, none):
        p = probs_for(class_id, conf)
        p[-1] = none
        return p / p.sum()

    for none, expected in ((0.2, []), (0.02, ["bb"])):
        decoder = LetterDecoder(MODEL_CLASSES, s)
        events = []
        for i in range(30):  # "bb" on top at 0.5 for a second
            events += decoder.update(mixed("bb", 0.5, none), i / 30)
        assert decoder.current[0] == "bb"
        assert letters(events + decoder.finish()) == expected


def test_hysteresis_keeps_a_letter_between_the_exit_and_enter_thresholds():
    s = DecoderSettings(smoothing_s=0.0, enter=0.7, exit=0.4)
    # Confident, then wavering at 0.5 (below enter, above exit): still the same letter.
    events = decode([(NONE, 0.3), ("dal", 0.5, 0.9), ("dal", 0.8, 0.5), (NONE, 1.0)], settings=s)
    (letter,) = [e for e in events if isinstance(e, LetterEvent)]
    assert letter.class_id == "dal"
    assert letter.end == pytest.approx(1.6, abs=1e-6)
    # Starting at 0.5 is below enter: nothing, however long.
    assert decode([(NONE, 0.3), ("dal", 1.3, 0.5), (NONE, 1.0)], settings=s) == []
    # Dropping below exit releases it: two letters with a long enough dip.
    dipped = [("dal", 0.5, 0.9), ("dal", 0.4, 0.3), ("dal", 0.5, 0.9), (NONE, 1.0)]
    assert letters(decode(dipped, settings=s)) == ["dal", "dal"]


def test_a_repeated_letter_needs_a_release():
    s = DecoderSettings(smoothing_s=0.0)
    gap = s.release_s * 2
    mdd = [(NONE, 0.3), ("meem", 0.5), ("dal", 0.5), (NONE, gap), ("dal", 0.5), (NONE, 1.0)]
    events = decode(mdd, settings=s)
    assert letters(events) == ["meem", "dal", "dal"]
    assert words(events) == ["مدد"]
    # A flicker shorter than the release gap is the same letter.
    flicker = [(NONE, 0.3), ("dal", 0.5), (NONE, s.release_s / 2), ("dal", 0.5), (NONE, 1.0)]
    (letter,) = [e for e in decode(flicker, settings=s) if isinstance(e, LetterEvent)]
    assert letter.start == pytest.approx(0.3, abs=0.04)
    assert letter.end == pytest.approx(0.3 + 1.0 + s.release_s / 2, abs=0.04)


def test_a_direct_switch_to_another_letter_emits_both_in_order():
    events = decode([(NONE, 0.3), ("meem", 0.5), ("dal", 0.5), (NONE, 1.0)])
    first, second = [e for e in events if isinstance(e, LetterEvent)]
    assert (first.class_id, second.class_id) == ("meem", "dal")
    assert first.end <= second.start + 1e-9
    assert second.start - first.end < 0.1


def test_a_long_pause_ends_the_word_and_events_come_in_order():
    s = RAW
    script = [
        (NONE, 0.3), ("bb", 0.5), ("aleff", 0.5), (NONE, s.word_gap_s + 0.3),
        ("laam", 0.5), ("aleff", 0.5), (NONE, 0.2),
    ]  # fmt: skip
    events = decode(script)
    kinds = [type(e).__name__ for e in events]
    expected = ["LetterEvent"] * 2 + ["WordEvent"] + ["LetterEvent"] * 2 + ["WordEvent"]
    assert kinds == [*expected, "SentenceEvent"]  # finish() closes the sentence too
    w1, w2 = [e for e in events if isinstance(e, WordEvent)]
    assert (w1.classes, w1.text) == (("bb", "aleff"), "با")
    assert (w2.classes, w2.text) == (("laam", "aleff"), "لا")
    assert w1.start == events[0].start and w1.end == events[1].end
    # A pause shorter than the word gap keeps one word.
    short = [(NONE, 0.3), ("bb", 0.5), (NONE, s.word_gap_s / 2), ("aleff", 0.5), (NONE, 2.0)]
    assert words(decode(short)) == ["با"]


def test_the_word_is_emitted_as_soon_as_the_pause_is_long_enough():
    s = RAW
    decoder = LetterDecoder(MODEL_CLASSES, s)
    frames, _ = sample([(NONE, 0.3), ("bb", 0.5), (NONE, 3.0)], 30)
    seen = {}
    for p, t in frames:
        for e in decoder.update(p, t):
            seen[type(e)] = (e, t)
    letter, t_letter = seen[LetterEvent]
    word, t_word = seen[WordEvent]
    assert t_letter - letter.end == pytest.approx(s.release_s, abs=1 / 30 + 1e-9)
    assert word.classes == ("bb",)
    assert t_word - letter.end == pytest.approx(s.word_gap_s, abs=1 / 30 + 1e-9)


def test_a_long_pause_after_words_ends_the_sentence_once_it_is_over():
    s = RAW
    gap = (s.word_gap_s + s.sentence_gap_s) / 2  # ends a word, not a sentence
    script = [
        (NONE, 0.3), ("bb", 0.5), ("aleff", 0.5), (NONE, gap),
        ("laam", 0.5), ("aleff", 0.5), (NONE, s.sentence_gap_s + 0.3),
        ("dal", 0.5), (NONE, 0.5),
    ]  # fmt: skip
    decoder = LetterDecoder(MODEL_CLASSES, s)
    frames, total = sample(script, 30)
    seen = [(e, t) for p, t in frames for e in decoder.update(p, t)]
    sentences = [(e, t) for e, t in seen if isinstance(e, SentenceEvent)]
    ((first, t_first),) = sentences
    assert first.words == ("با", "لا") and first.text == "با لا"
    second_word = [e for e, _ in seen if isinstance(e, WordEvent)][1]
    assert (first.start, first.end) == (seen[0][0].start, second_word.end)
    assert t_first - second_word.end == pytest.approx(s.sentence_gap_s, abs=1 / 30 + 1e-9)
    assert first.to_dict() == {
        "type": "sentence", "text": "با لا", "words": ["با", "لا"],
        "start": round(first.start, 3), "end": round(first.end, 3),
    }  # fmt: skip
    rest = decoder.finish(total)  # the last word's sentence, at the end of the stream
    assert [type(e).__name__ for e in rest] == ["WordEvent", "SentenceEvent"]
    assert rest[-1].words == ("د",)


def test_an_unreadable_sign_in_view_keeps_the_word_open_until_the_timeout():
    s = RAW
    # A hand in view that the model cannot read: no class reaches `enter`, `none` stays low.
    unreadable = ("ha", s.word_gap_s + 0.5, 0.12)
    script = [(NONE, 0.3), ("bb", 0.5), unreadable, ("aleff", 0.5), (NONE, 3.0)]
    events = decode(script)
    assert letters(events) == ["bb", "aleff"]
    assert words(events) == ["با"]
    # The same time with the hand out of view is a pause between two words.
    script[2] = (NONE, unreadable[1])
    assert words(decode(script)) == ["ب", "ا"]
    # Held past word_timeout_s, even a hand in view ends the word, at the timeout.
    script[2] = ("ha", s.word_timeout_s + 0.5, 0.12)
    decoder = LetterDecoder(MODEL_CLASSES, s)
    frames, _ = sample(script, 30)
    seen = [(e, t) for p, t in frames for e in decoder.update(p, t)]
    (first, _), (word, t_word) = seen[0], seen[1]
    assert isinstance(word, WordEvent) and word.classes == ("bb",)
    assert t_word - first.end == pytest.approx(s.word_timeout_s, abs=1 / 30 + 1e-9)
    assert words([e for e, _ in seen] + decoder.finish()) == ["ب", "ا"]


@pytest.mark.parametrize("noise", [0.0, 0.6])
def test_the_same_signing_decodes_alike_at_15_30_and_60_fps(noise):
    script = [
        (NONE, 0.4), ("meem", 0.7), ("dal", 0.5), (NONE, 0.3), ("dal", 0.6), (NONE, 1.2),
        ("seen", 0.45), ("laam", 0.8, 0.8), ("aleff", 0.5), ("meem", 1.0), (NONE, 0.3),
    ]  # fmt: skip
    runs = {fps: decode(script, fps, noise=noise, seed=int(fps)) for fps in (15, 30, 60)}
    expected = ["meem", "dal", "dal", "seen", "laam", "aleff", "meem"]
    for events in runs.values():
        assert letters(events) == expected
        assert words(events) == ["مدد", "سلام"]
    # Times agree within about a frame of the slowest rate.
    for a, b in zip(runs[15], runs[60], strict=True):
        assert a.start == pytest.approx(b.start, abs=1.5 / 15)
        assert a.end == pytest.approx(b.end, abs=1.5 / 15)


def test_finish_closes_the_open_letter_and_word_then_starts_afresh():
    decoder = LetterDecoder(MODEL_CLASSES, RAW)
    assert decoder.finish() == []
    for i in range(30):
        decoder.update(probs_for("waw"), i / 30)
    letter, word, sentence = decoder.finish(2.0)
    assert isinstance(letter, LetterEvent) and isinstance(word, WordEvent)
    assert isinstance(sentence, SentenceEvent) and sentence.words == ("و",)
    assert (letter.class_id, letter.start, letter.end) == ("waw", 0.0, 2.0)
    assert (word.text, word.end) == ("و", 2.0)
    # A new stream may restart its clock at 0 without tripping the backwards-time guard.
    assert decoder.current == (NONE, 0.0)
    for i in range(30):
        decoder.update(probs_for("ra"), i / 30)
    (letter, _word, _sentence) = decoder.finish()
    assert (letter.class_id, letter.end) == ("ra", pytest.approx(29 / 30))


def test_finish_drops_a_sign_not_held_long_enough():
    decoder = LetterDecoder(MODEL_CLASSES, RAW)
    decoder.update(probs_for(NONE), 0.0)
    decoder.update(probs_for("waw"), 0.1)
    assert decoder.finish() == []


def test_current_is_the_smoothed_top_class():
    decoder = LetterDecoder(MODEL_CLASSES, DecoderSettings(smoothing_s=0.1))
    decoder.update(probs_for(NONE), 0.0)
    decoder.update(probs_for("kaaf"), 0.01)  # one short frame barely moves the average
    assert decoder.current[0] == NONE
    decoder.update(probs_for("kaaf"), 1.0)
    class_id, conf = decoder.current
    assert class_id == "kaaf" and conf == pytest.approx(0.95, abs=1e-3)


def test_odd_timestamps_and_values_do_not_break_it(caplog):
    decoder = LetterDecoder(MODEL_CLASSES, DecoderSettings(smoothing_s=0.05))
    events = []
    bad = probs_for("ha")
    bad[0] = np.nan
    bad[1] = np.inf
    times = [0.0, 0.0, 0.1, 0.05, 0.2, 0.2, 0.3, 0.31, 0.7, 0.9, 0.9]
    for t in times:
        events += decoder.update(bad, t)
    assert "backwards" in caplog.text
    assert all(np.isfinite(decoder._smoothed))
    assert decoder.current[0] in ("ha", MODEL_CLASSES[1])
    events += decoder.finish()
    for e in events:
        assert math.isfinite(e.start) and math.isfinite(e.end) and e.start <= e.end
    with pytest.raises(ValueError, match="33 probabilities"):
        decoder.update(np.zeros(5, np.float32), 1.0)
    with pytest.raises(ValueError, match="finite"):
        decoder.update(probs_for("ha"), math.nan)


def test_the_decoder_needs_a_none_class():
    with pytest.raises(ValueError, match="none"):
        LetterDecoder(("meem", "dal"), DecoderSettings())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exit": 0.8, "enter": 0.6}, "exit <= enter"),
        ({"word_gap_s": 0.1, "release_s": 0.2}, "word_gap_s"),
        ({"word_timeout_s": 0.5, "word_gap_s": 1.0}, "word_timeout_s"),
        ({"sentence_gap_s": 1.0}, "sentence_gap_s"),
    ],
)
def test_the_rules_between_settings_are_checked(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(DecoderSettings(), **changes)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"enter": 1.5}, r"enter: must be in \(0, 1\]"),
        ({"exit": 0.0}, r"exit: must be in \(0, 1\]"),
        ({"none_max": 0.0}, r"none_max: must be in \(0, 1\]"),
        ({"none_max": 1.5}, r"none_max: must be in \(0, 1\]"),
        ({"hold_s": -0.1}, r"hold_s: must be in \[0, 10\] s, got -0.1"),
        ({"smoothing_s": math.inf}, r"smoothing_s: expected a finite number, got inf"),
        ({"release_s": 0.0}, r"release_s: must be in \(0, 10\] s"),
        ({"sentence_gap_s": 61.0}, r"sentence_gap_s: must be in \(0, 60\] s"),
    ],
)
def test_each_setting_is_checked_against_its_range(table, message):
    with pytest.raises(UserError, match=message):
        from_table(DecoderSettings, table, "config.toml: [decoder]")


def test_settings_load_from_a_config_table():
    s = from_table(DecoderSettings, {"hold_s": 0.3, "enter": 0.7}, "config.toml: [decoder]")
    assert (s.hold_s, s.enter, s.exit) == (0.3, 0.7, DecoderSettings().exit)
    with pytest.raises(UserError, match=r"config.toml: \[decoder\]: unknown key 'hold'"):
        from_table(DecoderSettings, {"hold": 0.3}, "config.toml: [decoder]")
    with pytest.raises(UserError, match=r"config.toml: \[decoder\]: .*exit <= enter"):
        from_table(DecoderSettings, {"exit": 0.9}, "config.toml: [decoder]")
