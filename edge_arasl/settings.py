"""Typed settings from TOML tables: one dataclass per table, unknown keys rejected.

Both the core config (``config.py``) and every plugin's ``Settings`` go through
:func:`from_table`, so all of them report errors the same way: the file, the dotted key and
why, in one line. A numeric field declares its allowed range once, beside the field, with
:func:`bounded`; :func:`from_table` enforces it. Every float must be finite, declared range or
not: ``nan``, ``inf`` and overflowing integers never reach the code that uses a setting.

A setting declared :func:`secret` (a password) never has its value in a repr, a listing or
an error message, and a config file holding one warns when others can read it.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from edge_arasl.errors import UserError

__all__ = ["Range", "bounded", "bounds", "from_table", "holds_secret", "is_secret", "secret"]

T = TypeVar("T")

_RANGE = "edge_arasl.range"  # the dataclasses.field metadata key of a declared range
_SECRET = "edge_arasl.secret"  # ... and of a value never printed (passwords)


@dataclass(frozen=True)
class Range:
    """Allowed values of a numeric setting: ``ge``/``gt`` below, ``le``/``lt`` above.

    ``also`` is one value outside the range that is accepted too, with a meaning of its own
    (``0`` for "off" or "take it from the source" where working values start higher).
    ``unit`` only labels messages.
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    unit: str = ""
    also: float | None = None

    def __contains__(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.also is not None and value == self.also:
            return True
        return not (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def __str__(self) -> str:
        low = f"[{_num(self.ge)}" if self.ge is not None else None
        low = f"({_num(self.gt)}" if self.gt is not None else low
        high = f"{_num(self.le)}]" if self.le is not None else None
        high = f"{_num(self.lt)})" if self.lt is not None else high
        if low and high:
            text = f"in {low}, {high}"
        elif low:
            text = (">= " if low[0] == "[" else "> ") + low[1:]
        elif high:
            text = ("<= " if high[-1] == "]" else "< ") + high[:-1]
        else:
            text = "any finite number"
        text += f" {self.unit}" if self.unit else ""
        return f"{_num(self.also)} or {text}" if self.also is not None else text


def bounded(
    default: float,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    unit: str = "",
    also: float | None = None,
) -> Any:
    """A dataclass field with ``default`` whose config value must lie in the given range.

    ``port: int = bounded(1883, ge=1, le=65535)``; the range is checked when the table is
    loaded (:func:`from_table`) and shown by ``edge-arasl plugins`` and ``config show``.
    """
    rng = Range(ge=ge, gt=gt, le=le, lt=lt, unit=unit, also=also)
    if default not in rng:
        raise ValueError(f"default {default!r} is not {rng}")
    return dataclasses.field(default=default, metadata={_RANGE: rng})


def secret(default: str = "") -> Any:
    """A string field never printed (a password): ``password: str = secret()``.

    Left out of the dataclass repr, of ``config show`` and ``plugins`` listings and of errors.
    """
    return dataclasses.field(default=default, repr=False, metadata={_SECRET: True})


def is_secret(field: dataclasses.Field[Any]) -> bool:
    return bool(field.metadata.get(_SECRET))


def holds_secret(cls: type, table: Mapping[str, Any]) -> bool:
    """Whether ``table`` (a TOML table of dataclass ``cls``) sets a non-empty secret, nested
    tables included."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        value = table.get(f.name)
        if not value:
            continue
        if is_secret(f):
            return True
        nested = hints[f.name]
        is_table = dataclasses.is_dataclass(nested) and isinstance(value, Mapping)
        if is_table and holds_secret(nested, value):
            return True
    return False


def bounds(cls: type) -> dict[str, Range]:
    """The declared range of each bounded field of dataclass ``cls``, by field name."""
    return {f.name: f.metadata[_RANGE] for f in dataclasses.fields(cls) if _RANGE in f.metadata}


def from_table(cls: type[T], table: dict[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from a TOML table; ``where`` is ``"FILE: [section]"`` for errors."""
    if not isinstance(table, dict):
        raise UserError(f"{where}: expected a table, got {type(table).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(fields), key=str)
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise UserError(f"{where}: unknown key {unknown[0]!r} (known keys: {known})")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in table.items():
        key = f"{where}.{name}"
        values[name] = _coerce_field(value, hints[name], key, fields[name])
        rng = fields[name].metadata.get(_RANGE)
        if rng is not None and _is_number(values[name]) and values[name] not in rng:
            raise UserError(f"{key}: must be {rng}, got {value!r}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # __post_init__ checks raise ValueError
        raise UserError(f"{where}: {exc}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: float | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _coerce_field(value: Any, hint: Any, key: str, field: dataclasses.Field[Any]) -> Any:
    """``_coerce``, with a secret's value left out of the error."""
    try:
        return _coerce(value, hint, key)
    except UserError:
        if not is_secret(field):
            raise
        raise UserError(
            f"{key}: expected {getattr(hint, '__name__', hint)} (value not shown)"
        ) from None


def _coerce(value: Any, hint: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except UserError as exc:
                errors.append(str(exc))
        raise UserError(errors[0])
    if origin is typing.Literal:
        if not any(type(value) is type(a) and value == a for a in args):
            choices = ", ".join(repr(a) for a in args)
            raise UserError(f"{key}: {value!r} is not one of {choices}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise UserError(f"{key}: expected a list, got {value!r}")
        item = args[0] if args else Any
        items = [_coerce(v, item, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if hint is Any:
        return value
    if hint is float:
        return _finite(value, key)
    if hint is int:
        if not _is_number(value) or not isinstance(value, int):
            raise UserError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise UserError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise UserError(f"{key}: expected a string, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return from_table(hint, value, key)  # type: ignore[arg-type]
    if isinstance(hint, type) and not isinstance(value, hint):
        raise UserError(f"{key}: expected {hint.__name__}, got {value!r}")
    return value


def _finite(value: Any, key: str) -> float:
    """``value`` as a finite float (an integer too big for a float is not one)."""
    if not _is_number(value):
        raise UserError(f"{key}: expected a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise UserError(f"{key}: expected a finite number, got {value!r}")
    return number
