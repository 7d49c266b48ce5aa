"""The daemon's last status, kept as one JSON file in its state directory.

The daemon replaces ``status.json`` atomically (write a temporary file, then rename), so
``edge-arasl status`` never reads half a file. Under systemd the state directory is
``$STATE_DIRECTORY`` (``StateDirectory=edge-arasl`` makes it ``/var/lib/edge-arasl``);
elsewhere it is ``$XDG_STATE_HOME/edge-arasl`` (``~/.local/state/edge-arasl``).

The file is read as untrusted input (a torn write, a full disk, someone's editor): text that
is not UTF-8 or not a JSON object is a :class:`UserError`; inside it, a value of the wrong
type, an out-of-range number or ``NaN`` reads as missing, so ``status`` shows it as unknown.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edge_arasl.errors import UserError
from edge_arasl.plugin import StatusEvent

STATUS_FILE = "status.json"
#: Where the unit's ``StateDirectory=edge-arasl`` puts it; `status` looks there last.
SYSTEM_STATE_DIR = Path("/var/lib/edge-arasl")


@dataclasses.dataclass(frozen=True)
class ServiceInfo:
    """What the service adds to a :class:`StatusEvent`'s fields in the status file."""

    pid: int
    version: str
    device_id: str
    hostname: str
    source: str
    config: str | None
    plugins: list[str]
    started: float


#: Integers beyond a signed 64-bit counter are damage, not counts.
MAX_INT = 2**63 - 1


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
    """The last status written to ``state_dir``, values of a wrong type left out.

    :class:`UserError` saying why if there is none or it is not a JSON object.
    """
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
    except UnicodeDecodeError:
        raise UserError(f"{path}: damaged, not UTF-8 text (a running daemon rewrites it)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=lambda _: None
        )
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise UserError(f"{path}: not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    return {key: value for key, value in data.items() if _fits(value, _FIELDS.get(key, Any))}


#: The type of every known key, from the one place each is declared.
_FIELDS: dict[str, Any] = {
    **typing.get_type_hints(StatusEvent),
    **typing.get_type_hints(ServiceInfo),
}


def _parse_int(digits: str) -> int | None:
    value = int(digits) if len(digits) <= 20 else None  # before int() meets a 10**5000
    return value if value is not None and abs(value) <= MAX_INT else None


def _parse_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _fits(value: object, hint: Any) -> bool:
    """Whether a decoded JSON value is of the declared type (JSON arrays for tuples)."""
    if hint is Any:
        return True
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint in (int, str):
        return isinstance(value, hint) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType:
        return any(_fits(value, arg) for arg in args)
    if origin in (Mapping, dict):
        return isinstance(value, dict) and all(
            isinstance(k, str) and _fits(v, args[1]) for k, v in value.items()
        )
    if origin in (tuple, list):
        if not isinstance(value, list):
            return False
        if origin is list or (len(args) == 2 and args[1] is Ellipsis):
            return all(_fits(item, args[0]) for item in value)
        return len(value) == len(args) and all(map(_fits, value, args))
    return False
