"""SIGINT/SIGTERM caught from the first moment: early ones handed over or delivered again."""

from __future__ import annotations

import os
import signal

import pytest

from edge_arasl.signals import StopSignals, early_signals


class Target:
    def __init__(self) -> None:
        self.stops = 0

    def stop(self) -> None:
        self.stops += 1


@pytest.fixture
def recorded_sigterm():
    """A SIGTERM handler of the test's own, to see what reaches it; restored after."""
    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: got.append(signum))
    yield got
    signal.signal(signal.SIGTERM, previous)


def test_a_signal_while_starting_is_handed_over_to_the_command_that_stops_cleanly(
    recorded_sigterm,
):
    with early_signals() as early:
        os.kill(os.getpid(), signal.SIGTERM)  # while the modules load
        early.hand_over = True
    assert recorded_sigterm == []  # not delivered: kept for the command
    target = Target()
    with StopSignals() as signals:
        assert signals.caught == [signal.SIGTERM]
        signals.attach(target)  # the pipeline, once built, stops at once
        assert target.stops == 1
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # a second one kills
    assert recorded_sigterm == []


def test_a_signal_while_starting_another_command_is_delivered_as_usual(recorded_sigterm):
    with early_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        assert recorded_sigterm == []
    assert recorded_sigterm == [signal.SIGTERM]  # reaches the handler that was there before
    with StopSignals() as signals:
        assert signals.caught == []  # nothing was handed over


def test_stop_signals_stop_what_is_attached_and_restore_the_handlers(recorded_sigterm):
    target = Target()
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals() as signals:
        signals.attach(target)
        os.kill(os.getpid(), signal.SIGTERM)
        assert target.stops == 1 and signals.caught == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) is before
    assert recorded_sigterm == []
