"""Logging set-up: one line per event on stderr, shaped for a terminal or for journald.

Under systemd, stderr is a journald stream (``$JOURNAL_STREAM`` names it). journald stamps
every entry with time, host and unit, so lines carry no timestamp; instead each starts with a
syslog priority prefix (``<3>`` error ... ``<7>`` debug), which journald turns into the entry's
priority, so ``journalctl -u edge-arasl -p warning`` works. A multi-line message (a traceback)
gets the prefix on every line, so none of it loses its priority. On a terminal, lines start with
a local timestamp instead.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

#: syslog priorities of the logging levels (sd-daemon(3)).
PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    """``<N>logger: message``, with the prefix repeated on continuation lines."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def priority(levelno: int) -> int:
    """The syslog priority of a logging level (one in between gets that of the level below)."""
    for level, prio in sorted(PRIORITY.items(), reverse=True):
        if levelno >= level:
            return prio
    return 7


def stream_is_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``stream`` is the journald stream systemd connected (``$JOURNAL_STREAM``).

    Compares device and inode, as systemd.exec(5) advises: a child that inherited the variable
    but had stderr redirected to a file must not emit priority prefixes into that file.
    """
    env = os.environ if environ is None else environ
    try:
        dev, ino = (int(x) for x in env.get("JOURNAL_STREAM", "").split(":"))
        st = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def setup_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Configure the root logger once for the whole process."""
    stream = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(stream)
    if stream_is_journal(stream):
        handler.setFormatter(JournalFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
