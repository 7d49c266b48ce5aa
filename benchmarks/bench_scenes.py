"""How ``edge-arasl process`` does on harder make-demo videos: busy rooms, a moving hand.

Run by hand (nothing here is asserted by tests)::

    python benchmarks/bench_scenes.py                          # 8 texts x 2 regions x 2 rates
    python benchmarks/bench_scenes.py --hand auto --sequences 12 --json > scenes.json
    python benchmarks/bench_scenes.py --scenes plain busy --regions fixed --drift
    python benchmarks/bench_scenes.py --data arasl.npz --fold-split models/folds/fold0.json \
        --process-cmd "python -m edge_arasl process --config C"  # C: that fold's model

1. Spells ``--sequences`` random three-word texts (2-5 letters a word, a doubled letter in
   every third; letters drawn from those in the samples folder) with
   :func:`edge_arasl.demo.make_demo`, once per condition: each scene (``--scenes``, default
   ``busy``), each hand region (``fixed``: always the ``--roi`` region; ``moving``: a new
   position and size for every letter) and each frame rate (``--fps``, default 15 and 30).
   One text has the same signing (samples, poses, timings) in every condition.
2. Runs ``edge-arasl process VIDEO --json`` on each video in a subprocess, with ``--roi``
   and ``--hand`` passed through when given (``--process-cmd`` runs another command, e.g.
   another checkout's ``python -m edge_arasl process``).
3. Reports per condition: CER (edit distance of the letter sequence over the truth's
   letters), WER, word-boundary errors (edit distance of the letters-per-word counts), and
   false letters per minute of hand-free video: letters whose middle falls where the truth
   has no hand in view (its ``hand_free`` spans, each from ``LAG_S`` after it starts, as
   the decoder's smoothing lags), over the length of those spans; and how many of those
   spans hold a false letter (``spans``: a static background read as a letter tends to give
   one long letter per span, so the rate is bounded by the number of pauses).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fingerspelling import align, boundary_errors, export_validation_images, random_text

from edge_arasl.demo import load_samples, make_demo
from edge_arasl.labels import join_classes
from edge_arasl.region import Roi

#: A decoded letter starts this long after the hand does (smoothing, hold): a letter ending
#: just inside a hand-free span is the hand that just left, not a false one.
LAG_S = 0.25
REGIONS: dict[str, bool | str] = {"fixed": False, "moving": "letter"}


@dataclass(frozen=True)
class Job:
    sequence: int
    text: str
    scene: str
    region: str
    fps: float

    @property
    def condition(self) -> str:
        return f"{self.scene}/{self.region}/{self.fps:g}"


def run_job(job: Job, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Make one video, process it, and score what came back against its truth."""
    video = (tmp / f"{job.condition.replace('/', '_')}_{job.sequence}.mp4").resolve()
    roi = Roi.parse(args.roi) if args.roi else None
    truth = make_demo(
        video, job.text, samples=args.samples, seed=args.seed * 1000 + job.sequence,
        fps=job.fps, roi=roi, scene=job.scene, move=REGIONS[job.region], drift=args.drift,
    )  # fmt: skip
    cmd = [*shlex.split(args.process_cmd), str(video), "--json"]
    cmd += ["--roi", args.roi] if args.roi else []
    cmd += ["--hand", args.hand] if args.hand else []
    # Run from the video's folder: `python -m` puts the working directory first on the path.
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=video.parent)
    if done.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    letters = [r for r in records if r["type"] == "letter"]
    words = [r["classes"] for r in records if r["type"] == "word"]
    spans = [(a + LAG_S, b) for a, b in truth["hand_free"] if b - a > LAG_S]
    false = [
        r for r in letters if any(a <= (r["start"] + r["end"]) / 2 < b for a, b in spans)
    ]  # fmt: skip
    truth_letters = [c for w in truth["words"] for c in w]
    if not args.keep:
        video.unlink()
    return {
        "condition": job.condition,
        "text": truth["text"],
        "got": " ".join(join_classes(w) for w in words),
        "letters": len(truth_letters),
        "letter_errors": align(truth_letters, [r["class"] for r in letters])[0],
        "words": len(truth["words"]),
        "word_errors": align([" ".join(w) for w in truth["words"]], [" ".join(w) for w in words])[
            0
        ],
        "boundary_errors": boundary_errors(truth["words"], words),
        "false_letters": len(false),
        "hand_free_spans": len(spans),
        "spans_with_false": sum(
            any(a <= (r["start"] + r["end"]) / 2 < b for r in false) for a, b in spans
        ),
        "hand_free_s": sum(b - a for a, b in spans),
        "seconds": truth["seconds"],
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        c = out.setdefault(row["condition"], {"videos": 0})
        c["videos"] += 1
        for key in (
            "letters", "letter_errors", "words", "word_errors", "boundary_errors",
            "hand_free_spans", "spans_with_false",
        ):  # fmt: skip
            c[key] = c.get(key, 0) + row[key]
        for key in ("false_letters", "hand_free_s", "seconds"):
            c[key] = c.get(key, 0) + row[key]
    for c in out.values():
        c["cer"] = c["letter_errors"] / max(1, c["letters"])
        c["wer"] = c["word_errors"] / max(1, c["words"])
        minutes = c["hand_free_s"] / 60
        c["false_letters_per_min"] = c["false_letters"] / minutes if minutes else None
        c["hand_free_s"] = round(c["hand_free_s"], 2)
        c["seconds"] = round(c["seconds"], 2)
    return out


def print_table(conditions: dict[str, dict[str, Any]], header: str) -> None:
    print(header)
    print(
        f"  {'scene/region/fps':<20} {'videos':>6} {'letters':>7} {'CER':>7} {'words':>5}"
        f" {'WER':>7} {'bound.':>6} {'false':>5} {'hand-free':>9} {'false/min':>9} {'spans':>7}"
    )
    for name, c in conditions.items():
        per_min = c["false_letters_per_min"]
        print(
            f"  {name:<20} {c['videos']:6d} {c['letters']:7d} {c['cer']:7.1%} {c['words']:5d}"
            f" {c['wer']:7.1%} {c['boundary_errors']:6d} {c['false_letters']:5d}"
            f" {c['hand_free_s']:8.1f}s {per_min if per_min is not None else float('nan'):9.2f}"
            f" {c['spans_with_false']:3d}/{c['hand_free_spans']:<3d}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=8, help="texts per condition")
    parser.add_argument("--fps", type=float, nargs="+", default=[15.0, 30.0])
    parser.add_argument("--scenes", nargs="+", default=["busy"], choices=("plain", "busy"))
    parser.add_argument(
        "--regions", nargs="+", default=list(REGIONS), choices=list(REGIONS), help="hand region"
    )
    parser.add_argument("--drift", action="store_true", help="a slowly changing background")
    parser.add_argument("--seed", type=int, default=1)
    images = parser.add_mutually_exclusive_group()
    images.add_argument("--samples", type=Path, help="<class>/*.png images (default: shipped)")
    images.add_argument(
        "--data", type=Path, help="ArASL .npz: use 5 images a class of its validation blocks"
    )
    parser.add_argument(
        "--fold-split", type=Path,
        help="with --data: a fold list (models/folds/foldK.json); its test blocks, less the "
        "shipped model's, for that fold's model (named in --process-cmd's config)",
    )  # fmt: skip
    parser.add_argument("--roi", metavar="X,Y,W,H", help="the region, for the videos and process")
    parser.add_argument(
        "--hand", choices=("fixed", "auto"), help="passed to process (default: not passed)"
    )
    parser.add_argument(
        "--process-cmd",
        default=f"{shlex.quote(sys.executable)} -m edge_arasl process",
        help="the command run on each video (default: this Python's edge_arasl process)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="videos made and processed at once")
    parser.add_argument("--keep", type=Path, help="keep the videos and truths in this folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.roi:
        Roi.parse(args.roi)  # ValueError now, not in every job
    if args.fold_split and not args.data:
        parser.error("--fold-split needs --data")

    with tempfile.TemporaryDirectory() as tmp:
        if args.data:  # to choose settings on: images the shipped model was trained without
            samples = Path(tmp) / "samples"
            args.samples = export_validation_images(args.data, samples, 5, args.fold_split)
        return run_all(args)


def images_used(args: argparse.Namespace) -> str:
    if args.fold_split:
        return f"test blocks of {args.fold_split}, less the shipped model's"
    return "validation blocks" if args.data else str(args.samples or "shipped samples")


def run_all(args: argparse.Namespace) -> int:
    signs = sorted(load_samples(args.samples))
    rng = np.random.default_rng(args.seed)
    texts = [random_text(rng, 3, doubled=s % 3 == 0, signs=signs) for s in range(args.sequences)]
    jobs = [
        Job(s, text, scene, region, fps)
        for scene in args.scenes
        for region in args.regions
        for fps in args.fps
        for s, text in enumerate(texts)
    ]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            rows = []
            for i, row in enumerate(pool.map(lambda j: run_job(j, args, folder), jobs)):
                rows.append(row)
                print(f"  {i + 1}/{len(jobs)} {row['condition']}: {row['got']}", file=sys.stderr)
    conditions = summarise(rows)
    hand = args.hand or "not passed (process's default)"
    setup = {
        "images": images_used(args),
        "hand": args.hand,
        "roi": args.roi,
        "drift": args.drift,
        "seed": args.seed,
        "sequences": args.sequences,
        "process_cmd": args.process_cmd,
        "minutes": round((time.perf_counter() - t0) / 60, 2),
    }
    if args.json:
        print(json.dumps({"setup": setup, "conditions": conditions, "videos": rows}, indent=1))
    else:
        print_table(
            conditions,
            f"--hand {hand}, --roi {args.roi or 'default'}, drift {args.drift},"
            f" seed {args.seed}, {setup['minutes']} min",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
