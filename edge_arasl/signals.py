"""SIGINT and SIGTERM as a clean stop of ``run`` and ``process``, from their first moment.

A command's imports and models take a while before there is a pipeline to stop, and a signal
in that time used to kill the process without a summary. So :func:`early_signals` catches the
two signals from the start of ``main`` while the command line is read; a command that stops
cleanly (``process``, ``run``) takes what was caught over into its :class:`StopSignals`, and
any other command has it delivered again as if nothing had caught it. Standard library only:
this module is imported before anything slow.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = ["SIGNALS", "EarlySignals", "StopSignals", "early_signals"]

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Signals caught by :func:`early_signals`, waiting for a :class:`StopSignals` to take them.
_handed_over: list[int] = []


class Stoppable(Protocol):
    def stop(self) -> None: ...


class EarlySignals:
    """What :func:`early_signals` caught; set :attr:`hand_over` once the command is known."""

    def __init__(self) -> None:
        self.caught: list[int] = []
        self.hand_over = False

    def handler(self, signum: int, _frame: object) -> None:
        self.caught.append(signum)


@contextmanager
def early_signals() -> Iterator[EarlySignals]:
    """Catch SIGINT/SIGTERM within the block; at its end hand them over or deliver them again."""
    early = EarlySignals()
    previous = {sig: signal.signal(sig, early.handler) for sig in SIGNALS}
    try:
        yield early
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        if early.hand_over:
            _handed_over.extend(early.caught)
        elif early.caught:
            signal.raise_signal(early.caught[0])


class StopSignals:
    """Within the block, the first SIGINT or SIGTERM stops what is attached, now or later.

    Entered before anything slow (config, models, plugins connecting), so a signal during
    start-up ends the run cleanly too: a pipeline attached afterwards stops at once.
    :attr:`caught` receives the signal numbers, also one :func:`early_signals` handed over.
    The default handlers come back at the first signal, so a second Ctrl-C interrupts a
    shutdown that hangs (and a second SIGTERM kills).
    """

    def __init__(self) -> None:
        self.caught: list[int] = []
        self._target: Stoppable | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handler)
        if _handed_over:
            self._handler(_handed_over.pop(0), None)
            _handed_over.clear()
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        self._target = None

    def attach(self, target: Stoppable) -> None:
        """Stop ``target`` (a pipeline) at the first signal, or now if one came already."""
        self._target = target
        if self.caught:
            target.stop()

    def _handler(self, signum: int, _frame: object) -> None:
        self.caught.append(signum)
        log.info("%s received: stopping", signal.Signals(signum).name)
        for sig in SIGNALS:  # a second signal acts as if we had not caught the first
            signal.signal(
                sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            )
        if self._target is not None:
            self._target.stop()
