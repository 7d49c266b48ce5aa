"""Getting a live source back after it stops delivering: exponential back-off, capped.

A camera that is unplugged, a network stream that drops, or the daemon's looping video file
deleted or cut short are not the end of the run: the source is reopened until it delivers
again, first quickly (a stream that blips is back in half a second), then less and less often
so a dead camera does not cost a core, but never less often than :attr:`Backoff.max_s`, so a
source that comes back is in use again within that long.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_arasl.sources.delivery import POLL_S

if TYPE_CHECKING:
    from edge_arasl.sources.base import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Delay before the n-th reopening attempt: ``first_s * factor**n``, at most ``max_s``."""

    first_s: float = 0.5
    factor: float = 2.0
    max_s: float = 10.0

    def delay(self, attempt: int) -> float:
        # The exponent is clamped: a float power overflows after ~1000 attempts (hours).
        return min(self.first_s * self.factor ** min(attempt, 64), self.max_s)


#: The one back-off of every source: 0.5, 1, 2, 4, 8 s, then every 10 s.
RECONNECT = Backoff()


def wait(seconds: float, interrupted: Callable[[], bool]) -> bool:
    """Sleep ``seconds`` unless interrupted first; True if the full time passed."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if interrupted():
            return False
        time.sleep(min(left, POLL_S))
    return not interrupted()


def reconnect(
    source: Source,
    name: str,
    reason: str,
    try_open: Callable[[], str | None],
    backoff: Backoff = RECONNECT,
) -> float | None:
    """Call ``try_open`` with back-off until it succeeds; the outage in seconds.

    ``try_open`` returns ``None`` once ``source`` delivers again, else why not (logged).
    Returns ``None`` if ``source`` is interrupted first. Meanwhile ``source`` is marked lost,
    so status reports say so. The loss and the return are logged as warnings, each failed
    attempt as info, so the log shows how long the source was away.
    """
    log.warning(
        "%s: %s; reopening with back-off (%.1f s, doubling, up to every %.0f s)",
        name,
        reason,
        backoff.first_s,
        backoff.max_s,
    )
    with source.reopening() as began:
        for attempt in itertools.count():
            if not wait(backoff.delay(attempt), lambda: source.interrupted):
                return None
            failure = try_open()
            if failure is None:
                outage = time.monotonic() - began
                log.warning("%s: back after %.1f s, at attempt %d", name, outage, attempt + 1)
                return outage
            lost_for = time.monotonic() - began
            log.info("%s: still unavailable after %.1f s: %s", name, lost_for, failure)
    raise AssertionError("unreachable")  # itertools.count() never ends
