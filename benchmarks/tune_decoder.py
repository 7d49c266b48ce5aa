"""Tune the temporal decoder's defaults on fingerspelling videos made from held-out images.

Run by hand; docs/decoder.md has the commands, timings and results::

    python benchmarks/tune_decoder.py --data arasl.npz --cache val.npz   # tune (validation)
    python benchmarks/tune_decoder.py --seed 2 --passes 0 --cache test.npz  # check (test)

1. Makes ``--sequences`` random videos per frame rate (15, 30 and 60 fps) with
   :func:`edge_arasl.demo.make_demo`: random words of 2-5 letters (every third with a doubled
   letter), letters held 0.4-1.2 s, blurred cross-fades of 0.1-0.25 s, a 0.2-0.4 s release
   between repeated letters, 0.9-1.5 s pauses between words, and camera noise on the crop.
   Timings are wider than the demo's own, so the defaults are not fitted to one script.
2. Runs the real int8 classifier on the hand region of every frame, and on two regions of the
   same frames that never see a hand (every letter read there is a false one), and caches the
   probabilities (``--cache``; a second run with the same file only searches). A fourth
   condition, ``30j``, is the 30 fps stream with 15% of frames dropped at random and +-5 ms
   timestamp jitter, as a busy live camera delivers.
3. Searches the decoder settings (coordinate descent from the defaults or ``--set`` values
   over a grid) for the lowest worst-case score over all conditions: character error rate
   (edit distance of the letter sequence, false letters included) plus the rate of
   word-boundary errors (edit distance of letters-per-word counts). Error counts tie over
   ranges of a parameter; each parameter goes to the middle of its widest best range.
4. Prints, for the starting and the best settings, per condition: CER, WER, boundary errors,
   false letters per minute of hand-free video, timing (median start error, delay from the
   letter's end to its emission) and the classifier's floor: its frame accuracy during holds
   and the CER of a per-letter majority vote that knows where each letter is.

Images: by default the held-out samples shipped with the model (``models/samples``, from the
test blocks); ``--samples`` takes another such folder, e.g. the one ``edge-arasl train`` writes
beside a model trained on another split. With ``--data`` the validation blocks of the data set
are used instead (the same block split as training, from ``models/split.json``): tune on
those, and keep the test blocks for checking.

One file of about 440 lines on purpose: a script run by hand whose four steps above read top
to bottom; nothing in the package imports it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fingerspelling import align, boundary_errors, export_validation_images, random_text

from edge_arasl.classifier import Classifier
from edge_arasl.decoder import DecoderSettings, Event, LetterDecoder
from edge_arasl.demo import DemoTiming, make_demo
from edge_arasl.labels import MODEL_CLASSES
from edge_arasl.plugin import LetterEvent, WordEvent
from edge_arasl.region import Roi

TIMING = DemoTiming(
    hold=(0.4, 1.2),
    transition=(0.1, 0.25),
    release=(0.2, 0.4),
    word_pause=(0.9, 1.5),
    lead_in=0.5,
    tail=1.0,
)

#: Regions of the same videos that never see the hand: every letter there is a false one.
BACKGROUND_ROIS = [Roi(0.02, 0.05, 0.25, 0.3333), Roi(0.73, 0.6, 0.25, 0.3333)]

GRID: dict[str, list[float]] = {
    "smoothing_s": [0.0, 0.02, 0.04, 0.06, 0.08, 0.12, 0.16, 0.2, 0.25],
    "enter": [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8],
    "exit": [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5],
    "none_max": [0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3, 0.5, 1.0],
    "hold_s": [0.08, 0.12, 0.16, 0.2, 0.25, 0.3, 0.4],
    "release_s": [0.06, 0.1, 0.15, 0.2, 0.25, 0.3],
    "word_gap_s": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2],
    "word_timeout_s": [1.5, 2.0, 2.5, 3.0, 4.0],
}


@dataclass
class Signal:
    """One condition of one sequence: per-frame probabilities, times and the truth."""

    condition: str
    probs: np.ndarray  # (frames, classes)
    times: np.ndarray  # (frames,)
    words: list[list[str]]  # truth
    letters: list[dict]  # truth letters with start/end


# -- making the data ----------------------------------------------------------------------


def classify_video(
    path: Path, rois: list[Roi], classifier: Classifier, noise: float, rng: np.random.Generator
) -> tuple[list[np.ndarray], np.ndarray]:
    """Probabilities of each region of every frame (with sensor noise added), and frame times."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    probs: list[list[np.ndarray]] = [[] for _ in rois]
    times: list[float] = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        for roi, out in zip(rois, probs, strict=True):
            x, y, w, h = roi.to_pixels(frame.shape[1], frame.shape[0])
            crop = frame[y : y + h, x : x + w].astype(np.float32)
            crop += rng.normal(0, noise, crop.shape).astype(np.float32)
            out.append(classifier.probabilities(np.clip(crop, 0, 255).astype(np.uint8)))
        times.append(len(times) / fps)
    cap.release()
    return [np.array(p, np.float32) for p in probs], np.array(times)


