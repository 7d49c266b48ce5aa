"""The daemon's last status, kept as one JSON file in its state directory.

The daemon replaces ``status.json`` atomically (write a temporary file, then rename), so
``edge-arasl status`` never reads half a file. Under systemd the state directory is
``$STATE_DIRECTORY`` (``StateDirectory=edge-arasl`` makes it ``/var/lib/edge-arasl``);
elsewhere it is ``$XDG_STATE_HOME/edge-arasl`` (``~/.local/state/edge-arasl``).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edge_arasl.errors import UserError

STATUS_FILE = "status.json"
#: Where the unit's ``StateDirectory=edge-arasl`` puts it; `status` looks there last.
SYSTEM_STATE_DIR = Path("/var/lib/edge-arasl")


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$STATE_DIRECTORY`` (systemd), else ``$XDG_STATE_HOME/edge-arasl``."""
    env = os.environ if environ is None else environ
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0])  # systemd lists several with ':'
    xdg = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local/state")
    return Path(xdg) / "edge-arasl"


def candidate_state_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where `edge-arasl status` looks, in order: the user's state dir, then the service's."""
    dirs = [default_state_dir(environ)]
    if SYSTEM_STATE_DIR not in dirs:
        dirs.append(SYSTEM_STATE_DIR)
    return dirs


def write_status(state_dir: Path, data: Mapping[str, Any]) -> Path:
    """Atomically replace ``state_dir/status.json``, readable by the daemon's group.

    Mode 0640, not world-readable: the status carries the recent text, i.e. what someone
    signed. Under systemd, members of the ``edge-arasl`` group can read it.

    No fsync: it is rewritten every few seconds, and sparing an SD card matters more than
    surviving a power cut (a torn file reads as "unreadable", the next write fixes it).
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".status-", suffix=".tmp", dir=state_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
            f.write("\n")
            os.fchmod(f.fileno(), 0o640)  # mkstemp makes 0600; the group may read it
        path = state_dir / STATUS_FILE
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_status(state_dir: Path) -> dict[str, Any]:
    """The last status written to ``state_dir``; :class:`UserError` saying why if there is none."""
    path = state_dir / STATUS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"{path}: no status file: the daemon has not run with this state directory"
            " (start it with `edge-arasl run` or `systemctl start edge-arasl`,"
            " or pass --state-dir)"
        ) from None
    except PermissionError:
        raise UserError(
            f"{path}: permission denied (add yourself to the daemon's group:"
            " `sudo usermod -aG edge-arasl $USER`, then log in again; or use sudo)"
        ) from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return data
