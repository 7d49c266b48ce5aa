"""Placeholder for the `make_demo` sub-command (replaced by its implementation)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
