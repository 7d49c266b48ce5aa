"""Typed settings from TOML tables: one dataclass per table, unknown keys rejected.

Both the core config (``config.py``) and every plugin's ``Settings`` go through
:func:`from_table`, so all of them report errors the same way: the file, the dotted key and
why, in one line.

A setting named like a secret (:func:`is_secret`: a password, token or secret) never has its
value in an error message; its ``Settings`` field is declared ``field(repr=False)`` so no
repr shows it either, and a config file holding one warns when others can read it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar

from edge_arasl.errors import UserError

T = TypeVar("T")

#: Words that make a setting's name a secret's.
SECRET_WORDS = ("password", "secret", "token")


def is_secret(key: str) -> bool:
    """Whether the setting ``key`` (a name, not a value) holds a secret."""
    return any(word in key.lower() for word in SECRET_WORDS)


def from_table(cls: type[T], table: dict[str, Any], where: str) -> T:
    """Build dataclass ``cls`` from a TOML table; ``where`` is ``"FILE: [section]"`` for errors."""
    if not isinstance(table, dict):
        raise UserError(f"{where}: expected a table, got {type(table).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        raise UserError(f"{where}: unknown key {unknown[0]!r} (known keys: {known})")
    hints = typing.get_type_hints(cls)
    values = {
        name: _coerce_field(value, hints[name], f"{where}.{name}") for name, value in table.items()
    }
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # __post_init__ checks raise ValueError
        raise UserError(f"{where}: {exc}") from None


def _coerce_field(value: Any, hint: Any, key: str) -> Any:
    """``_coerce``, with a secret's value left out of the error."""
    try:
        return _coerce(value, hint, key)
    except UserError:
        if not is_secret(key.rsplit(".", 1)[-1]):
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
        if value not in args:
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
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UserError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
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
