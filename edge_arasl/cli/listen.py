"""Placeholder for the `listen` sub-command (replaced by its implementation)."""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