def make_signals(args: argparse.Namespace, classifier: Classifier) -> list[Signal]:
    signals: list[Signal] = []
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        samples = args.samples
        if args.data:
            samples = export_validation_images(args.data, Path(tmp) / "samples", 12)
        for s in range(args.sequences):
            text = random_text(rng, n_words=3, doubled=s % 3 == 0)
            noise = float(rng.uniform(1, 6))
            for fps in args.fps:
                video = Path(tmp) / f"seq{s}_{fps:g}.mp4"
                seed = args.seed * 1000 + s  # the same signing at every frame rate
                truth = make_demo(
                    video, text, samples=samples, seed=seed, fps=fps, size=(640, 480),
                    timing=TIMING,
                )  # fmt: skip
                (probs, *empty), times = classify_video(
                    video, [Roi(), *BACKGROUND_ROIS], classifier, noise, rng
                )
                cond = f"{fps:g}"
                signals.append(Signal(cond, probs, times, truth["words"], truth["letters"]))
                signals += [Signal(cond, p, times, [], []) for p in empty]
                if fps == 30:
                    keep = rng.random(len(times)) > 0.15
                    jitter = rng.uniform(-0.005, 0.005, len(times))
                    signals.append(
                        Signal("30j", probs[keep], (times + jitter)[keep], truth["words"],
                               truth["letters"])
                    )  # fmt: skip
            print(f"  sequence {s + 1}/{args.sequences}: {text}", file=sys.stderr)
    return signals


# -- scoring ------------------------------------------------------------------------------


@dataclass
class Tally:
    letters: int = 0
    letter_errors: int = 0
    words: int = 0
    word_errors: int = 0
    boundary_errors: int = 0
    false_letters: int = 0  # letters read in regions without a hand (also counted in CER)
    background_s: float = 0.0
    start_errors: list[float] = dataclasses.field(default_factory=list)
    delays: list[float] = dataclasses.field(default_factory=list)

    @property
    def cer(self) -> float:
        return self.letter_errors / max(1, self.letters)

    @property
    def wer(self) -> float:
        return self.word_errors / max(1, self.words)

    @property
    def ber(self) -> float:
        return self.boundary_errors / max(1, self.words)


def run_decoder(
    signal: Signal, settings: DecoderSettings
) -> tuple[list[tuple[LetterEvent, float]], list[WordEvent]]:
    decoder = LetterDecoder(MODEL_CLASSES, settings)
    letters: list[tuple[LetterEvent, float]] = []  # with the time it was emitted
    words: list[WordEvent] = []
    for p, t in zip(signal.probs, signal.times, strict=True):
        _collect(decoder.update(p, t), t, letters, words)
    _collect(decoder.finish(), float(signal.times[-1]), letters, words)
    return letters, words


def _collect(
    events: list[Event], t: float, letters: list[tuple[LetterEvent, float]], words: list[WordEvent]
) -> None:
    """Letters with the time they came out, and the words (sentences are not scored)."""
    for e in events:
        if isinstance(e, LetterEvent):
            letters.append((e, t))
        elif isinstance(e, WordEvent):
            words.append(e)


def score(
    signals: list[Signal], settings: DecoderSettings, timing: bool = False
) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for sig in signals:
        tally = tallies.setdefault(sig.condition, Tally())
        letters, words = run_decoder(sig, settings)
        truth = [c for w in sig.words for c in w]
        got = [e.class_id for e, _ in letters]
        dist, pairs = align(truth, got)
        tally.letters += len(truth)
        tally.letter_errors += dist
        truth_words = ["+".join(w) for w in sig.words]
        got_words = ["+".join(w.classes) for w in words]
        tally.words += len(truth_words)
        tally.word_errors += align(truth_words, got_words)[0]
        tally.boundary_errors += boundary_errors(sig.words, [w.classes for w in words])
        if not truth:
            tally.false_letters += len(got)
            tally.background_s += float(sig.times[-1] - sig.times[0])
        if timing:
            for ti, gi in pairs:
                event, emitted = letters[gi]
                tally.start_errors.append(event.start - sig.letters[ti]["start"])
                tally.delays.append(emitted - sig.letters[ti]["end"])
    return tallies


