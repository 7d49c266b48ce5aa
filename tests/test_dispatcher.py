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
        d.publish(frame(i))
        sent.append(("frame", i))
        if i % letter_every == letter_every - 1:
            d.publish(letter(i))
            sent.append(("letter", i / 30))
    return sent


def test_a_plugin_raising_in_every_hook_does_not_stop_the_others(caplog):
    raiser, good = Raiser("raiser"), Recorder("good")
    d = Dispatcher([raiser, good])
    d.start()
    sent = feed(d, 20)
    d.publish(WORD)
    d.publish(STATUS)
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
    d.publish(frame(0))
    assert slow.entered.wait(10)  # slow is stuck in frame 0; 4 more may wait
    sent: list[tuple[str, object]] = [("frame", 0)]
    for i in range(1, 30):
        d.publish(frame(i))
        sent.append(("frame", i))
        if i % 5 == 0:
            d.publish(letter(i))
            sent.append(("letter", i / 30))
    d.publish(WORD)
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
    d.publish(frame(0))
    assert slow.entered.wait(10)
    d.publish(frame(1))
    d.publish(frame(2))  # the queue is full now: the next frame must wait for room
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
    d.publish(WORD)
    d.publish(SentenceEvent(("د",), 0.0, 1.0))
    assert slow.entered.wait(10)
    slow.release.set()
    assert d.stop()
    expected = [("start", None), *sent, ("word", "د"), ("sentence", "د"), ("stop", None)]
    assert slow.calls == expected
    assert d.stop()  # a second stop is harmless
    assert slow.calls.count(("stop", None)) == 1
    with pytest.raises(RuntimeError, match="not running"):
        d.publish(letter(0))


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


# -- hooks are checked when a plugin class is made ------------------------------------------


def test_an_event_no_hook_takes_is_the_callers_error_not_a_plugins():
    d = Dispatcher([Recorder("good")])
    d.start()
    with pytest.raises(KeyError):
        d.publish(object())
    assert d.stop()
    assert d.errors == {"good": 0} and d.failed == {}


# -- a plugin that cannot go on is failed once ----------------------------------------------


class BrokenOutput(Recorder):
    """Its output breaks at the third frame for good (a full disk, a writer that won't open)."""

    def on_frame(self, frame: FrameEvent) -> None:
        super().on_frame(frame)
        if frame.index >= 2:
            raise PluginError(f"[{self.name}] cannot write out.bin: No space left on device")


def test_a_plugin_error_in_a_hook_fails_the_plugin_once_and_skips_the_rest(caplog):
    broken, good = BrokenOutput("broken"), Recorder("good")
    d = Dispatcher([broken, good], drop_frames=False)
    d.start()
    sent = feed(d, 20)
    assert d.stop()
    assert broken.calls == [("start", None), *sent[:3], ("stop", None)]  # stop() still runs
    assert good.calls == [("start", None), *sent, ("stop", None)]
    assert d.failed == {
        "broken": "on_frame: [broken] cannot write out.bin: No space left on device"
    }
    assert d.errors == {"broken": 1, "good": 0}
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and "plugin broken failed: on_frame: [broken] cannot" in errors[0]


def test_a_stuck_plugin_is_failed_and_a_file_read_at_its_pace_goes_on(monkeypatch):
    monkeypatch.setattr("edge_arasl.dispatcher.STALL_S", 0.3)
    stuck, good = Gated("stuck", queue_size=2), Stopping("good")
    d = Dispatcher([stuck, good], drop_frames=False)
    d.start()
    producer = threading.Thread(target=feed, args=(d, 30))
    producer.start()
    producer.join(30)
    assert not producer.is_alive()  # no longer waiting for room at the stuck plugin
    assert stuck.entered.is_set() and "stuck" in d.failed
    assert d.failed["stuck"] == "on_frame did not return within 0.3 s"
    assert d.stop(timeout=30)  # returns without waiting for the stuck one
    assert good.stopped.is_set()
    assert [c[1] for c in good.calls if c[0] == "frame"] == list(range(30))
    stuck.release.set()


def test_interrupt_ends_the_wait_for_room(monkeypatch):
    slow = Gated("slow", queue_size=1)
    d = Dispatcher([slow], drop_frames=False)
    d.start()
    producer = threading.Thread(target=feed, args=(d, 10))
    producer.start()
    assert slow.entered.wait(10)
    producer.join(0.2)
    assert producer.is_alive()  # waiting for the slow plugin to take a frame
    d.interrupt()
    producer.join(10)
    assert not producer.is_alive()
    assert d.failed == {}
    slow.release.set()
    assert d.stop()


# -- a stop waits as long as each plugin's own drain ----------------------------------------


class Draining(Recorder):
    """Its stop() drains a queue of its own for ``drain`` seconds (never, with None)."""

    def __init__(self, name: str, drain: float | None, stop_timeout: float, left: int) -> None:
        super().__init__(name)
        self.drain, self._stop_timeout, self.left = drain, stop_timeout, left
        self.release = threading.Event()

    @property
    def stop_timeout(self) -> float:
        return self._stop_timeout

    def pending(self) -> int:
        return self.left

    def stop(self) -> None:
        self.release.wait(self.drain)
        self.left = 0
        super().stop()


def test_a_stop_waits_for_a_drain_within_the_plugins_own_stop_timeout():
    draining = Draining("draining", drain=0.5, stop_timeout=30.0, left=27)
    d = Dispatcher([draining])
    d.start()
    assert d.stop(timeout=0.05)  # 0.05 s alone would have cut the 0.5 s drain
    assert draining.calls[-1] == ("stop", None) and d.failed == {}


def test_a_stop_cut_short_counts_what_the_plugin_still_holds(caplog):
    stuck = Draining("stuck", drain=None, stop_timeout=0.25, left=27)
    d = Dispatcher([stuck])
    d.start()
    d.publish(WORD)
    assert d.stop(timeout=0.05) is False
    assert d.failed == {"stuck": "did not finish within 0.3 s; 27 item(s) left undelivered"}
    assert "plugin stuck did not finish within 0.3 s; 27 item(s) left undelivered" in caplog.text
    stuck.release.set()


def test_a_stuck_plugin_in_the_daemon_stops_collecting_events(monkeypatch):
    monkeypatch.setattr("edge_arasl.dispatcher.STALL_S", 0.2)
    stuck = Gated("stuck", queue_size=2)
    d = Dispatcher([stuck], drop_frames=True)
    d.start()
    d.publish(frame(0))
    assert stuck.entered.wait(10)
    for i in range(1, 100_000):  # a daemon keeps going; the stuck plugin's inbox must not grow
        d.publish(letter(i))
        if d.failed:
            break
        threading.Event().wait(0.01)
    assert d.failed == {"stuck": "on_frame did not return within 0.2 s"}
    d.publish(letter(0))
    assert d.queue_depths == {"stuck": 0}
    assert d.stop(timeout=30)  # not waited for
    stuck.release.set()
