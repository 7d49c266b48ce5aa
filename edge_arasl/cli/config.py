"""``edge-arasl config check FILE``: validate a config file without starting anything."""

from __future__ import annotations

import argparse
from pathlib import Path

from edge_arasl.config import load_config


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "config",
        help="check a config file",
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


def run_check(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    enabled = ", ".join(config.enabled_plugins()) or "none"
    print(f"{args.file}: OK (source: {config.source.kind}; plugins enabled: {enabled})")
    return 0
