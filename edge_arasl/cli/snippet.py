"""Settings tables as TOML that loads back: each key with its type and declared range beside it.

``edge-arasl plugins`` prints every plugin's table at its defaults this way, and
``edge-arasl config show`` the core tables (a file's values, or the defaults), so a user sees
what a key accepts in the place where they would write it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import PurePath
from typing import Any

from edge_arasl.settings import bounds, is_secret


def defaults(cls: type) -> dict[str, Any]:
    """Each field of dataclass ``cls`` with its default value (read from the fields, so a
    plugin whose defaults break its own rules is still listed)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


def values_of(settings: object) -> dict[str, Any]:
    """A settings object's fields by name (nested tables stay objects)."""
    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}  # type: ignore[arg-type]


def render_table(name: str, cls: type, values: Mapping[str, Any], lead: Sequence[str] = ()) -> str:
    """``[name]``, the ``lead`` lines, then every key of ``cls`` at ``values``; sub-tables last."""
    lines = [f"[{name}]", *lead]
    nested = []
    for field, hint, rng in _fields(cls):
        key, value = field.name, values.get(field.name)
        if dataclasses.is_dataclass(hint):
            sub = values_of(value) if dataclasses.is_dataclass(value) else dict(value or {})
            nested.append(render_table(f"{name}.{key}", hint, sub))  # type: ignore[arg-type]
            continue
        note = type_name(hint) + (f", {rng}" if rng else "")
        if value is None:
            lines.append(f"# {key} = (not set)  # {note}")
        elif value and is_secret(field):
            lines.append(f"# {key} = (set, not shown)  # {note}")
        else:
            lines.append(f"{key} = {toml_value(value)}  # {note}")
    return "\n\n".join(["\n".join(lines), *nested])


def describe_fields(cls: type, prefix: str = "") -> list[dict[str, Any]]:
    """Each key of ``cls`` (sub-table keys dotted): its type, default and range, for JSON."""
    rows: list[dict[str, Any]] = []
    values = defaults(cls)
    for field, hint, rng in _fields(cls):
        key = field.name
        if dataclasses.is_dataclass(hint):
            rows += describe_fields(hint, f"{prefix}{key}.")  # type: ignore[arg-type]
            continue
        declared = None
        if rng is not None:
            declared = {k: v for k, v in dataclasses.asdict(rng).items() if v not in (None, "")}
        default = values.get(key)
        rows.append(
            {"key": prefix + key, "type": type_name(hint), "default": default, "range": declared}
        )
    return rows


def type_name(hint: Any) -> str:
    """How a field's type reads in a comment: ``int``, ``"a" | "b"``, ``list of str``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return " | ".join(toml_value(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args if a is not type(None))
    if origin in (list, tuple):
        return "list of " + (type_name(args[0]) if args else "any")
    return getattr(hint, "__name__", str(hint))


def toml_value(value: Any) -> str:
    """A value as TOML (strings use JSON escapes, which TOML basic strings accept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        items = ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + items + "}" if items else "{}"
    if isinstance(value, PurePath):
        value = str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _fields(cls: type) -> Iterator[tuple[dataclasses.Field[Any], Any, Any]]:
    hints = typing.get_type_hints(cls)
    ranges = bounds(cls)
    for f in dataclasses.fields(cls):
        yield f, hints[f.name], ranges.get(f.name)
