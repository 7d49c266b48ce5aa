"""The ``edge-arasl`` command: one module per sub-command, each with ``register(subparsers)``.

User errors (:class:`~edge_arasl.errors.UserError`) become one line on stderr and exit 2; a
traceback means a bug.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from edge_arasl import __version__
from edge_arasl.errors import UserError
from edge_arasl.logs import setup_logging
from edge_arasl.signals import early_signals

log = logging.getLogger("edge_arasl")

#: Sub-command modules in the order ``--help`` lists them.
COMMANDS = (
    "run",
    "process",
    "classify",
    "evaluate",
    "train",
    "train_landmarks",
    "make_demo",
    "plugins",
    "config",
    "status",
    "listen",
)


def add_hand_argument(parser: argparse.ArgumentParser, default: str = "[region] mode") -> None:
    """``--hand fixed|auto``, shared by the commands that read hands (``process``, ``run``, ...)."""
    from edge_arasl.region import MODES

    parser.add_argument(
        "--hand",
        choices=MODES,
        help="fixed: read the hand in the --roi rectangle (an empty one is no sign); auto: find "
        f"and track the hand anywhere in the frame (default: {default})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edge-arasl",
        description="Arabic Sign Language fingerspelling to Arabic text.",
    )
    parser.add_argument("--version", action="version", version=f"edge-arasl {__version__}")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="logging threshold (default: info); logs go to stderr",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"edge_arasl.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    with early_signals() as early:  # the imports take a while: a signal meanwhile is kept
        parser = build_parser()
        args = parser.parse_args(argv)
        early.hand_over = getattr(args, "stop_signals", False)
    setup_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"edge-arasl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
