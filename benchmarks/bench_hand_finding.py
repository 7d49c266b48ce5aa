"""How well the hand is found in real photos: box recall, landmark presence, false hands, time.

Run by hand on the hands-in-frames development set (real photos of signers, faces visible:
nothing from it is committed, only these figures)::

    python benchmarks/bench_hand_finding.py --data hands_in_frames.npz [--min-palm-score 0.5]

Each photo is searched as ``auto`` mode searches a frame with no hand tracked yet: the palm
detector on the whole image, then the landmark model on each palm's crop, the first with
presence >= ``--min-presence`` kept (:class:`edge_arasl.hand.tracker.PalmSearch`). With
``--scan S`` a photo whose palms hold no hand is also scanned with the landmark model, window
after window of the grid that auto mode would read over successive searches.

Measures, per part of the set (BISINDO: one signer in a room, hands small; ASL: hands close
to the camera in many rooms):

- **palm recall**: photos where some detected palm's centre lies in the labelled hand box
  (the BISINDO boxes often hold both hands: any palm inside counts);
- **hand recall**: photos where the hand found (palm + landmarks present) has its landmark
  box centre in the labelled box;
- **presence rate**: photos where any hand was found at all;
- **IoU**: median intersection over union of the found hand's landmark box (widened by 20 %,
  as a hand box includes the skin around the joints) with the labelled box, over hits;
- **wrong hands**: photos where the hand found lies outside the labelled box;
- **search time**: median milliseconds of one search (1 thread).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from edge_arasl.hand.tracker import (
    HandSettings,
    PalmSearch,
    load_landmarks,
    load_palms,
    scan_windows,
)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ``x0, y0, x1, y1`` boxes."""
    inter = np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None).prod()
    union = (a[2:] - a[:2]).prod() + (b[2:] - b[:2]).prod() - inter
    return float(inter / union) if union > 0 else 0.0


def inside(point: np.ndarray, box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def landmark_box(points: np.ndarray, widen: float = 1.2) -> np.ndarray:
    lo, hi = points[:, :2].min(axis=0), points[:, :2].max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo) / 2 * widen
    return np.concatenate([centre - half, centre + half])


def photos(data: Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Each photo of the set: its part (sign language), RGB image and hand box in pixels."""
    archive = np.load(data)
    images, sizes, boxes = archive["images"], archive["sizes"], archive["boxes"]
    parts = archive["sign_language"]  # an NpzFile reads a key's whole array on every lookup
    for i in range(len(images)):
        h, w = (int(v) for v in sizes[i])
        image = np.ascontiguousarray(images[i, :h, :w])
        yield str(parts[i]), image, boxes[i, 0] * np.array([w, h, w, h])


def evaluate(data: Path, settings: HandSettings) -> dict[str, dict[str, float]]:
    palms, landmarks = load_palms(settings), load_landmarks(settings)
    search = PalmSearch(palms, landmarks, settings.min_presence, scan=settings.scan)
    counts: dict[str, dict[str, list[float]]] = {}
    for part, image, truth in photos(data):
        h, w = image.shape[:2]
        row = counts.setdefault(part, {k: [] for k in ("palm", "hand", "any", "wrong")})
        row.setdefault("iou", [])
        row.setdefault("ms", [])
        found = palms.detect(image, "rgb")
        search.reset_scan()
        row["palm"].append(any(inside(p.box[:2], truth) for p in found))
        started = time.perf_counter()
        hand = search(image, "rgb")
        row["ms"].append((time.perf_counter() - started) * 1000)
        windows = len(scan_windows(w, h, settings.scan)) if settings.scan else 0
        for _ in range(windows - 1):  # the following frames of a still scene
            if hand is not None:
                break
            hand = search(image, "rgb")
        row["any"].append(hand is not None)
        if hand is None:
            row["hand"].append(False)
            row["wrong"].append(False)
            continue
        box = landmark_box(hand.points)
        hit = inside((box[:2] + box[2:]) / 2, truth)
        row["hand"].append(hit)
        row["wrong"].append(not hit)
        if hit:
            row["iou"].append(iou(box, truth))
    report = {}
    for part, row in counts.items():
        report[part] = {
            "photos": len(row["palm"]),
            "palm_recall": float(np.mean(row["palm"])),
            "hand_recall": float(np.mean(row["hand"])),
            "presence_rate": float(np.mean(row["any"])),
            "median_iou": float(np.median(row["iou"])) if row["iou"] else 0.0,
            "wrong_hands": int(np.sum(row["wrong"])),
            "search_ms": float(np.median(row["ms"])),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="hands_in_frames.npz")
    parser.add_argument("--min-palm-score", type=float, default=HandSettings.min_palm_score)
    parser.add_argument("--min-presence", type=float, default=HandSettings.min_presence)
    parser.add_argument("--scan", type=float, default=HandSettings.scan, help="[hand] scan")
    parser.add_argument("--palm-model", default="", help="another palm detector (.tflite)")
    parser.add_argument("--landmark-model", default="", help="another landmark model (.tflite)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    settings = HandSettings(
        min_palm_score=args.min_palm_score,
        min_presence=args.min_presence,
        scan=args.scan,
        palm_model=args.palm_model,
        landmark_model=args.landmark_model,
    )
    report = evaluate(args.data, settings)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(
        f"min_palm_score {args.min_palm_score}, min_presence {args.min_presence}, scan {args.scan}"
    )
    print("part      photos  palm recall  hand recall  presence  IoU   wrong  search ms")
    for part, r in report.items():
        print(
            f"{part:9} {r['photos']:6d}  {r['palm_recall']:10.1%}  {r['hand_recall']:10.1%}  "
            f"{r['presence_rate']:8.1%}  {r['median_iou']:.2f}  {r['wrong_hands']:5d}  "
            f"{r['search_ms']:9.1f}"
        )


if __name__ == "__main__":
    main()
