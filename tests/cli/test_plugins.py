"""``edge-arasl plugins``: installed plugins with their settings, plain and as JSON."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from edge_arasl import registry
from edge_arasl.cli import main

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MODULE = "arasl_cli_test_plugins"

SOURCE = textwrap.dedent(
    '''
    """Module docstring, used when the class has none."""

    from dataclasses import dataclass, field

    from edge_arasl.plugin import OutputPlugin, bounded


    @dataclass(frozen=True)
    class BannerSettings:
        text: str = "سلام \\"quoted\\""
        size: float = bounded(1.5, gt=0, le=10, unit="em")
        sizes: tuple[int, ...] = (1, 2)
        tags: list[str] = field(default_factory=lambda: ["a"])
        font: str | None = None
        bold: bool = True


    class BannerPlugin(OutputPlugin):
        """Draws a banner.

        Longer text that the listing leaves out.
        """

        name = "banner"
        Settings = BannerSettings
        wants_frames = False


    class Bare(OutputPlugin):
        name = "bare"
    '''
)


@pytest.fixture
def installed(install_plugin_package):
    entry_points = {
        "banner": f"{MODULE}:BannerPlugin",
        "bare": f"{MODULE}:Bare",
        "ghost": "arasl_cli_no_such_module:Ghost",
    }
    install_plugin_package(MODULE, SOURCE, entry_points, "arasl-cli-test")


def test_json_lists_each_plugin_with_its_settings_and_defaults(installed, capsys):
    assert main(["plugins", "--json"]) == 0
    rows = {row["name"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["banner"] == {
        "name": "banner",
        "target": f"{MODULE}:BannerPlugin",
        "distribution": "arasl-cli-test",
        "summary": "Draws a banner.",
        "wants_frames": False,
        "queue_size": 8,
        "settings": {
            "text": 'سلام "quoted"',
            "size": 1.5,
            "sizes": [1, 2],
            "tags": ["a"],
            "font": None,
            "bold": True,
        },
        "fields": [
            {"key": "text", "type": "str", "default": 'سلام "quoted"', "range": None},
            {
                "key": "size",
                "type": "float",
                "default": 1.5,
                "range": {"gt": 0, "le": 10, "unit": "em"},
            },
            {"key": "sizes", "type": "list of int", "default": [1, 2], "range": None},
            {"key": "tags", "type": "list of str", "default": ["a"], "range": None},
            {"key": "font", "type": "str", "default": None, "range": None},
            {"key": "bold", "type": "bool", "default": True, "range": None},
        ],
        "error": None,
    }
    assert rows["bare"]["summary"] == "Module docstring, used when the class has none."
    assert rows["bare"]["settings"] == {}
    assert rows["ghost"]["error"].startswith("ModuleNotFoundError")
    assert "metrics" in rows  # a built-in, found the same way


def test_the_plain_listing_is_a_config_snippet_that_loads_back(installed, capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "# banner: Draws a banner." in out
    assert f"# {MODULE}:BannerPlugin, events only" in out
    assert "# ghost: cannot be loaded (arasl_cli_no_such_module:Ghost): ModuleNotFound" in out
    config = tomllib.loads(out)
    assert config["banner"] == {
        "enabled": False,
        "text": 'سلام "quoted"',
        "size": 1.5,
        "sizes": [1, 2],
        "tags": ["a"],
        "bold": True,
    }  # font has no default value, so it is shown commented out
    assert "# font = (not set)  # str" in out
    assert "size = 1.5  # float, in (0, 10] em" in out
    assert "keepalive = 30  # int, in [1, 65535] s" in out  # a built-in's declared range
    assert config["bare"] == {"enabled": False}
    # What it prints passes validation as it stands.
    tables = {name: table for name, table in config.items() if name in ("banner", "bare")}
    registry.validate_tables(tables, "snippet")
