"""``edge-arasl run``: the daemon. Live frames in, letters and words out to the plugins.

Runs until SIGINT or SIGTERM, then flushes and stops every plugin and exits 0. Live sources
deliver the newest frame only, so the output never lags behind the signer. Under systemd it
notifies readiness and feeds the watchdog; SIGHUP reloads the config (:mod:`edge_arasl.service`).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import logging
from collections.abc import Sequence
from pathlib import Path

from edge_arasl.cli import add_hand_argument
from edge_arasl.config import Config
from edge_arasl.pipeline import Observer, open_pipeline
from edge_arasl.region import Mode
from edge_arasl.service import Service
from edge_arasl.signals import StopSignals

log = logging.getLogger("edge_arasl.run")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the daemon on the configured camera",
        description="Recognise fingerspelling from the configured source until stopped "
        "(SIGINT/SIGTERM) and deliver letters and words to the enabled output plugins.",
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="config file (default: the built-in defaults that config.toml documents)",
    )
    add_hand_argument(p)
    p.set_defaults(func=run, stop_signals=True)  # takes over signals caught while starting


def run(args: argparse.Namespace) -> int:
    # Signals first: a SIGTERM while the model loads still stops cleanly, with exit 0.
    with StopSignals() as signals:
        # sd_notify, the status file and SIGHUP reload (which runs the pipeline again)
        Service(args.config).run(functools.partial(run_pipeline, signals=signals, hand=args.hand))
    return 0


def run_pipeline(
    config: Config, observers: Sequence[Observer], signals: StopSignals, hand: Mode | None = None
) -> bool:
    """One pipeline run on ``config`` (``hand`` overrides its region mode); True if
    SIGINT/SIGTERM stopped it."""
    if hand is not None:  # again after every reload, which reads the file anew
        config = config.replace(region=dataclasses.replace(config.region, mode=hand))
    pipeline = open_pipeline(config, mode="run", realtime=True, observers=observers, record=False)
    signals.attach(pipeline)
    log.info(
        "running: source %s (%s), device id %s, plugins: %s",
        config.source.kind,
        pipeline.source.name,
        config.service.resolved_device_id,
        ", ".join(config.enabled_plugins()) or "none",
    )
    summary = pipeline.run()
    log.info(
        "stopped after %d frames (%d dropped), %d letters, %d words",
        summary.frames,
        summary.frames_dropped,
        pipeline.stats.letters,
        pipeline.stats.words,
    )
    return bool(signals.caught)
