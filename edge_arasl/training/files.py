"""The names and JSON layouts of the files a training run writes.

The bottom of the training package: every other module of it may import this one, and it
imports none of them, so the trainer, the export and the cross-validation records share the
names without importing each other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: The exported model's file stem: ``MODEL_NAME.tflite`` and its metadata ``MODEL_NAME.json``.
MODEL_NAME = "arasl_int8"


def dump_json(path: Path, obj: Any) -> None:
    """UTF-8 JSON, one item a line, Arabic kept readable."""
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def dump_compact(path: Path, obj: Any) -> None:
    """One line per top-level key: long lists stay on one line, the figures stay readable."""
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in obj.items()]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
