"""``edge-arasl evaluate --data PATH``: accuracy and per-class figures of a model on a data set.

The data is an ``.npz`` in the shared format or a folder of class sub-folders. Its classes are
matched to the model's by name, so a data set with only some of the classes works; a class the
model does not know is an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.classifier import Classifier, ClassifierSettings
from edge_arasl.cli.classify import add_model_arguments
from edge_arasl.dataset import Dataset, held_out, held_out_blocks, load_dataset, model_labels
from edge_arasl.errors import UserError
from edge_arasl.evaluation import (
    Report,
    block_interval,
    block_scores,
    evaluate_predictions,
    format_report,
)
from edge_arasl.labels import ARABIC

#: Images classified between progress updates.
CHUNK = 500

#: Blocks listed in the plain-text report (the JSON has all of them).
WORST_BLOCKS = 6


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a model's accuracy on a labelled data set",
        description="Accuracy, per-class precision/recall/F1 of the model on labelled images.",
    )
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        metavar="PATH",
        help=".npz (images, labels, classes) or a folder of <class>/<image> sub-folders",
    )
    parser.add_argument(
        "--split",
        type=Path,
        metavar="SPLIT_JSON",
        help="evaluate only the held-out blocks listed in a model's split.json",
    )
    parser.add_argument(
        "--blocks",
        choices=("test", "val"),
        default="test",
        help="which held-out blocks of --split (default: %(default)s)",
    )
    parser.add_argument(
        "--margin",
        type=int,
        metavar="PIXELS",
        help="frame the images with this margin instead of the model's own (to compare)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_model_arguments(
        parser,
        views="one",
        about_views=": the model's own figure, as training reports it; the daemon reads "
        f"{ClassifierSettings.views!r}",
    )
    parser.set_defaults(func=run)


def predict(classifier: Classifier, images: np.ndarray, show_progress: bool) -> np.ndarray:
    """Top class index of each prepared image, in chunks, with a progress line on a TTY."""
    predictions = np.empty(len(images), dtype=np.int64)
    for start in range(0, len(images), CHUNK):
        chunk = images[start : start + CHUNK]
        predictions[start : start + len(chunk)] = classifier.probabilities_batch(chunk).argmax(1)
        if show_progress:
            done = start + len(chunk)
            print(f"\revaluating {done}/{len(images)}", end="", file=sys.stderr, flush=True)
    if show_progress:
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    return predictions


def run(args: argparse.Namespace) -> int:
    classifier = Classifier(
        args.model,
        num_threads=args.threads,
        backend=args.backend,
        margin=args.margin,
        views=args.views,
    )
    data = load_dataset(args.data)
    blocks = None
    if args.split is not None:
        blocks = held_out_blocks(data, args.split, args.blocks)
        data = held_out(data, blocks)
    true = model_labels(data, classifier.classes)
    images = data.images
    if images.shape[1:] != (classifier.input_size, classifier.input_size):
        raise UserError(
            f"{data.source}: images are {images.shape[1]}x{images.shape[2]}, the model takes "
            f"{classifier.input_size}x{classifier.input_size}"
        )
    pred = predict(classifier, images, show_progress=sys.stderr.isatty())
    report = evaluate_predictions(true, pred, classifier.classes)
    scores = block_scores(true, pred, blocks, classifier.classes) if blocks else None
    if args.json:
        result = {
            "model": str(classifier.model_path),
            "data": data.source,
            "margin": classifier.input_margin,
            "views": classifier.views,
            **report.to_dict(),
        }
        if scores is not None:
            result["accuracy_interval"] = list(block_interval(scores))
            result["blocks"] = scores
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_text(classifier, data, report, scores)
    return 0


def print_text(
    classifier: Classifier, data: Dataset, report: Report, scores: list[dict[str, Any]] | None
) -> None:
    """The per-class table and, for a split, the blocks the model reads worst."""
    print(
        f"model {classifier.model_path} (margin {classifier.input_margin}, "
        f"views {classifier.views})"
    )
    print(f"data  {data.source}: {report.n} images")
    print(format_report(report, ARABIC))
    if scores:
        low, high = block_interval(scores)
        print(f"95% interval over resampled blocks: {low:.4f} - {high:.4f}")
        worst = sorted(scores, key=lambda b: b["accuracy"])[:WORST_BLOCKS]
        print(f"worst of {len(scores)} blocks (rows, accuracy, most often read as):")
        for b in worst:
            rows = f"{b['first']}-{b['last']}"
            print(f"  {b['class']:<8} {rows:<13} {b['accuracy']:6.1%}  {b['mistaken_for'] or '-'}")
