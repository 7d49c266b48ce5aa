"""``edge-arasl train``: train, quantise and evaluate the classifier (needs the train extra)."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from edge_arasl.training.options import TrainOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the int8 model from ArASL data (needs: pip install 'edge-arasl[train]')",
        description="Train on an ArASL .npz or class-folder tree, split in contiguous blocks, "
        "convert to int8 and evaluate float vs int8 on the held-out blocks.",
    )
    p.add_argument("--data", required=True, type=Path, help="ArASL .npz or folder of classes")
    p.add_argument("--out", required=True, type=Path, help="output folder for model and figures")
    p.add_argument(
        "--epochs",
        type=int,
        default=TrainOptions.epochs,
        help="epochs of cosine learning-rate decay (default: %(default)s)",
    )
    p.add_argument(
        "--swa-epochs",
        type=int,
        default=TrainOptions.swa_epochs,
        help="then N epochs at a tenth of the learning rate, their weights averaged and "
        "exported; 0 exports the epoch best on validation (default: %(default)s)",
    )
    p.add_argument("--batch-size", type=int, default=TrainOptions.batch_size)
    p.add_argument("--learning-rate", type=float, default=TrainOptions.learning_rate)
    p.add_argument(
        "--seed",
        type=int,
        default=TrainOptions.seed,
        help="seeds the block split (unless --split), the augmentation and the initial "
        "weights (default: %(default)s)",
    )
    p.add_argument(
        "--split",
        type=Path,
        metavar="SPLIT_JSON",
        help="train, validate and test on the blocks listed in this file (a cross-validation "
        "fold, models/folds/foldK.json) instead of a split drawn with --seed",
    )
    p.add_argument(
        "--init-seed",
        type=int,
        help="seed the initial weights and dropout apart from --seed, for another model on the "
        "same split and augmentation",
    )
    p.add_argument("--limit", type=int, help="use only the first N training rows (smoke run)")
    p.add_argument(
        "--samples-per-class",
        type=int,
        default=TrainOptions.samples_per_class,
        help="held-out test images saved beside the model (default: %(default)s)",
    )
    p.add_argument(
        "--train-on-val",
        action="store_true",
        help="train on the validation blocks too (needs --swa-epochs; no validation figure)",
    )
    p.add_argument(
        "--swa-strength",
        type=float,
        default=TrainOptions.swa_strength,
        help="augmentation strength of the averaged epochs, 0 (none) to 1 (full, as in the "
        "cosine epochs) (default: %(default)s)",
    )
    p.add_argument(
        "--margin",
        type=int,
        default=TrainOptions.margin,
        help="have the runtime shrink every input by this many pixels a side, edge pixels "
        "repeated (kept in the model's metadata; training sees the images as they are, the "
        "test figures and int8 calibration as the runtime will) (default: %(default)s)",
    )
    p.add_argument(
        "--none-clutter",
        type=float,
        default=TrainOptions.none_clutter,
        metavar="SHARE",
        help="share (0..1) of the synthetic none images cut from cluttered rooms; make model "
        "sets the shipped recipe's share (NONE_CLUTTER; models/MODEL_CARD.md) "
        "(default: %(default)s)",
    )
    p.add_argument("--init", type=Path, help="fine-tune this .keras model instead of starting anew")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from edge_arasl.training.trainer import train

    train(TrainOptions(**{f.name: getattr(args, f.name) for f in fields(TrainOptions)}))
    return 0
