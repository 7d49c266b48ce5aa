"""Finds output plugins through the ``edge_arasl.plugins`` entry-point group and builds them.

Built-in plugins are registered in ``pyproject.toml`` exactly as a third-party package would
register its own::

    [project.entry-points."edge_arasl.plugins"]
    mqtt = "edge_arasl_plugins.mqtt:MqttPlugin"

This module alone decides which config tables are plugin tables and what they may hold. The
entry points are read once per process (:func:`scan`, cached). A plugin that cannot be
imported (a missing optional dependency, a bug) is logged and left out; it becomes an error
only when its config table enables it. Each config table is checked against its plugin's
``Settings`` whether enabled or not, so a typo fails ``config check`` rather than the day
someone turns the plugin on; a table naming no installed plugin is an error, enabled or not.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from edge_arasl.errors import UserError
from edge_arasl.plugin import ENTRY_POINT_GROUP, OutputPlugin, PluginContext, PluginError
from edge_arasl.settings import from_table

__all__ = [
    "PluginEntry",
    "build_plugins",
    "plugin_settings",
    "scan",
    "validate_tables",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginEntry:
    """One registered plugin: its class, or why it could not be loaded."""

    name: str
    target: str  # "module:Class" as registered
    distribution: str | None
    cls: type[OutputPlugin] | None = None
    error: str | None = None


@functools.cache
def scan() -> Mapping[str, PluginEntry]:
    """Every plugin registered in the entry-point group, loaded or broken, by name.

    Read once per process, so each broken plugin is logged once; ``scan.cache_clear()`` makes
    the next call read the entry points again (after installing a plugin package at run time).
    """
    entries: dict[str, PluginEntry] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else None
        if ep.name in entries:
            if entries[ep.name].target != ep.value:
                log.warning(
                    "two plugins are registered as %r: %s (used) and %s (from %s, ignored)",
                    ep.name,
                    entries[ep.name].target,
                    ep.value,
                    dist,
                )
            continue
        cls, error = _load(ep)
        entries[ep.name] = PluginEntry(ep.name, ep.value, dist, cls, error)
        if error is not None:
            log.warning("plugin %r (%s) cannot be loaded: %s", ep.name, ep.value, error)
    return types.MappingProxyType(entries)


def plugin_settings(cls: type[OutputPlugin], table: Mapping[str, Any], where: str) -> Any:
    """``cls.Settings`` from a config table without its ``enabled`` key."""
    options = {k: v for k, v in table.items() if k != "enabled"}
    return from_table(cls.Settings, options, where)


def validate_tables(
    tables: Mapping[str, Mapping[str, Any]], where: str, *, core: Iterable[str] = ()
) -> None:
    """Check every plugin table, enabled or not; raise :class:`UserError` on the first problem.

    ``where`` names the file for messages, e.g. ``"config.toml"``; ``core`` lists the config's
    other tables for the message about a table that names no plugin. A table for a plugin that
    is installed but broken is an error only when enabled.
    """
    entries = scan() if tables else {}
    for name, table in tables.items():
        _check(name, table, entries, where, tuple(core))


def build_plugins(
    tables: Mapping[str, Mapping[str, Any]],
    make_context: Callable[[str], PluginContext],
    where: str,
) -> list[OutputPlugin]:
    """Instantiate the enabled plugins in table order (not started yet)."""
    entries = scan() if tables else {}
    plugins: list[OutputPlugin] = []
    for name, table in tables.items():
        checked = _check(name, table, entries, where)
        if checked is None or not table.get("enabled", False):
            continue
        cls, settings = checked
        try:
            plugins.append(cls(settings, make_context(name)))
        except UserError:
            raise
        except Exception as exc:
            log.debug("plugin %s failed to initialise", name, exc_info=True)
            raise PluginError(f"{name}: failed to initialise: {type(exc).__name__}: {exc}") from exc
    return plugins


def _check(
    name: str,
    table: Mapping[str, Any],
    entries: Mapping[str, PluginEntry],
    where: str,
    core: tuple[str, ...] = (),
) -> tuple[type[OutputPlugin], Any] | None:
    """Validate one table: the plugin class and its settings, or None if it is not usable."""
    entry = entries.get(name)
    if entry is None:  # most often a typo, which would otherwise go unnoticed
        shown = f"[{name}]" if name.isprintable() else repr(name)
        known = f"core tables: {', '.join(core)}; " if core else ""
        raise UserError(f"{where}: unknown table {shown} ({known}{_installed(entries)})")
    here = f"{where}: [{name}]"
    if not isinstance(table, Mapping):
        raise UserError(f"{here}: expected a table, got {type(table).__name__}")
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        raise UserError(f"{here}.enabled: expected true or false, got {enabled!r}")
    if entry.cls is None:
        if enabled:
            raise UserError(f"{here}: plugin {entry.target} cannot be loaded: {entry.error}")
        return None
    return entry.cls, plugin_settings(entry.cls, table, here)


def _installed(entries: Mapping[str, PluginEntry]) -> str:
    usable = sorted(name for name, e in entries.items() if e.cls is not None)
    broken = sorted(name for name, e in entries.items() if e.cls is None)
    text = "installed plugins: " + (", ".join(usable) or "none")
    return text + (f"; cannot be loaded: {', '.join(broken)}" if broken else "")


def _load(ep: metadata.EntryPoint) -> tuple[type[OutputPlugin] | None, str | None]:
    try:
        obj = ep.load()
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if not (isinstance(obj, type) and issubclass(obj, OutputPlugin)):
        return None, f"{ep.value} is not an OutputPlugin subclass"
    if obj.name != ep.name:
        return None, f"{ep.value}.name is {obj.name!r}, not the entry-point name {ep.name!r}"
    settings = obj.Settings
    if not dataclasses.is_dataclass(settings):
        return None, f"{ep.value}.Settings is not a dataclass"
    missing = [
        f.name
        for f in dataclasses.fields(settings)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        return None, f"{ep.value}.Settings has fields without defaults: {', '.join(missing)}"
    return obj, None
