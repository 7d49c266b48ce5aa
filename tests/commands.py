"""The real command line in a child process, as a shell runs it: ``python -m edge_arasl``."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

EDGE_ARASL = (sys.executable, "-m", "edge_arasl")


def edge_arasl(*args: str, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run one command to its end; stdout and stderr captured as UTF-8 text."""
    return subprocess.run(
        [*EDGE_ARASL, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        **kwargs,
    )


def start(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """Start a command (a daemon, a long ``process``) with its stdout and stderr piped."""
    return subprocess.Popen(
        [*EDGE_ARASL, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        **kwargs,
    )
