"""Placeholder for the `process` sub-command (replaced by its implementation)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
