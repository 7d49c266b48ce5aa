"""``edge-arasl make-demo OUT.mp4 --text "..."``: compose a fingerspelling test video."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from edge_arasl.demo import make_demo, truth_path
from edge_arasl.errors import UserError
from edge_arasl.scenes import SCENES

log = logging.getLogger("edge_arasl.demo")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 640x480") from None
    return width, height


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "make-demo",
        help="compose a fingerspelling video from sample sign images",
        description="Compose a video that fingerspells TEXT from still sign images (by "
        "default the held-out samples shipped with the model), and write the ground truth "
        "next to it (OUT with .json: the classes of each word, and each letter's times, "
        "sample and pixel box). --scene busy, --move and --drift make harder videos: clutter "
        "where the hand is not, a hand that moves between letters, a changing room.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="video to write (.mp4 or .avi)")
    p.add_argument("--text", required=True, help='Arabic words to spell, e.g. "مدد"')
    p.add_argument("--samples", type=Path, metavar="DIR", help="folder of <class>/*.png images")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--fps", type=float, default=30.0, help="frame rate (default: 30)")
    p.add_argument(
        "--size",
        type=_size,
        default=(640, 480),
        metavar="WxH",
        help="frame size (default: 640x480)",
    )
    p.add_argument(
        "--scene",
        choices=SCENES,
        default="plain",
        help="background: a plain wall, or a busy room (shelves, posters, cloth, lines, "
        "coloured noise) that also fills the empty hand region (default: plain)",
    )
    p.add_argument(
        "--move",
        nargs="?",
        const="letter",
        choices=("letter", "word"),
        help="show the hand at a new position and size for every letter (--move, or --move "
        "letter) or every word (--move word); the truth gives each letter's pixel box "
        "(default: always the default region)",
    )
    p.add_argument(
        "--drift",
        action="store_true",
        help="let the background pan slowly and its lighting change (default: static)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.samples is not None and not args.samples.is_dir():
        raise UserError(f"{args.samples}: no such folder of sample images")
    truth = make_demo(
        args.out,
        args.text,
        samples=args.samples,
        seed=args.seed,
        fps=args.fps,
        size=args.size,
        scene=args.scene,
        move=args.move or False,
        drift=args.drift,
    )
    n_letters = sum(len(word) for word in truth["words"])
    log.info(
        "wrote %s (%.1f s, %d words, %d letters) and %s",
        args.out,
        truth["seconds"],
        len(truth["words"]),
        n_letters,
        truth_path(args.out),
    )
    return 0
