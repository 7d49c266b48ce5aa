"""``edge-arasl classify IMAGE...``: the top class of each image file.

One line per image, ``file<TAB>class<TAB>arabic<TAB>confidence``, or with ``--json`` one JSON
object per line. An unreadable image is reported on stderr and skipped; the others are still
classified, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from edge_arasl.classifier import Classifier, Prediction
from edge_arasl.errors import UserError
from edge_arasl.runtime import BACKENDS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="classify hand images with the sign model",
        description="Print the most probable sign of each image (any size, gray or colour).",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", type=Path, help="image file(s)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_model_arguments(parser)
    parser.set_defaults(func=run)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model``, ``--threads`` and ``--backend``, shared with ``evaluate``."""
    parser.add_argument(
        "--model", type=Path, help="TFLite model, metadata .json beside it (default: shipped)"
    )
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    parser.add_argument(
        "--backend", choices=list(BACKENDS), help="interpreter (default: first one installed)"
    )


def read_image(path: Path) -> np.ndarray:
    """Decode an image file to 8-bit gray or BGR; UserError naming the file otherwise."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None
    image = cv2.imdecode(data, cv2.IMREAD_ANYCOLOR) if data.size else None
    if image is None or image.size == 0:
        raise UserError(f"{path}: not a readable image")
    return image


def utf8_stdout() -> None:
    """Arabic text must print even under a non-UTF-8 locale (e.g. a bare ``LANG=C`` shell)."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    if encoding != "utf8" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")


def format_result(path: Path, prediction: Prediction, as_json: bool) -> str:
    confidence = round(prediction.confidence, 4)
    if as_json:
        record = {
            "file": str(path),
            "class": prediction.class_id,
            "text": prediction.text,
            "confidence": confidence,
        }
        return json.dumps(record, ensure_ascii=False)
    return f"{path}\t{prediction.class_id}\t{prediction.text}\t{confidence:.4f}"


def run(args: argparse.Namespace) -> int:
    classifier = Classifier(args.model, num_threads=args.threads, backend=args.backend)
    utf8_stdout()
    failed = 0
    try:
        for path in args.images:
            try:
                prediction = classifier.classify(read_image(path))
            except UserError as exc:
                print(f"edge-arasl: error: {exc}", file=sys.stderr, flush=True)
                failed += 1
                continue
            print(format_result(path, prediction, args.json), flush=True)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 1 if failed else 0
