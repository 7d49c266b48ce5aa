"""Where file-writing plugins put their files, and how they replace them safely."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from edge_arasl.plugin import PluginContext, PluginError


def output_path(pattern: str, context: PluginContext, when: float | None = None) -> Path:
    """The file for ``pattern`` (strftime fields filled with local time ``when``, default now).

    A relative path is taken from the state directory in the daemon (whose working directory
    is arbitrary) and from the working directory in ``process``, like any command-line tool.
    """
    if not pattern:
        raise PluginError(f"[{context.name}] path: no output file given")
    name = time.strftime(pattern, time.localtime(when)) if "%" in pattern else pattern
    path = Path(name).expanduser()
    if not path.is_absolute() and context.mode == "run":
        path = Path(context.state_dir) / path
    return path


def prepare_directory(path: Path, context: PluginContext) -> None:
    """Create the parent directory of ``path``; a :class:`PluginError` if it is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PluginError(f"[{context.name}] path: cannot create {path.parent}: {exc}") from None
    if not os.access(path.parent, os.W_OK):
        raise PluginError(f"[{context.name}] path: cannot write to {path.parent}")


def prepare_file(path: Path, context: PluginContext) -> None:
    """Check at start that ``path`` can be written: its folder made, not a folder itself.

    Opening it for appending finds what a path check cannot (a dangling link, a read-only
    file system); a file that did not exist before is removed again.
    """
    prepare_directory(path, context)
    if path.is_dir():
        raise PluginError(f"[{context.name}] path: {path} is a folder, not a file")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise PluginError(f"[{context.name}] path: cannot write {path}: {exc.strerror}") from None
    if not existed:
        path.unlink(missing_ok=True)


def write_failed(context: PluginContext, path: Path | None, exc: OSError) -> PluginError:
    """The error of a file that could not be written (a full disk): the output has a hole now,
    so the plugin is given up on rather than retried on every event."""
    return PluginError(f"[{context.name}] cannot write {path}: {exc.strerror or exc}")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` so readers never see a half-written file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