def objective(tallies: dict[str, Tally]) -> float:
    """Worst-condition CER plus worst-condition word-boundary error rate (lower is better).

    Letters and words read in the hand-free regions count as insertions in both.
    """
    return max(t.cer for t in tallies.values()) + max(t.ber for t in tallies.values())


def valid(settings: dict[str, Any]) -> DecoderSettings | None:
    try:
        return DecoderSettings(**settings)
    except ValueError:
        return None


def search(signals: list[Signal], start: DecoderSettings, passes: int) -> DecoderSettings:
    """Coordinate descent; each parameter goes to the middle of its best plateau.

    Error counts tie over ranges of a parameter; the middle of the widest range of best
    values leaves the most margin on both sides for signing that differs from these videos.
    """
    best = start
    for p in range(passes):
        before = best
        for name, values in GRID.items():
            scores = {}
            for value in values:
                trial = valid({**dataclasses.asdict(best), name: value})
                if trial is not None:
                    scores[value] = objective(score(signals, trial))
            low = min(scores.values())
            runs, run = [], []
            for value in values:
                if scores.get(value, math.inf) <= low + 1e-9:
                    run.append(value)
                elif run:
                    runs.append(run)
                    run = []
            runs.append(run) if run else None
            widest = max(runs, key=len)
            best = DecoderSettings(
                **{**dataclasses.asdict(best), name: widest[(len(widest) - 1) // 2]}
            )
            table = " ".join(f"{v:g}:{scores[v]:.4f}" for v in values if v in scores)
            print(f"  pass {p + 1} {name:>11}: {table} -> {getattr(best, name):g}", file=sys.stderr)
        if best == before:
            break
    return best


# -- report -------------------------------------------------------------------------------


def classifier_floor(signals: list[Signal]) -> dict[str, tuple[float, float]]:
    """Per condition: frame accuracy during holds, and the CER of a per-letter majority vote.

    The vote knows where each letter is, so its errors are the classifier's, not the decoder's:
    a floor no decoder setting goes below.
    """
    counts: dict[str, list[int]] = {}
    for sig in signals:
        c = counts.setdefault(sig.condition, [0, 0, 0, 0])  # frames, right, letters, wrong
        top = sig.probs.argmax(axis=1)
        for letter in sig.letters:
            inside = (sig.times >= letter["start"]) & (sig.times < letter["end"])
            if not inside.any():
                continue
            votes = np.bincount(top[inside], minlength=len(MODEL_CLASSES))
            truth = MODEL_CLASSES.index(letter["class"])
            c[0] += int(inside.sum())
            c[1] += int(votes[truth])
            c[2] += 1
            c[3] += int(votes.argmax() != truth)
    return {k: (v[1] / max(1, v[0]), v[3] / max(1, v[2])) for k, v in counts.items()}


def none_separation(signals: list[Signal], none_max: float) -> tuple[float, float]:
    """Raw frames whose ``none`` probability reaches ``none_max``: the share among hand-free
    frames with a sign on top (wanted: all), and among hand frames inside a letter (wanted: none).
    """
    none = MODEL_CLASSES.index("none")
    empty, hand = [], []
    for sig in signals:
        if not sig.letters:
            top_sign = sig.probs.argmax(axis=1) != none
            empty.append(sig.probs[top_sign, none])
        for letter in sig.letters:
            inside = (sig.times >= letter["start"]) & (sig.times < letter["end"])
            hand.append(sig.probs[inside, none])
    e, h = np.concatenate(empty), np.concatenate(hand)
    return float(np.mean(e >= none_max)) if len(e) else math.nan, float(np.mean(h >= none_max))


def report(title: str, signals: list[Signal], settings: DecoderSettings) -> dict:
    tallies = score(signals, settings, timing=True)
    print(f"\n{title}: {settings}")
    print(
        f"  {'fps':>4} {'letters':>7} {'CER':>6} {'words':>5} {'WER':>6} {'bound.':>6}"
        f" {'false/min':>9} {'start err':>10} {'delay p50':>9} {'delay p90':>9}"
        f" {'frame acc':>9} {'floor':>6}"
    )
    floor = classifier_floor(signals)
    rows: dict = {}
    for cond in sorted(tallies, key=lambda c: (float(c.rstrip("j")), c)):
        t = tallies[cond]
        start = statistics.median(abs(x) for x in t.start_errors) if t.start_errors else math.nan
        p50 = float(np.percentile(t.delays, 50)) if t.delays else math.nan
        p90 = float(np.percentile(t.delays, 90)) if t.delays else math.nan
        false_per_min = t.false_letters / (t.background_s / 60) if t.background_s else math.nan
        print(
            f"  {cond:>4} {t.letters:7d} {t.cer:6.2%} {t.words:5d} {t.wer:6.2%}"
            f" {t.boundary_errors:6d} {false_per_min:9.2f} {start:9.3f}s {p50:8.3f}s {p90:8.3f}s"
            f" {floor[cond][0]:9.2%} {floor[cond][1]:6.2%}"
        )
        rows[cond] = {
            "cer": t.cer, "wer": t.wer, "boundary_errors": t.boundary_errors,
            "letters": t.letters, "words": t.words, "start_error_median_s": start,
            "delay_p50_s": p50, "delay_p90_s": p90, "false_letters_per_min": false_per_min,
            "hold_frame_accuracy": floor[cond][0],
            "majority_vote_cer": floor[cond][1],
        }  # fmt: skip
    empty, hand = none_separation(signals, settings.none_max)
    print(
        f"  none >= none_max in {empty:.1%} of hand-free frames with a sign on top,"
        f" {hand:.2%} of frames showing a letter"
    )
    rows["none_separation"] = {"hand_free_sign_frames": empty, "letter_frames": hand}
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    images = parser.add_mutually_exclusive_group()
    images.add_argument("--data", type=Path, help="data set (.npz): use its validation blocks")
    images.add_argument(
        "--samples", type=Path, help="<class>/*.png images (default: the shipped samples)"
    )
    parser.add_argument("--model", type=Path, help="model (default: the shipped one)")
    parser.add_argument("--sequences", type=int, default=12, help="videos per frame rate")
    parser.add_argument("--fps", type=float, nargs="+", default=[15.0, 30.0, 60.0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--passes", type=int, default=2, help="coordinate-descent passes")
    parser.add_argument("--cache", type=Path, help="save/load the classified frames here (.npz)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="start from these settings instead of the defaults (with --passes 0: just score)",
    )
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    floats: dict[str, Any] = {k: float(v) for k, v in overrides.items()}
    current = DecoderSettings(**floats)

    t0 = time.perf_counter()
    if args.cache and args.cache.exists():
        signals = load_cache(args.cache)
    else:
        classifier = Classifier(args.model)
        if classifier.classes != MODEL_CLASSES:
            raise SystemExit(f"the model's classes differ from {MODEL_CLASSES}")
        signals = make_signals(args, classifier)
        if args.cache:
            save_cache(args.cache, signals)
    frames = sum(len(s.times) for s in signals)
    print(f"{len(signals)} streams, {frames} frames ({time.perf_counter() - t0:.0f} s)")

    before = report("starting from", signals, current)
    best = search(signals, current, args.passes)
    after = report("best found", signals, best)
    t1 = time.perf_counter()
    for sig in signals:
        run_decoder(sig, best)
    per_frame_us = (time.perf_counter() - t1) / frames * 1e6
    print(f"\ndecoder cost: {per_frame_us:.1f} us per frame (Python, one core)")
    if args.json:
        figures = {
            "current": {"settings": dataclasses.asdict(current), "conditions": before},
            "best": {"settings": dataclasses.asdict(best), "conditions": after},
            "streams": len(signals),
            "decoder_us_per_frame": per_frame_us,
            "frames": frames,
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


def save_cache(path: Path, signals: list[Signal]) -> None:
    arrays: dict[str, Any] = {}
    meta = []
    for i, s in enumerate(signals):
        arrays[f"p{i}"], arrays[f"t{i}"] = s.probs, s.times
        meta.append({"condition": s.condition, "words": s.words, "letters": s.letters})
    np.savez_compressed(path, meta=json.dumps(meta), **arrays)


def load_cache(path: Path) -> list[Signal]:
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    return [
        Signal(m["condition"], data[f"p{i}"], data[f"t{i}"], m["words"], m["letters"])
        for i, m in enumerate(meta)
    ]


if __name__ == "__main__":
    sys.exit(main())
