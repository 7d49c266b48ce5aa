"""Dispatcher: isolation of failing plugins, frame dropping for slow ones, ordered events, stop."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from edge_arasl.dispatcher import Dispatcher
from edge_arasl.plugin import (
    FrameEvent,
    LetterEvent,
    OutputPlugin,
    PluginContext,
    PluginError,
    SentenceEvent,
    StatusEvent,
    WordEvent,
)

IMAGE = np.zeros((4, 4, 3), np.uint8)


def frame(i: int) -> FrameEvent:
    return FrameEvent(i, i / 30, IMAGE, (0, 0, 4, 4), "none", 0.9)


def letter(i: int) -> LetterEvent:
    return LetterEvent("dal", "د", 0.9, i / 30, i / 30 + 0.1)


WORD = WordEvent(("dal",), "د", 0.0, 1.0)
STATUS = StatusEvent(state="running", wall_time=0.0)


def context(name: str) -> PluginContext:
    return PluginContext(name=name, device_id="test", mode="process", state_dir=None)


class Recorder(OutputPlugin):
    """Records every call as ``(hook, event)``."""

    name = "recorder"
    queue_size = 1000

    def __init__(self, name: str = "recorder", **attrs) -> None:
        super().__init__(None, context(name))
        self.name = name
        self.__dict__.update(attrs)
        self.calls: list[tuple[str, object]] = []

    def start(self) -> None:
        self.calls.append(("start", None))

    def stop(self) -> None:
        self.calls.append(("stop", None))

    def on_frame(self, frame: FrameEvent) -> None:
        self.calls.append(("frame", frame.index))

    def on_letter(self, letter: LetterEvent) -> None:
        self.calls.append(("letter", letter.start))

    def on_word(self, word: WordEvent) -> None:
        self.calls.append(("word", word.text))

    def on_sentence(self, sentence: SentenceEvent) -> None:
        self.calls.append(("sentence", sentence.text))

    def on_status(self, status: StatusEvent) -> None:
        self.calls.append(("status", status.state))


class Raiser(Recorder):
    """Raises in every hook after start."""

    def _fail(self, *args) -> None:
        self.calls.append(("fail", None))
        raise RuntimeError("boom")

    stop = on_frame = on_letter = on_word = on_sentence = on_status = _fail


class Gated(Recorder):
    """Blocks in its first on_frame until released, so its queue fills deterministically."""

    def __init__(self, name: str = "slow", **attrs) -> None:
        super().__init__(name, **attrs)
        self.entered = threading.Event()
        self.release = threading.Event()

    def on_frame(self, frame: FrameEvent) -> None:
        self.entered.set()
        assert self.release.wait(10)
        super().on_frame(frame)


def feed(d: Dispatcher, n_frames: int, letter_every: int = 5) -> list[tuple[str, object]]:
    """Send frames with a letter after every ``letter_every``; returns what was sent."""
    sent: list[tuple[str, object]] = []
    for i in range(n_frames):
        d.frame(frame(i))
        sent.append(("frame", i))
        if i % letter_every == letter_every - 1:
            d.letter(letter(i))
            sent.append(("letter", i / 30))
    return sent


def test_a_plugin_raising_in_every_hook_does_not_stop_the_others(caplog):
    raiser, good = Raiser("raiser"), Recorder("good")
    d = Dispatcher([raiser, good])
    d.start()
    sent = feed(d, 20)
    d.word(WORD)
    d.status(STATUS)
    assert d.stop()
    expected = [("start", None), *sent, ("word", "د"), ("status", "running"), ("stop", None)]
    assert good.calls == expected
    assert d.errors == {"raiser": len(expected) - 1, "good": 0}  # every hook but start
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None  # one traceback, not 26
    assert "raiser" in errors[0].getMessage()


def test_a_slow_plugin_drops_the_oldest_frames_but_gets_every_event_in_order():
    slow, fast = Gated("slow", queue_size=4), Recorder("fast")
    d = Dispatcher([slow, fast])
    d.start()
    d.frame(frame(0))
    assert slow.entered.wait(10)  # slow is stuck in frame 0; 4 more may wait
    sent: list[tuple[str, object]] = [("frame", 0)]
    for i in range(1, 30):
        d.frame(frame(i))
        sent.append(("frame", i))
        if i % 5 == 0:
            d.letter(letter(i))
            sent.append(("letter", i / 30))
    d.word(WORD)
    sent.append(("word", "د"))
    assert d.frames_dropped == {"slow": 29 - 4, "fast": 0}
    assert d.queue_depths["slow"] == 4 + 5 + 1  # newest frames, every letter, the word
    slow.release.set()
    assert d.stop()
    got = slow.calls[1:-1]
    # Every event arrives, the frames are frame 0 and the newest four, and nothing overtakes.
    assert [c for c in got if c[0] != "frame"] == [c for c in sent if c[0] != "frame"]
    assert [c[1] for c in got if c[0] == "frame"] == [0, 26, 27, 28, 29]
    assert got == [c for c in sent if c in got]
    assert fast.calls[1:-1] == sent
    assert d.errors == {"slow": 0, "fast": 0}


def test_without_dropping_every_frame_reaches_a_slow_plugin():
    slow = Gated("slow", queue_size=2)
    d = Dispatcher([slow], drop_frames=False)
    d.start()
    d.frame(frame(0))
    assert slow.entered.wait(10)
    d.frame(frame(1))
    d.frame(frame(2))  # the queue is full now: the next frame must wait for room
    producer = threading.Thread(target=feed, args=(d, 10))
    producer.start()
    slow.release.set()
    producer.join(10)
    assert not producer.is_alive()
    assert d.stop()
    frames = [c[1] for c in slow.calls if c[0] == "frame"]
    assert frames == [0, 1, 2, *range(10)]
    assert d.frames_dropped == {"slow": 0}


def test_stop_delivers_everything_queued_then_stops_each_plugin_once():
    slow = Gated("slow")
    d = Dispatcher([slow])
    d.start()
    sent = feed(d, 12, letter_every=3)
    d.word(WORD)
    d.sentence(SentenceEvent(("د",), 0.0, 1.0))
    assert slow.entered.wait(10)
    slow.release.set()
    assert d.stop()
    expected = [("start", None), *sent, ("word", "د"), ("sentence", "د"), ("stop", None)]
    assert slow.calls == expected
    assert d.stop()  # a second stop is harmless
    assert slow.calls.count(("stop", None)) == 1
    with pytest.raises(RuntimeError, match="not running"):
        d.letter(letter(0))


def test_event_only_plugins_get_no_frames():
    events_only = Recorder("events", wants_frames=False)
    d = Dispatcher([events_only])
    d.start()
    feed(d, 10)
    assert d.stop()
    assert [c[0] for c in events_only.calls] == ["start", "letter", "letter", "stop"]


class FailingStart(Recorder):
    def start(self) -> None:
        self.calls.append(("start", None))
        raise self.error


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PluginError("cannot open out.srt"), "^broken: cannot open out.srt$"),
        (PluginError("broken: port busy"), "^broken: port busy$"),
        (PluginError("[broken] url: not http"), r"^\[broken\] url: not http$"),
        (OSError(13, "Permission denied"), "^broken: failed to start: PermissionError: .*denied"),
    ],
)
def test_a_failing_start_is_one_user_error_and_stops_those_already_started(error, message):
    first, broken, last = Recorder("first"), FailingStart("broken", error=error), Recorder("last")
    d = Dispatcher([first, broken, last])
    with pytest.raises(PluginError, match=message):
        d.start()
    assert first.calls == [("start", None), ("stop", None)]
    assert broken.calls == [("start", None)]  # its own start failed: nothing to stop
    assert last.calls == []
    assert d.stop()  # the pipeline's cleanup may still call stop: nothing happens
    assert first.calls.count(("stop", None)) == 1


class Stopping(Recorder):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.stopped = threading.Event()

    def stop(self) -> None:
        super().stop()
        self.stopped.set()


def test_a_plugin_that_hangs_is_reported_and_left_behind(caplog):
    hung, good = Gated("hung"), Stopping("good")
    d = Dispatcher([hung, good])
    d.start()
    feed(d, 3)
    assert hung.entered.wait(10)
    assert d.stop(timeout=0.05) is False
    assert "hung did not finish" in caplog.text
    assert good.stopped.wait(10)  # the other plugin is drained and stopped all the same
    assert good.calls[-1] == ("stop", None)
    hung.release.set()  # let its thread end


def test_repeated_errors_are_summarised_not_logged_one_by_one(caplog, monkeypatch):
    monkeypatch.setattr("edge_arasl.dispatcher.LOG_INTERVAL_S", 3600.0)
    d = Dispatcher([Raiser("raiser")])
    d.start()
    caplog.set_level(logging.DEBUG, logger="edge_arasl.dispatcher")
    feed(d, 10)
    d.stop()
    levels = [r.levelname for r in caplog.records if "raiser" in r.getMessage()]
    assert levels.count("ERROR") == 1 and levels.count("WARNING") == 0
    assert levels.count("DEBUG") == d.errors["raiser"] - 1


def test_plugin_names_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        Dispatcher([Recorder("a"), Recorder("a")])
