"""Declared ranges of settings: how they read, how they are enforced, that every table has them."""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass

import pytest

from edge_arasl.config import CORE_TABLES
from edge_arasl.errors import UserError
from edge_arasl.registry import scan
from edge_arasl.settings import Range, bounded, bounds, from_table


@dataclass(frozen=True)
class Sample:
    rate: float = bounded(1.0, gt=0, le=100, unit="Hz")
    count: int = bounded(3, ge=0, le=10)
    scale: float = bounded(0.0, ge=0.5, lt=2, also=0)
    free: float = 1.0
    name: str = ""


def load(**table: object) -> Sample:
    return from_table(Sample, dict(table), "s.toml: [sample]")


@pytest.mark.parametrize(
    ("rng", "text"),
    [
        (Range(gt=0, le=100, unit="Hz"), "in (0, 100] Hz"),
        (Range(ge=0.5, lt=2), "in [0.5, 2)"),
        (Range(ge=0), ">= 0"),
        (Range(lt=1.5, unit="s"), "< 1.5 s"),
        (Range(ge=0.1, le=1, also=0), "0 or in [0.1, 1]"),
    ],
)
def test_a_range_reads_as_interval_notation(rng, text):
    assert str(rng) == text


def test_a_range_holds_its_edges_and_its_extra_value_only():
    rng = Range(ge=0.5, lt=2, also=0)
    assert 0.5 in rng and 1.999 in rng and 0 in rng
    assert 2 not in rng and 0.4 not in rng and -0.0 in rng  # -0.0 == 0
    assert math.nan not in Range(ge=0) and math.inf not in Range(ge=0)


def test_values_in_range_load_and_the_edges_are_as_declared():
    assert load(rate=100, count=0, scale=0).rate == 100.0
    assert load(scale=0.5).scale == 0.5
    with pytest.raises(
        UserError, match=r"^s.toml: \[sample\]\.rate: must be in \(0, 100\] Hz, got 0$"
    ):
        load(rate=0)
    with pytest.raises(UserError, match=r"\[sample\]\.scale: must be 0 or in \[0.5, 2\)"):
        load(scale=2.0)
    with pytest.raises(UserError, match=r"\[sample\]\.count: must be in \[0, 10\], got 11$"):
        load(count=11)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**400])
def test_a_float_must_be_finite_whether_bounded_or_not(value):
    for key in ("rate", "free"):
        with pytest.raises(UserError, match=rf"\[sample\]\.{key}: expected a finite number"):
            load(**{key: value})


def test_an_integer_must_be_integral_and_a_huge_one_is_out_of_range():
    with pytest.raises(UserError, match=r"\[sample\]\.count: expected an integer, got 3.0$"):
        load(count=3.0)
    with pytest.raises(UserError, match=r"\[sample\]\.count: expected an integer, got True$"):
        load(count=True)
    with pytest.raises(UserError, match=r"\[sample\]\.count: must be in \[0, 10\], got 1000"):
        load(count=10**30)


def test_a_default_outside_its_own_range_is_a_programming_error():
    with pytest.raises(ValueError, match=r"default 0 is not in \(0, 1\]"):
        bounded(0, gt=0, le=1)


def test_bounds_lists_the_declared_ranges_by_field():
    assert bounds(Sample) == {
        "rate": Range(gt=0, le=100, unit="Hz"),
        "count": Range(ge=0, le=10),
        "scale": Range(ge=0.5, lt=2, also=0),
    }


def every_settings_table() -> dict[str, type]:
    """Each core table, each built-in plugin's Settings, and the tables nested in them."""
    plugins = {
        n: e.cls.Settings
        for n, e in scan().items()
        if e.cls and e.target.startswith("edge_arasl_plugins.")
    }
    found: dict[str, type] = {}
    todo = list({**CORE_TABLES, **plugins}.items())
    while todo:
        name, cls = todo.pop()
        found[name] = cls
        for f in dataclasses.fields(cls):
            hint = typing.get_type_hints(cls)[f.name]
            if dataclasses.is_dataclass(hint):
                todo.append((f"{name}.{f.name}", hint))
    return found


def test_every_numeric_setting_declares_a_range_with_both_ends():
    tables = every_settings_table()
    assert {"source", "decoder.words", "mqtt.tls", "speech.hermes", "video"} <= set(tables)
    undeclared = []
    for name, cls in tables.items():
        hints = typing.get_type_hints(cls)
        ranges = bounds(cls)
        for f in dataclasses.fields(cls):
            numeric = {int, float} & set(typing.get_args(hints[f.name]) or (hints[f.name],))
            if not numeric or hints[f.name] is bool:
                continue
            rng = ranges.get(f.name)
            low = rng and (rng.ge is not None or rng.gt is not None)
            high = rng and (rng.le is not None or rng.lt is not None)
            if not (low and high):
                undeclared.append(f"[{name}] {f.name}")
    assert not undeclared
