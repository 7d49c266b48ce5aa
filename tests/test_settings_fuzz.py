"""Property tests of the config loader: any TOML-like table gives a Config or one clear line.

Every table is found from the code (the core tables and the installed plugins' ``Settings``),
every key from its dataclass; values are both plausible (defaults, the edges of declared
ranges, the choices of a Literal) and arbitrary (huge integers, nan, inf, -0.0, 1e308,
strings, lists, nested tables, unknown keys). Examples are derandomized so CI is reproducible.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_arasl.config import CORE_TABLES, Config, parse_config
from edge_arasl.decoder import LetterDecoder
from edge_arasl.errors import UserError
from edge_arasl.labels import MODEL_CLASSES
from edge_arasl.registry import scan
from edge_arasl.settings import Range, bounds

FILE = Path("fuzz.toml")
PLUGIN_TABLES = {name: e.cls.Settings for name, e in scan().items() if e.cls is not None}
TABLES: dict[str, type] = {**CORE_TABLES, **PLUGIN_TABLES}
FUZZ = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SPECIAL_NUMBERS = [
    0,
    -0.0,
    -1,
    1e308,
    -1e308,
    5e-324,
    math.nan,
    math.inf,
    -math.inf,
    2**63,
    -(2**63),
    10**400,
]
SCALARS = st.one_of(
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(SPECIAL_NUMBERS),
    st.text(max_size=12),
    st.booleans(),
    st.datetimes(min_value=datetime.datetime(1, 1, 1)),
)
KEYS = st.text(min_size=1, max_size=8)
#: Anything tomllib can return for a value.
ANY_VALUE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)


def edges(rng: Range) -> list[float]:
    """The values at and just beyond each declared bound, where off-by-one mistakes live."""
    out: list[float] = []
    for bound in (rng.ge, rng.gt, rng.le, rng.lt, rng.also):
        if bound is not None:
            out += [bound, bound - 1, bound + 1, math.nextafter(bound, -math.inf)]
            out += [math.nextafter(bound, math.inf)]
    return out


def in_range(hint: Any, rng: Range) -> st.SearchStrategy[Any]:
    low = rng.ge if rng.ge is not None else rng.gt
    high = rng.le if rng.le is not None else rng.lt
    if hint is int:
        return st.integers(int(low or 0), int(high if high is not None else 2**31))
    return st.floats(low, high, allow_nan=False)


def plausible(hint: Any, rng: Range | None) -> st.SearchStrategy[Any]:
    """Values of the field's own type, so that valid configs are common too."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return table_of(hint)  # type: ignore[arg-type]
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([plausible(a, rng) for a in args if a is not type(None)])
    if hint is bool:
        return st.booleans()
    if hint is str:
        return st.sampled_from(["", "x", "a/b", "+#", "out.jsonl", "/srv/x"]) | st.text()
    if hint in (int, float) and rng is not None:
        return in_range(hint, rng) | st.sampled_from(edges(rng) + SPECIAL_NUMBERS)
    if hint in (int, float):
        return st.integers(-10, 10) | st.floats(-10, 10) | st.sampled_from(SPECIAL_NUMBERS)
    return ANY_VALUE


def table_of(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    """A table of ``cls``: half the time plausible values only, else with wild values too."""
    hints = typing.get_type_hints(cls)
    ranges = bounds(cls)
    tame = {
        f.name: plausible(hints[f.name], ranges.get(f.name))
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
    }
    wild = {name: value | ANY_VALUE for name, value in tame.items()}
    unknown = st.dictionaries(KEYS, ANY_VALUE, max_size=1)
    return st.fixed_dictionaries({}, optional=tame) | st.tuples(
        st.fixed_dictionaries({}, optional=wild), unknown
    ).map(lambda pair: {**pair[1], **pair[0]})


def check(document: dict[str, Any]) -> Config | str:
    """The loader's result: a Config, or its error after checking it is one good line."""
    try:
        return parse_config(document, FILE)
    except UserError as exc:
        message = str(exc)
        assert message.startswith(f"{FILE}: "), message
        assert "\n" not in message, message
        named = [k for k in document if f"[{k}]" in message or repr(k) in message]
        assert named, f"names no table of the document: {message}"
        return message


def assert_within_bounds(value: Any, cls: type, where: str) -> None:
    """Every bounded field of a loaded settings object is finite and inside its range."""
    ranges = bounds(cls)
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        item = getattr(value, f.name)
        if dataclasses.is_dataclass(item):
            assert_within_bounds(item, type(item), f"{where}.{f.name}")
        elif isinstance(item, float):
            assert math.isfinite(item), f"{where}.{f.name} = {item}"
        if f.name in ranges and isinstance(item, (int, float)) and not isinstance(item, bool):
            assert item in ranges[f.name], f"{where}.{f.name} = {item}"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_any_table_loads_or_fails_with_one_line_naming_the_key(name):
    cls = TABLES[name]
    enabled = st.fixed_dictionaries({}, optional={"enabled": st.booleans() | ANY_VALUE})

    @FUZZ
    @given(table=table_of(cls), extra=enabled if name in PLUGIN_TABLES else st.just({}))
    def run(table: dict[str, Any], extra: dict[str, Any]) -> None:
        table = {**table, **extra}
        result = check({name: table})
        if isinstance(result, str):
            assert f"[{name}]" in result, result
            assert any(k in result or repr(k) in result for k in table), result  # the key
            return
        if name in CORE_TABLES:
            assert_within_bounds(getattr(result, name), cls, name)
        else:
            assert result.plugins[name] == table

    run()


@FUZZ
@given(
    document=st.dictionaries(
        st.sampled_from(sorted(TABLES)) | KEYS,
        st.dictionaries(KEYS, ANY_VALUE, max_size=3) | ANY_VALUE,
        max_size=4,
    )
)
def test_any_document_loads_or_fails_with_one_line(document):
    check(document)


@FUZZ
@given(table=table_of(CORE_TABLES["decoder"]))
def test_every_valid_decoder_table_drives_a_decoder(table):
    """What the loader accepts, the decoder runs with: letters from a held sign, no crash."""
    result = check({"decoder": table})
    if isinstance(result, str):
        return
    words = dataclasses.replace(result.decoder.words, enabled=False)  # no lexicon to load
    decoder = LetterDecoder(MODEL_CLASSES, dataclasses.replace(result.decoder, words=words))
    sign = np.full(len(MODEL_CLASSES), 0.001, np.float32)
    sign[MODEL_CLASSES.index("meem")] = 1.0
    sign /= sign.sum()
    events = []
    for i in range(60):
        events += decoder.update(sign, i / 30)
    events += decoder.finish(60 / 30 + 61.0)
    assert all(math.isfinite(e.end) for e in events)
