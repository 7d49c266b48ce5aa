"""The daemon's configuration: ``config.toml`` read with tomllib into typed, validated settings.

Core tables are ``[source]``, ``[region]``, ``[hand]``, ``[classifier]``, ``[decoder]`` and
``[service]``; every other table must be named after an installed output plugin and is
validated against that plugin's ``Settings`` (:mod:`edge_arasl.registry` owns that rule).
Unknown tables or keys and bad values are rejected with the file, the key and the reason, in
one line, before anything starts. A missing table means its defaults, so an empty file is a
valid config. Command-line flags override the file afterwards (:func:`dataclasses.replace` on
the frozen settings, :meth:`Config.with_plugin_option`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import socket
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edge_arasl import registry
from edge_arasl.classifier import ClassifierSettings
from edge_arasl.decoder import DecoderSettings
from edge_arasl.errors import UserError
from edge_arasl.hand.tracker import HandSettings
from edge_arasl.region import RegionSettings
from edge_arasl.settings import bounded, from_table, holds_secret
from edge_arasl.status_file import default_state_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

#: What device ids may contain: they become MQTT topic levels and file names.
DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: The largest capture side in pixels (8K): bigger frames would not fit a Pi's memory.
MAX_SIDE = 8192


@dataclass(frozen=True)
class SourceSettings:
    """``[source]``: where frames come from."""

    kind: Literal["picamera", "camera", "video", "images"] = "picamera"
    device: int | str = bounded(0, ge=0, le=255)
    path: str = ""
    width: int = bounded(640, ge=1, le=MAX_SIDE, unit="px")
    height: int = bounded(480, ge=1, le=MAX_SIDE, unit="px")
    #: From a frame every 10 s (an image folder as a slide show) to what any camera delivers.
    fps: float = bounded(30.0, ge=0.1, le=1000, unit="fps")
    lores_width: int = bounded(320, ge=1, le=MAX_SIDE, unit="px")
    lores_height: int = bounded(240, ge=1, le=MAX_SIDE, unit="px")
    loop: bool = False

    def __post_init__(self) -> None:
        if self.kind in ("video", "images") and not self.path:
            raise ValueError(f"path: required when kind = {self.kind!r}")
        if self.kind == "picamera":
            if not isinstance(self.device, int) or self.device < 0:
                raise ValueError(
                    f"device: the Pi camera number must be 0, 1, ..., got {self.device!r}"
                )
            if self.lores_width > self.width or self.lores_height > self.height:
                raise ValueError("lores_width/lores_height: must not exceed width/height")


@dataclass(frozen=True)
class ServiceSettings:
    """``[service]``: who this device is and how often it reports."""

    device_id: str = ""
    state_dir: str = ""
    status_interval: float = bounded(1.0, ge=0.1, le=3600, unit="s")

    def __post_init__(self) -> None:
        if self.device_id and not DEVICE_ID_PATTERN.match(self.device_id):
            raise ValueError(
                f"device_id: {self.device_id!r} must be 1-64 letters, digits, '.', '_' or '-' "
                "(it becomes an MQTT topic level)"
            )

    @property
    def resolved_device_id(self) -> str:
        """The configured id, else this machine's host name made topic-safe."""
        if self.device_id:
            return self.device_id
        host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname().split(".")[0]) or "device"
        return host[:64]

    @property
    def resolved_state_dir(self) -> Path:
        return Path(self.state_dir).expanduser() if self.state_dir else default_state_dir()


CORE_TABLES: dict[str, type] = {
    "source": SourceSettings,
    "region": RegionSettings,
    "hand": HandSettings,
    "classifier": ClassifierSettings,
    "decoder": DecoderSettings,
    "service": ServiceSettings,
}


@dataclass(frozen=True)
class Config:
    """The whole validated configuration. ``plugins`` holds each plugin table as written."""

    source: SourceSettings = field(default_factory=SourceSettings)
    region: RegionSettings = field(default_factory=RegionSettings)
    hand: HandSettings = field(default_factory=HandSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    decoder: DecoderSettings = field(default_factory=DecoderSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def where(self) -> str:
        """How errors name this configuration: its file, or the built-in defaults."""
        return str(self.path) if self.path else "default config"

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def with_plugin_option(self, plugin: str, key: str, value: Any) -> Config:
        """Enable ``plugin`` with ``key = value`` set (a command-line flag), re-validated."""
        tables = {name: dict(table) for name, table in self.plugins.items()}
        tables.setdefault(plugin, {}).update({"enabled": True, key: value})
        registry.validate_tables(tables, self.where, core=CORE_TABLES)
        return self.replace(plugins=tables)

    def enabled_plugins(self) -> list[str]:
        return [name for name, table in self.plugins.items() if table.get("enabled", False)]


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate ``path``; ``None`` gives the defaults (what ``config.toml`` documents)."""
    if path is None:
        return parse_config({}, None)
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a config file") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    config = parse_config(data, path)
    if _holds_secret(config):
        _warn_if_others_can_read(path)
    return config


def _holds_secret(config: Config) -> bool:
    """Whether a plugin table sets a non-empty field its plugin declares a secret (a password)."""
    entries = registry.scan()
    for name, table in config.plugins.items():
        cls = entries[name].cls if name in entries else None
        if cls is not None and holds_secret(cls.Settings, table):
            return True
    return False


def _warn_if_others_can_read(path: Path) -> None:
    """One warning when users besides the owner and its group (as the service) can read it.

    The documented service setup, root:edge-arasl mode 0640 read by the ``edge-arasl`` user,
    does not warn: the group is the reader's own.
    """
    info = path.stat()
    mode = stat.S_IMODE(info.st_mode)
    others = mode & stat.S_IROTH or (mode & stat.S_IRGRP and info.st_gid != os.getegid())
    if others:
        log.warning(
            "%s holds a password and other users can read it (mode %04o): chmod 600 %s",
            path,
            mode,
            path,
        )


def parse_config(data: Mapping[str, Any], path: Path | None) -> Config:
    """Validate a parsed TOML document; errors name ``path``, the table and the key."""
    where = str(path) if path else "config"
    core: dict[str, Any] = {}
    plugin_tables: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if name in CORE_TABLES:  # from_table says so if it is not a table
            core[name] = from_table(CORE_TABLES[name], table, f"{where}: [{name}]")
        elif isinstance(table, dict) or name in registry.scan():
            plugin_tables[name] = table
        else:
            raise UserError(f"{where}: unknown top-level key {name!r} (settings belong in tables)")
    registry.validate_tables(plugin_tables, where, core=CORE_TABLES)
    return Config(**core, plugins=plugin_tables, path=path)
