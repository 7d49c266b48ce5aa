"""``edge-arasl config check FILE`` and ``config show [FILE]``: validate, or print what applies.

``show`` prints the core tables and the file's plugin tables as TOML that loads back to the
same configuration, every key at its value with its type and declared range in a comment.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_arasl import registry
from edge_arasl.cli.snippet import render_table, values_of
from edge_arasl.config import CORE_TABLES, Config, load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "config",
        help="check a config file, or show the settings that apply",
        description="Work with config files (config.toml documents every key).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate FILE: print OK, or the first error (exit 2)",
        description="Validate FILE: unknown tables and keys and bad values are errors. "
        "Prints OK and exits 0, or prints the error and exits 2.",
    )
    check.add_argument("file", type=Path, metavar="FILE")
    check.set_defaults(func=run_check)
    show = actions.add_parser(
        "show",
        help="print the settings that apply, with each key's type and range",
        description="Print the core tables (FILE's values over the defaults, or the defaults "
        "without FILE) and FILE's plugin tables as TOML, each key followed by its type and "
        "allowed range. `edge-arasl plugins` lists every installed plugin's keys the same way.",
    )
    show.add_argument("file", type=Path, metavar="FILE", nargs="?")
    show.set_defaults(func=run_show)


def run_check(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    enabled = ", ".join(config.enabled_plugins()) or "none"
    print(f"{args.file}: OK (source: {config.source.kind}; plugins enabled: {enabled})")
    return 0


def run_show(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    print(f"# The settings that apply ({config.where}): value  # type, allowed range\n")
    print("\n\n".join(show_tables(config)))
    return 0


def show_tables(config: Config) -> list[str]:
    """Each core table, then each plugin table of ``config``, rendered."""
    tables = [
        render_table(name, cls, values_of(getattr(config, name)))
        for name, cls in CORE_TABLES.items()
    ]
    entries = registry.scan()
    for name, table in config.plugins.items():
        cls = entries[name].cls
        enabled = f"enabled = {'true' if table.get('enabled') else 'false'}  # bool"
        if cls is None:
            tables.append(f"# [{name}]: plugin {entries[name].target} cannot be loaded")
            continue
        settings = registry.plugin_settings(cls, table, f"{config.where}: [{name}]")
        tables.append(render_table(name, cls.Settings, values_of(settings), [enabled]))
    return tables
