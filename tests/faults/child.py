"""Fault injection on real processes: the daemon or ``process`` as a child, its log in a file.

Faults are made the way they happen in the field: a file deleted or cut short under the
reader, a broker stopped, a signal at a moment drawn from a fixed seed. The outcome is read
from what the child leaves behind: its exit code, its log, the JSON lines of the eventlog
plugin and the files of the video plugin.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.mp4"
EDGE_ARASL = (sys.executable, "-m", "edge_arasl")
#: A stop must be over this long after SIGINT/SIGTERM (well inside systemd's TimeoutStopSec).
STOP_WITHIN_S = 2.0


class Child:
    """``edge-arasl ARGS`` with its stderr (the log) going to ``log``; killed if left running.

    ``env`` adds to (or overrides) this process's environment.
    """

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._log_file = log.open("w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [*EDGE_ARASL, *args],
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env={**os.environ, **(env or {})},
        )

    def log_text(self) -> str:
        return self.log.read_text()

    def wait_until(
        self, predicate: Callable[[], bool], what: str, timeout: float = 60.0, every: float = 0.05
    ) -> None:
        """Poll ``predicate`` ``every`` seconds; fail naming ``what`` if the child exits or time
        runs out first."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                pytest.fail(f"exited with {self.proc.returncode} before {what}:\n{self.log_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{self.log_text()[-3000:]}")
            time.sleep(every)

    def wait_for_log(self, text: str, timeout: float = 60.0) -> None:
        self.wait_until(lambda: text in self.log_text(), repr(text), timeout)

    def wait_until_catching(self, sig: int, timeout: float = 30.0) -> None:
        """Return once the child has a handler for ``sig`` (Linux: ``SigCgt`` in /proc).

        Until then the interpreter is still starting, before any of the daemon's code runs:
        a signal there kills any Python program, so "from its first moment" counts from here.
        Polled finely: the early moments drawn after it are fractions of a second.
        """
        self.wait_until(lambda: self.catches(sig), f"a handler for signal {sig}", timeout, 0.002)

    def catches(self, sig: int) -> bool:
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return False
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        return bool(int(caught.split()[1], 16) >> (sig - 1) & 1)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, float, str]:
        """Send ``sig``; the exit code, the seconds the stop took, and stdout."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=30)
        finally:
            self.close()
        return self.proc.returncode, time.monotonic() - sent, out

    def close(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.communicate()
        self._log_file.close()


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every line of an eventlog file, each of which must be one JSON object."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def video_frames(path: Path) -> int:
    """Frames OpenCV decodes from ``path`` (0 if it cannot be opened)."""
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.isOpened() and capture.read()[0]:
        frames += 1
    capture.release()
    return frames


def write_config(path: Path, **tables: dict[str, Any]) -> Path:
    """A TOML config of ``{table: {key: value}}`` (strings, numbers and booleans)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(str(v)) if isinstance(v, (str, Path)) else str(v)

    lines = []
    for table, keys in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {value(v)}" for k, v in keys.items()]
    path.write_text("\n".join(lines) + "\n")
    return path
