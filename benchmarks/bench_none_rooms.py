"""How often the CNN alone reads a real room without a hand as `none`.

Run by hand on the hands-in-frames development set (real photos of signers in rooms, faces
visible: nothing from it is committed, only these figures)::

    python benchmarks/bench_none_rooms.py --data hands_in_frames.npz [--model M.tflite]

From each photo the four corner squares of ``--side`` times its short side are cut, and those
that do not touch the labelled hand box are kept: walls, windows, shelves, shirts and faces,
what an empty ``fixed`` rectangle or a hand's last place shows once the hand has gone. Each is
read by the CNN alone (no landmark check), once per ``[classifier] views`` value, as the
daemon would read it. Reports the share with `none` on top, and how many give some sign at
least ``--sure`` (``[hand] cnn_alone_min``: what the hand check would let through).
The photos are of other sign languages; only their hand-free parts are read, so they say
nothing about letters.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from bench_hand_finding import photos

from edge_arasl.classifier import VIEWS, Classifier
from edge_arasl.hand.tracker import HandSettings
from edge_arasl.labels import NONE_CLASS


def corner_squares(size: tuple[int, int], hand: np.ndarray, side: float) -> list[np.ndarray]:
    """``x0, y0, x1, y1`` of the corner squares of an ``(h, w)`` image that miss ``hand``."""
    h, w = size
    s = side * min(h, w)
    squares = [np.array([x, y, x + s, y + s]) for x in (0.0, w - s) for y in (0.0, h - s)]
    return [q for q in squares if not (q[:2] < hand[2:]).all() or not (hand[:2] < q[2:]).all()]


def evaluate(data: Path, model: Path | None, side: float, sure: float) -> dict[str, object]:
    readers = {views: Classifier(model, views=views) for views in VIEWS}
    classes = next(iter(readers.values())).classes
    none = classes.index(NONE_CLASS)
    signs = np.arange(len(classes)) != none
    tops: dict[str, list[bool]] = {views: [] for views in VIEWS}
    sure_signs = dict.fromkeys(VIEWS, 0)
    for _, image, hand in photos(data):
        h, w = image.shape[:2]
        for x0, y0, x1, y1 in corner_squares((h, w), hand, side):
            square = np.ascontiguousarray(image[round(y0) : round(y1), round(x0) : round(x1)])
            for views, classifier in readers.items():
                probs = classifier.probabilities(square, "rgb")
                tops[views].append(int(probs.argmax()) == none)
                sure_signs[views] += int(probs[signs].max() >= sure)
    return {
        views: {
            "squares": len(tops[views]),
            "none_on_top": round(float(np.mean(tops[views])), 4),
            f"sign_at_{sure:g}": sure_signs[views],
        }
        for views in VIEWS
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="hands_in_frames.npz")
    parser.add_argument("--model", type=Path, help="the CNN (.tflite; default: shipped)")
    parser.add_argument("--side", type=float, default=0.45, help="square side / short side")
    parser.add_argument(
        "--sure", type=float, default=HandSettings.cnn_alone_min, help="cnn_alone_min"
    )
    args = parser.parse_args()
    print(json.dumps(evaluate(args.data, args.model, args.side, args.sure), indent=1))


if __name__ == "__main__":
    main()
