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
from edge_arasl.pipeline import Observer, build_pipeline, stop_on_signals
from edge_arasl.region import Mode
from edge_arasl.service import Service
from edge_arasl.sources import open_source

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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # sd_notify, the status file and SIGHUP reload (which runs the pipeline again)
    Service(args.config).run(functools.partial(run_pipeline, hand=args.hand))
    return 0


def run_pipeline(config: Config, observers: Sequence[Observer], hand: Mode | None = None) -> bool:
    """One pipeline run on ``config`` (``hand`` overrides its region mode); True if
    SIGINT/SIGTERM stopped it."""
    if hand is not None:  # again after every reload, which reads the file anew
        config = config.replace(region=dataclasses.replace(config.region, mode=hand))
    source = open_source(config.source, realtime=True)
    try:
        pipeline = build_pipeline(config, source, mode="run", record=False, observers=observers)
    except BaseException:
        source.close()
        raise
    log.info(
        "running: source %s (%s), device id %s, plugins: %s",
        config.source.kind,
        source.name,
        config.service.resolved_device_id,
        ", ".join(config.enabled_plugins()) or "none",
    )
    with stop_on_signals(pipeline) as caught:
        summary = pipeline.run()
    log.info(
        "stopped after %d frames (%d dropped), %d letters, %d words",
        summary.frames,
        summary.frames_dropped,
        pipeline.stats.letters,
        pipeline.stats.words,
    )
    return bool(caught)
