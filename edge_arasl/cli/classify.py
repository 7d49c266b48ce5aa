"""Placeholder for the `classify` sub-command (replaced by its implementation)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
