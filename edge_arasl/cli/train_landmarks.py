"""``edge-arasl train-landmarks``: the landmark classifier and its fusion weight (train extra)."""

from __future__ import annotations

import argparse
import importlib.resources
import json
import sys
from pathlib import Path

from edge_arasl.classifier import VIEWS
from edge_arasl.training.landmarks import LandmarkTrainOptions

_DEFAULTS = LandmarkTrainOptions(Path(), Path(), Path(), Path())


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-landmarks",
        help="train the landmark classifier on ArASL landmarks and choose its fusion weight "
        "(needs: pip install 'edge-arasl[train]')",
        description="Read hand landmarks from every image (cached), train a small MLP on the "
        "training blocks of the split, choose epochs and the fusion weight with the CNN on "
        "its validation blocks, and score CNN, landmarks and fusion on its test blocks.",
    )
    p.add_argument("--data", required=True, type=Path, help="the ArASL .npz the split was made on")
    p.add_argument(
        "--cache",
        required=True,
        type=Path,
        help="landmark cache (.npz): written as it goes, resumed and reused if present",
    )
    p.add_argument("--out", required=True, type=Path, help="folder for the model and report.json")
    p.add_argument(
        "--split",
        type=Path,
        default=Path(str(importlib.resources.files("edge_arasl_models") / "split.json")),
        help="the block split of the shipped CNN (default: models/split.json)",
    )
    p.add_argument("--cnn-model", type=Path, help="sign classifier to fuse with (default: shipped)")
    p.add_argument(
        "--choose-with",
        type=Path,
        metavar="CNN",
        help="the sign classifier whose readings of the validation blocks choose the fusion "
        "weight (default: --cnn-model's); give the fused CNN's stage-1 model when its stage 2 "
        "trained on those blocks, as the shipped recipe's does",
    )
    p.add_argument(
        "--views",
        choices=list(VIEWS),
        default=_DEFAULTS.views,
        help="the CNNs' test-time views, as the runtime's [classifier] views will be "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=_DEFAULTS.epochs,
        help="epochs of cosine decay; the one best on validation is kept (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=_DEFAULTS.seed,
        help="seeds the weights, dropout and jitter; the split stays the file's "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--mirror",
        choices=["never", "handedness"],
        default="never",
        help="mirror the hands the landmark model calls left (default: never; see "
        "models/MODEL_CARD.md for why)",
    )
    p.add_argument(
        "--presence",
        type=float,
        default=_DEFAULTS.presence,
        help="landmark-model presence below which a crop holds no hand (default: %(default)s)",
    )
    p.add_argument(
        "--augmentation",
        type=float,
        default=_DEFAULTS.augmentation,
        help="strength of the landmark jitter, 0 for none (default: %(default)s)",
    )
    p.add_argument(
        "--warped-copies",
        type=int,
        default=_DEFAULTS.warped_copies,
        help="also train on the landmarks of this many warped copies of the training images, "
        "each cached beside --cache (default: %(default)s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edge_arasl.training.landmarks import run as train

    opts = LandmarkTrainOptions(
        data=args.data,
        cache=args.cache,
        out=args.out,
        split=args.split,
        cnn_model=args.cnn_model,
        choose_with=args.choose_with,
        epochs=args.epochs,
        seed=args.seed,
        mirror=args.mirror == "handedness",
        presence=args.presence,
        augmentation=args.augmentation,
        views=args.views,
        warped_copies=args.warped_copies,
    )
    report = train(opts, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(report, indent=1))
    return 0
