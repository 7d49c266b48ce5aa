"""``edge-arasl plugins``: the installed output plugins and their settings.

The plain listing is a config snippet per plugin (every setting at its default, with its type
and declared range in a comment) that can be pasted into ``config.toml``; ``--json`` prints one
JSON object per plugin per line.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
from typing import Any

from edge_arasl.cli.snippet import defaults, describe_fields, render_table
from edge_arasl.registry import PluginEntry, scan


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "plugins",
        help="list the installed output plugins",
        description="List the output plugins registered under the entry-point group "
        "edge_arasl.plugins, each with its settings at their defaults, types and ranges "
        "(a config.toml snippet).",
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
    fields = describe_fields(cls.Settings) if cls else []
    return {
        "name": entry.name,
        "target": entry.target,
        "distribution": entry.distribution,
        "summary": summary(cls) if cls else "",
        "wants_frames": cls.wants_frames if cls else None,
        "queue_size": cls.queue_size if cls else None,
        "settings": {k: _jsonable(v) for k, v in defaults(cls.Settings).items()} if cls else {},
        "fields": [{**row, "default": _jsonable(row["default"])} for row in fields],
        "error": entry.error,
    }


def format_entry(entry: PluginEntry) -> str:
    """A commented config table with every setting at its default."""
    if entry.cls is None:
        return f"# {entry.name}: cannot be loaded ({entry.target}): {entry.error}"
    cls = entry.cls
    feeds = "frames and events" if cls.wants_frames else "events only"
    head = [f"# {entry.name}: {summary(cls) or '(no description)'}", f"# {entry.target}, {feeds}"]
    table = render_table(
        entry.name, cls.Settings, defaults(cls.Settings), ["enabled = false  # bool"]
    )
    return "\n".join([*head, table])


def summary(cls: type) -> str:
    """The first line of the plugin class's docstring, else of its module's."""
    doc = inspect.getdoc(cls) if cls.__doc__ else None
    if not doc:
        doc = inspect.getdoc(inspect.getmodule(cls)) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


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
