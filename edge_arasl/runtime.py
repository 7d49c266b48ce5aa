"""The TFLite interpreter every model here runs on, whichever package provides it.

Backends are tried in order: ``ai_edge_litert`` (LiteRT, the default dependency),
``tflite_runtime`` (legacy, numpy 1 only), then ``tensorflow.lite`` (present when the ``train``
extra is). All are imported lazily, so inference never needs TensorFlow. The sign classifier,
the palm detector, the hand landmark model and the landmark classifier all load through
:func:`load_interpreter`, so a missing, corrupt or unloadable file is the same one-line error
for each of them.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edge_arasl.errors import UserError

log = logging.getLogger(__name__)

#: Interpreter backends in order of preference: name -> (module, attribute path of the class).
BACKENDS: dict[str, tuple[str, str]] = {
    "ai_edge_litert": ("ai_edge_litert.interpreter", "Interpreter"),
    "tflite_runtime": ("tflite_runtime.interpreter", "Interpreter"),
    "tensorflow": ("tensorflow", "lite.Interpreter"),  # tf.lite is an attribute, not a module
}

_INSTALL_HINT = {
    "ai_edge_litert": "pip install ai-edge-litert",
    "tflite_runtime": "pip install 'edge-arasl[tflite]'",
    "tensorflow": "pip install 'edge-arasl[train]'",
}


def interpreter_class(backend: str | None = None) -> tuple[str, type]:
    """``(name, Interpreter class)`` of the named backend, or of the first one installed."""
    if backend is not None and backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    names = [backend] if backend else list(BACKENDS)
    reasons = []
    for name in names:
        module_name, attributes = BACKENDS[name]
        try:
            found: Any = importlib.import_module(module_name)
            for attribute in attributes.split("."):
                found = getattr(found, attribute)
            return name, found
        except (ImportError, AttributeError) as exc:
            reasons.append(f"{name}: {exc}")
    if backend:
        raise UserError(
            f"backend {backend!r} is not available ({reasons[0]}); {_INSTALL_HINT[backend]}"
        )
    raise UserError(
        f"no TFLite interpreter installed ({'; '.join(reasons)}); pip install ai-edge-litert"
    )


@contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Keep the interpreter's C++ banner ("INFO: Created ... XNNPACK delegate") off stderr.

    The native library writes it straight to file descriptor 2, where it would break the
    one-line error contract of the CLI. Everything else written meanwhile is passed through.
    """
    stream = sys.stderr
    if stream is not None:
        stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2: nothing to keep clean
        saved = -1
    if saved < 0:
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            if stream is not None:
                stream.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode(errors="replace").splitlines(keepends=True):
                if line.startswith("INFO: "):
                    log.debug("interpreter: %s", line.strip())
                elif stream is not None:
                    stream.write(line)


def check_model_file(path: Path, hint: str = "") -> None:
    """A one-line error unless ``path`` is a readable TFLite file; ``hint`` says how to get it."""
    suffix = f"; {hint}" if hint else ""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise UserError(f"{path}: model file not found{suffix}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read model file ({exc.strerror}){suffix}") from None
    if head[4:8] != b"TFL3":
        raise UserError(f"{path}: not a TFLite model (no TFL3 flatbuffer identifier){suffix}")


def read_metadata(path: Path) -> dict[str, Any]:
    """The JSON object beside a model (its classes, input...); one-line errors naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: model metadata not found (expected beside the model)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read model metadata ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: invalid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: metadata must be a JSON object")
    return data


def metadata_classes(path: Path, data: dict[str, Any], known: Collection[str]) -> tuple[str, ...]:
    """The metadata's ``classes``: a non-empty list of distinct ids, each one of ``known``."""
    classes = data.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise UserError(f"{path}: 'classes' must be a non-empty list of class ids")
    if len(set(classes)) != len(classes):
        raise UserError(f"{path}: 'classes' lists a class id twice")
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise UserError(f"{path}: unknown class id(s) {', '.join(map(repr, unknown))}")
    return tuple(classes)


def load_interpreter(
    path: Path, num_threads: int = 1, backend: str | None = None, hint: str = ""
) -> tuple[str, Any]:
    """``(backend name, allocated interpreter)`` for the model file ``path``.

    Every problem is a :class:`UserError` naming the file; ``hint`` (e.g. the setup step that
    provides the file) is added to it.
    """
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise UserError(f"num_threads must be a positive integer, not {num_threads!r}")
    check_model_file(path, hint)
    name, interpreter_type = interpreter_class(backend)
    try:
        with native_stderr_filtered():
            interpreter = interpreter_type(model_path=str(path), num_threads=num_threads)
            interpreter.allocate_tensors()
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        suffix = f"; {hint}" if hint else ""
        raise UserError(f"{path}: cannot load model ({reason}){suffix}") from None
    return name, interpreter
