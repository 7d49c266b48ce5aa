"""The ``edge-arasl`` command: one module per sub-command, each with ``register(subparsers)``.

User errors (:class:`~edge_arasl.errors.UserError`) become one line on stderr and exit 2; a
traceback means a bug. Standard output is handled here once for every command: text the
output encoding cannot hold is written as backslash escapes (``\\u0628``), and a reader that
goes away (``| head -1``) ends the command quietly with :data:`BROKEN_PIPE`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys

from edge_arasl import __version__
from edge_arasl.errors import UserError
from edge_arasl.logs import setup_logging
from edge_arasl.signals import early_signals

log = logging.getLogger("edge_arasl")

#: Exit status when stdout's reader has gone: 128 + SIGPIPE, what a shell reports for a
#: command that the signal ended (``yes | head -1`` under ``set -o pipefail``).
BROKEN_PIPE = 141

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


def escape_unencodable_output() -> None:
    """Never a traceback for Arabic text on an ASCII or Latin-1 stdout (``PYTHONIOENCODING``).

    The encoding stays what the environment chose (UTF-8 in any usual locale, ``LANG=C``
    included); only characters it cannot hold become ``\\uXXXX``, which JSON also reads.
    """
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def reader_gone() -> int:
    """Stdout's pipe is closed: point it at /dev/null so the interpreter's last flush cannot
    fail again, and end with :data:`BROKEN_PIPE`, without a traceback."""
    with contextlib.suppress(OSError, ValueError):  # not a file: an in-process caller's capture
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return BROKEN_PIPE


def main(argv: list[str] | None = None) -> int:
    escape_unencodable_output()
    with early_signals() as early:  # the imports take a while: a signal meanwhile is kept
        parser = build_parser()
        args = parser.parse_args(argv)
        early.hand_over = getattr(args, "stop_signals", False)
    setup_logging(args.log_level)
    try:
        code = int(args.func(args) or 0)
        if sys.stdout is not None:  # None: started with stdout closed (``>&-``)
            sys.stdout.flush()  # a closed pipe is found here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        return reader_gone()
    except UserError as exc:
        print(f"edge-arasl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
