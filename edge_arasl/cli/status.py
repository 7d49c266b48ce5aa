"""``edge-arasl status``: what the daemon last reported, read from its state directory.

Exit status: 0 when the daemon that wrote the status is still running, 3 when it is not
(stopped, crashed, or on another machine's state directory), 2 when there is no status at all
or it is unreadable (not UTF-8, not a JSON object). Values of a wrong type in it show as ``?``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import unicodedata
from pathlib import Path
from typing import Any

from edge_arasl.status_file import STATUS_FILE, candidate_state_dirs, read_status

NOT_RUNNING = 3  # as `systemctl status` and LSB init scripts use it


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "status",
        help="show the running daemon's last status",
        description="Show the status the daemon last wrote to its state directory "
        "(under systemd: /var/lib/edge-arasl). Exit 0 if it is running, 3 if not.",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        help="the daemon's state directory (default: $STATE_DIRECTORY, "
        "~/.local/state/edge-arasl, then /var/lib/edge-arasl)",
    )
    p.add_argument("--json", action="store_true", help="print the status as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    state_dir = args.state_dir or _find_state_dir()
    data = read_status(state_dir)
    wall_time = data.get("wall_time")
    data["age_seconds"] = None if wall_time is None else round(max(0.0, time.time() - wall_time), 1)
    data["alive"] = _alive(data)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(format_status(data))
    return 0 if data["alive"] else NOT_RUNNING


def _find_state_dir() -> Path:
    dirs = candidate_state_dirs()
    for d in dirs:
        try:
            if (d / STATUS_FILE).exists():
                return d
        except PermissionError:
            continue
    return dirs[0]  # read_status explains what is missing


def _alive(data: dict[str, Any]) -> bool:
    """Whether the process that wrote the status still runs and has not said it stopped."""
    if data.get("state") in ("stopped", "failed"):
        return False
    pid = data.get("pid")
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: beyond any pid
        return False
    except PermissionError:  # alive, owned by the service user
        return True
    return True


def format_status(data: dict[str, Any]) -> str:
    """A few human-readable lines; ``?`` for what the file does not say (or says wrongly)."""
    state = data.get("state", "?")
    if not data["alive"]:
        state = f"not running (last: {state})"
    fps = data.get("fps")
    lines = [
        f"edge-arasl on {data.get('device_id', '?')}: {state}"
        f" (pid {data.get('pid', '?')}, updated {_ago(data['age_seconds'])})",
        f"  source:   {data.get('source', '?')}{_lost(data)}"
        f"    config: {data.get('config') or 'built-in'}",
        f"  frames:   {data.get('frames', '?')} ({data.get('frames_dropped', '?')} dropped),"
        f" {'?' if fps is None else f'{fps:.1f}'} fps, inference {_mean_ms(data)}",
        f"  letters:  {data.get('letters', '?')}, words: {data.get('words', '?')},"
        f" last letter: {data.get('last_letter') or '-'}",
    ]
    if data.get("text"):
        lines.append(f"  text:     {data['text']}")
    failed = data.get("plugin_failed", {})
    for name in sorted(
        set(data.get("plugin_errors", {}))
        | set(data.get("plugin_frames_dropped", {}))
        | set(data.get("plugin_gauges", {}))
        | set(failed)
    ):
        parts = [f"FAILED ({failed[name]})"] if name in failed else []
        parts += [
            f"{data.get('plugin_errors', {}).get(name, 0)} errors",
            f"{data.get('plugin_frames_dropped', {}).get(name, 0)} frames dropped",
        ]
        gauges = data.get("plugin_gauges", {}).get(name, {})
        parts += [f"{k} {v:g}" for k, v in sorted(gauges.items())]
        lines.append(f"  plugin {name}: " + ", ".join(parts))
    return "\n".join(map(_without_controls, lines))


def _lost(data: dict[str, Any]) -> str:
    """Says so when the source is away (the daemon is reopening it)."""
    if data.get("source_state") != "lost":
        return ""
    seconds = data.get("source_lost_s")
    return f" (lost for {'?' if seconds is None else f'{seconds:.0f}'} s, reopening)"


def _without_controls(line: str) -> str:
    """The file is not trusted: no terminal escape or newline from it reaches the screen."""
    return "".join("?" if unicodedata.category(ch) == "Cc" else ch for ch in line)


def _mean_ms(data: dict[str, Any]) -> str:
    count = data.get("frames")  # one inference per frame
    total = data.get("inference_ms_sum")
    if not count or total is None:
        return "-"
    return f"{total / count:.2f} ms mean"


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"
