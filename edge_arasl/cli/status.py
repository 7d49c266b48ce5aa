"""Placeholder for the `status` sub-command (replaced by its implementation)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
