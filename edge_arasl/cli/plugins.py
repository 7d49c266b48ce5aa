"""``edge-arasl plugins``: the installed output plugins and their settings.

The plain listing is a config snippet per plugin (every setting at its default) that can be
pasted into ``config.toml``; ``--json`` prints one JSON object per plugin per line.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
from pathlib import PurePath
from typing import Any

from edge_arasl.plugin import OutputPlugin
from edge_arasl.registry import PluginEntry, scan


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plugins",
        help="list the installed output plugins",
        description="List the output plugins registered under the entry-point group "
        "edge_arasl.plugins, each with its settings at their defaults (a config.toml snippet).",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per plugin per line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    entries = sorted(scan().values(), key=lambda e: e.name)
    if args.json:
        for entry in entries:
            print(json.dumps(describe(entry), ensure_ascii=False))
    elif not entries:
        print("# no output plugins are installed")
    else:
        print("\n\n".join(format_entry(e) for e in entries))
    return 0


def describe(entry: PluginEntry) -> dict[str, Any]:
    """What ``--json`` prints for one plugin."""
    cls = entry.cls
    return {
        "name": entry.name,
        "target": entry.target,
        "distribution": entry.distribution,
        "summary": summary(cls) if cls else "",
        "wants_frames": cls.wants_frames if cls else None,
        "queue_size": cls.queue_size if cls else None,
        "settings": {k: _jsonable(v) for k, v in defaults(cls).items()} if cls else {},
        "error": entry.error,
    }


def format_entry(entry: PluginEntry) -> str:
    """A commented config table with every setting at its default."""
    if entry.cls is None:
        return f"# {entry.name}: cannot be loaded ({entry.target}): {entry.error}"
    cls = entry.cls
    feeds = "frames and events" if cls.wants_frames else "events only"
    lines = [
        f"# {entry.name}: {summary(cls) or '(no description)'}",
        f"# {entry.target}, {feeds}",
        f"[{entry.name}]",
        "enabled = false",
    ]
    for key, value in defaults(cls).items():
        if value is None:
            lines.append(f"# {key} = (not set)")
        else:
            lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines)


def summary(cls: type) -> str:
    """The first line of the plugin class's docstring, else of its module's."""
    doc = inspect.getdoc(cls) if cls.__doc__ else None
    if not doc:
        doc = inspect.getdoc(inspect.getmodule(cls)) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


def defaults(cls: type[OutputPlugin] | None) -> dict[str, Any]:
    """Each setting of ``cls.Settings`` with its default value."""
    if cls is None:
        return {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls.Settings):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # paths and the like, as they would be written in TOML


def _toml(value: Any) -> str:
    """A default value as TOML (strings use JSON escapes, which TOML basic strings accept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        items = ", ".join(f"{k} = {_toml(v)}" for k, v in value.items() if v is not None)
        return "{" + items + "}" if items else "{}"
    if isinstance(value, PurePath):
        value = str(value)
    return json.dumps(str(value), ensure_ascii=False)
