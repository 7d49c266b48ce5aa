"""Plugin registry: entry-point discovery (a real dist-info on sys.path), config tables, errors."""

from __future__ import annotations

import logging
import sys
import textwrap

import pytest

from edge_arasl import registry
from edge_arasl.errors import UserError
from edge_arasl.plugin import PluginContext, PluginError

MODULE = "arasl_registry_test_plugins"

SOURCE = textwrap.dedent(
    '''
    from dataclasses import dataclass

    from edge_arasl.plugin import OutputPlugin, bounded


    @dataclass(frozen=True)
    class EchoSettings:
        prefix: str = ">"
        repeat: int = bounded(1, ge=1, le=5)


    class EchoPlugin(OutputPlugin):
        """Echoes letters, for tests."""

        name = "echo"
        Settings = EchoSettings


    class Exploding(OutputPlugin):
        name = "exploding"

        def __init__(self, settings, context):
            raise ZeroDivisionError("bad constructor")


    class NeedsValue(OutputPlugin):
        name = "needs_value"

        @dataclass
        class Settings:
            host: str


    not_a_class = 42
    '''
)

ENTRY_POINTS = {
    "echo": f"{MODULE}:EchoPlugin",
    "exploding": f"{MODULE}:Exploding",
    "missing_dep": "arasl_no_such_module_anywhere:Plugin",
    "not_a_plugin": f"{MODULE}:not_a_class",
    "misnamed": f"{MODULE}:EchoPlugin",
    "needs_value": f"{MODULE}:NeedsValue",
}


@pytest.fixture
def installed(install_plugin_package):
    """A distribution registering test plugins, installed the way pip would (a dist-info)."""
    install_plugin_package(MODULE, SOURCE, ENTRY_POINTS, "arasl-registry-test")


def make_context(name: str) -> PluginContext:
    return PluginContext(name=name, device_id="dev", mode="process", state_dir=None)


def test_scan_loads_registered_plugins_and_explains_broken_ones(installed, caplog):
    entries = registry.scan()
    echo = entries["echo"]
    assert echo.cls is not None and echo.cls.__name__ == "EchoPlugin"
    assert (echo.target, echo.distribution, echo.error) == (
        f"{MODULE}:EchoPlugin",
        "arasl-registry-test",
        None,
    )
    assert "ModuleNotFoundError" in entries["missing_dep"].error
    assert "arasl_no_such_module_anywhere" in entries["missing_dep"].error
    assert "not an OutputPlugin subclass" in entries["not_a_plugin"].error
    assert "not the entry-point name 'misnamed'" in entries["misnamed"].error
    assert "without defaults: host" in entries["needs_value"].error
    assert "metrics" in entries  # the built-ins come through the same group
    broken = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(broken) == 4 and all("cannot be loaded" in r.getMessage() for r in broken)
    caplog.clear()
    assert registry.scan() is entries  # read once per process
    assert not caplog.records  # so each broken plugin is reported once


def test_build_plugins_builds_the_enabled_tables_in_order(installed):
    tables = {
        "echo": {"enabled": True, "prefix": "« "},
        "metrics": {"enabled": False, "port": 9999},
        "missing_dep": {"enabled": False},  # broken but off: fine
    }
    (echo,) = registry.build_plugins(tables, make_context, "cfg.toml")
    assert type(echo).__name__ == "EchoPlugin"
    assert (echo.settings.prefix, echo.settings.repeat) == ("« ", 1)
    assert echo.context.name == "echo"
    assert registry.build_plugins({}, make_context, "cfg.toml") == []


@pytest.mark.parametrize("enabled", [True, False])
def test_unknown_and_badly_typed_keys_are_rejected_enabled_or_not(installed, enabled):
    table = {"enabled": enabled, "prefx": "!"}
    with pytest.raises(UserError, match=r"^cfg.toml: \[echo\]: unknown key 'prefx' \(known"):
        registry.build_plugins({"echo": table}, make_context, "cfg.toml")
    with pytest.raises(UserError, match=r"^cfg.toml: \[echo\].repeat: expected an integer"):
        registry.validate_tables({"echo": {"enabled": enabled, "repeat": "2"}}, "cfg.toml")


def test_a_third_party_plugin_declares_ranges_through_the_plugin_api(installed):
    registry.validate_tables({"echo": {"repeat": 5}}, "cfg.toml")
    with pytest.raises(
        UserError, match=r"^cfg.toml: \[echo\]\.repeat: must be in \[1, 5\], got 6$"
    ):
        registry.validate_tables({"echo": {"repeat": 6}}, "cfg.toml")


def test_enabled_must_be_a_boolean(installed):
    with pytest.raises(UserError, match=r"cfg.toml: \[echo\].enabled: expected true or false"):
        registry.validate_tables({"echo": {"enabled": "yes"}}, "cfg.toml")


@pytest.mark.parametrize("table", [{"enabled": True}, {"enabled": False}, {}])
def test_a_table_of_no_installed_plugin_is_an_error_listing_the_installed_ones(installed, table):
    with pytest.raises(UserError) as info:
        registry.build_plugins({"mqqt": table}, make_context, "cfg.toml")
    message = str(info.value)
    assert message.startswith("cfg.toml: unknown table [mqqt] (installed plugins: ")
    installed_part, broken_part = message.split("; cannot be loaded: ")
    assert "echo" in installed_part and "metrics" in installed_part
    assert "missing_dep" in broken_part and "missing_dep" not in installed_part
    with pytest.raises(UserError, match=r"^cfg.toml: unknown table \[mqqt\] \(core tables: a, b; "):
        registry.validate_tables({"mqqt": table}, "cfg.toml", core=("a", "b"))


def test_a_plugin_installed_after_the_first_scan_is_found_after_a_rescan(installed, tmp_path):
    assert "late" not in registry.scan()
    site = tmp_path / "site"  # where install_plugin_package put the package
    entry_points = site / "arasl_registry_test-1.0.dist-info" / "entry_points.txt"
    entry_points.write_text(entry_points.read_text() + f"late = {MODULE}:Late\n")
    (site / f"{MODULE}.py").write_text(
        SOURCE + "\n\nclass Late(OutputPlugin):\n    name = 'late'\n"
    )
    sys.modules.pop(MODULE, None)
    assert "late" not in registry.scan()  # cached
    registry.scan.cache_clear()
    assert registry.scan()["late"].cls is not None


def test_an_enabled_broken_plugin_says_why_it_cannot_be_loaded(installed):
    with pytest.raises(UserError, match=r"\[missing_dep\]: .*cannot be loaded: ModuleNotFound"):
        registry.build_plugins({"missing_dep": {"enabled": True}}, make_context, "cfg.toml")


def test_a_plugin_constructor_that_crashes_becomes_a_plugin_error(installed):
    with pytest.raises(PluginError, match=r"^exploding: failed to initialise: ZeroDivisionError"):
        registry.build_plugins({"exploding": {"enabled": True}}, make_context, "cfg.toml")


def test_a_table_must_be_a_table(installed):
    with pytest.raises(UserError, match=r"cfg.toml: \[echo\]: expected a table"):
        registry.validate_tables({"echo": 3}, "cfg.toml")
