"""Logging set-up: plain lines on stderr, without timestamps when journald adds its own."""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str = "info") -> None:
    """Configure the root logger once; under systemd (JOURNAL_STREAM set) omit the timestamp."""
    under_journald = "JOURNAL_STREAM" in os.environ
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not under_journald:
        fmt = "%(asctime)s " + fmt
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
