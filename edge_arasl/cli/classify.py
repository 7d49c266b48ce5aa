"""``edge-arasl classify IMAGE...``: the top class of each image file.

One line per image, ``file<TAB>class<TAB>arabic<TAB>confidence``, or with ``--json`` one JSON
object per line. An unreadable image is reported on stderr and skipped; the others are still
classified, and the exit status is then 1. With ``--hand fixed|auto`` the hand is looked for
first, as the pipeline does (a photo of a room with a signer in it: ``--hand auto``); the line
then ends with the hand's box ``x,y,w,h`` (JSON ``box``), and an image without a hand is
``none``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from edge_arasl.classifier import VIEWS, Classifier, ClassifierSettings, Prediction
from edge_arasl.cli import add_hand_argument
from edge_arasl.errors import UserError
from edge_arasl.hand.tracker import HandSettings
from edge_arasl.landmark_classifier import LandmarkClassifier
from edge_arasl.preprocess import read_image_file
from edge_arasl.reader import SignReader
from edge_arasl.region import Box, Mode, RegionSettings, build_region
from edge_arasl.runtime import BACKENDS
from edge_arasl.sources.base import Frame


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="classify hand images with the sign model",
        description="Print the most probable sign of each image (any size, gray or colour).",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", type=Path, help="image file(s)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_hand_argument(parser, default="read the whole image, no hand search")
    add_model_arguments(parser)
    parser.set_defaults(func=run)


def add_model_arguments(
    parser: argparse.ArgumentParser, views: str = ClassifierSettings.views, about_views: str = ""
) -> None:
    """``--model``, ``--threads``, ``--backend`` and ``--views``, shared with ``evaluate``.

    ``views`` defaults to what the daemon reads; ``about_views`` says why where it does not.
    """
    parser.add_argument(
        "--model", type=Path, help="TFLite model, metadata .json beside it (default: shipped)"
    )
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads (default 1)")
    parser.add_argument(
        "--backend", choices=list(BACKENDS), help="interpreter (default: first one installed)"
    )
    parser.add_argument(
        "--views",
        choices=list(VIEWS),
        default=views,
        help=f"test-time views averaged, as [classifier] views (default: %(default)s{about_views})",
    )


def format_result(
    path: Path, prediction: Prediction, as_json: bool, hand: tuple[str, Box | None] | None = None
) -> str:
    """One output line; ``hand`` is ``(mode, hand box)`` when the hand was looked for."""
    confidence = round(prediction.confidence, 4)
    if as_json:
        record: dict[str, object] = {
            "file": str(path),
            "class": prediction.class_id,
            "text": prediction.text,
            "confidence": confidence,
        }
        if hand is not None:
            record["hand"], box = hand
            record["box"] = None if box is None else list(box)
        return json.dumps(record, ensure_ascii=False)
    line = f"{path}\t{prediction.class_id}\t{prediction.text}\t{confidence:.4f}"
    if hand is not None:
        line += "\t" + ("-" if hand[1] is None else ",".join(map(str, hand[1])))
    return line


class HandClassifier:
    """``classify --hand``: find the hand in each image, then read it as the pipeline does.

    ``fixed`` takes the whole image as the rectangle (no hand in it: ``none``); ``auto``
    searches the image with the palm detector and reads a square around the hand.
    """

    def __init__(self, classifier: Classifier, mode: Mode) -> None:
        self.classifier = classifier
        self.mode = mode
        settings = HandSettings()
        self.region = build_region(RegionSettings(mode, 0.0, 0.0, 1.0, 1.0), settings)
        landmarks = LandmarkClassifier(backend=classifier.backend)
        # single photos, no words: a weak reading is no sign, never an unread hand
        self.reader = SignReader(classifier, landmarks, replace(settings, unread_none_max=0.0))

    def classify(self, image: np.ndarray) -> tuple[Prediction, Box | None]:
        self.region.reset()  # every image is a new scene
        frame = Frame(image, 0.0, 0)
        located = self.region.locate(frame)
        box = None if located is None else located.hand_box
        return self.classifier.prediction(self.reader.read(frame, located)), box


def run(args: argparse.Namespace) -> int:
    classifier = Classifier(
        args.model, num_threads=args.threads, backend=args.backend, views=args.views
    )
    finder = HandClassifier(classifier, args.hand) if args.hand else None
    failed = 0
    for path in args.images:
        try:
            image = read_image_file(path)
            if finder is None:
                line = format_result(path, classifier.classify(image), args.json)
            else:
                prediction, box = finder.classify(image)
                line = format_result(path, prediction, args.json, (finder.mode, box))
        except UserError as exc:
            print(f"edge-arasl: error: {exc}", file=sys.stderr, flush=True)
            failed += 1
            continue
        print(line, flush=True)
    return 1 if failed else 0
