"""Measure the lexicon-aware word decoding: CER of the raw and the corrected words.

Run by hand (docs/decoder.md has the commands and results)::

    python benchmarks/bench_spelling.py --cache test.npz         # test samples, shipped settings
    python benchmarks/bench_spelling.py --data arasl.npz --fold-split models/folds/fold0.json \
        --model runs/folds/fold0/arasl_int8.tflite --cache oof0.npz   # out-of-fold validation
    python benchmarks/bench_spelling.py --cache oof0.npz --cache oof1.npz --tune

1. Spells the common words of ``spelling_words.txt`` (every one in the bundled lexicon) and the
   personal names of ``spelling_names.txt`` (none in it) with :func:`edge_arasl.demo.make_demo`,
   ten words a video, at 15 and 30 fps, from the held-out samples shipped with the model
   (``models/samples``, test blocks) or, with ``--data``, from images of the data set's
   validation blocks (``models/split.json``), or with ``--fold-split`` too, of a
   cross-validation fold's test blocks less the shipped model's test blocks.
2. Runs the real int8 classifier (``--model``: that fold's; ``--views`` as the daemon's) on the
   hand region of every frame (cached with ``--cache``).
3. Decodes each video with the shipped decoder and scores the words' letters against the
   truth: CER is the edit distance of the whole sign sequence over its length, for the raw
   words (``raw_classes``) and the chosen ones (``classes``) of the same run; WER likewise
   over words.
4. With ``--tune`` (on validation caches), scores every ``[decoder.words]`` setting of
   ``GRID`` by the worst frame rate's CER on the common words plus that on the names, summed
   over the caches given, and takes, as ``tune_decoder.py`` does, for each parameter the middle
   of the widest range of values among the best settings.

Validation must misread as a new signer is misread: the shipped model reads its own
validation blocks almost without error (raw CER 0.2-0.4%), which shows only which settings
harm, so the settings are chosen on the fold models' out-of-fold caches.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fingerspelling import export_validation_images

from edge_arasl.classifier import VIEWS, Classifier, ClassifierSettings
from edge_arasl.decoder import DecoderSettings, LetterDecoder
from edge_arasl.demo import make_demo
from edge_arasl.labels import MODEL_CLASSES
from edge_arasl.lexicon import Lexicon, spell
from edge_arasl.plugin import WordEvent
from edge_arasl.region import Roi
from edge_arasl.spelling import Choice, Speller

HERE = Path(__file__).resolve().parent
LISTS = {"common": HERE / "spelling_words.txt", "names": HERE / "spelling_names.txt"}
WORDS_PER_VIDEO = 10
GRID: dict[str, list[float]] = {  # top_k stays an int
    "weight": [0.25, 0.5, 0.75, 1.0, 1.5],
    "gap_bonus": [0.0, 2.0, 4.0, 6.0],
    "oov_cost": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    "top_k": [5, 10],
}
# gap_s stays at its default, 0.6 s: the demo's shortest hold (a dropped letter leaves at
# least that long a hand without a letter), three times its longest blurred transition.


def read_list(path: Path) -> list[str]:
    return [w for line in path.read_text(encoding="utf-8").splitlines() for w in line.split()]


def classify(
    path: Path, classifier: Classifier, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of the hand region of every frame (with sensor noise), and frame times."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    probs: list[np.ndarray] = []
    times: list[float] = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        x, y, w, h = Roi().to_pixels(frame.shape[1], frame.shape[0])
        crop = frame[y : y + h, x : x + w]
        if noise > 0:
            noisy = crop.astype(np.float32) + rng.normal(0, noise, crop.shape).astype(np.float32)
            crop = np.clip(noisy, 0, 255).astype(np.uint8)
        probs.append(classifier.probabilities(crop))
        times.append(len(times) / fps)
    cap.release()
    return np.array(probs, np.float32), np.array(times)


def make_signals(
    args: argparse.Namespace, cache: Path | None
) -> dict[tuple[str, float], list[dict]]:
    """``(list, fps) -> [{probs, times, words}]`` for every video, from ``cache`` or made now."""
    if cache and cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            index = json.loads(str(z["index"]))
            return {
                (name, float(fps)): [
                    {"probs": z[f"p{k}"], "times": z[f"t{k}"], "words": words}
                    for k, words in videos
                ]
                for name, fps, videos in index
            }
    classifier = Classifier(args.model, views=args.views)
    rng = np.random.default_rng(args.seed)
    signals: dict[tuple[str, float], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        samples = args.samples
        if args.data:
            samples = export_validation_images(
                args.data, Path(tmp) / "samples", args.per_class, args.fold_split
            )
        for name, path in LISTS.items():
            words = read_list(path)
            for fps in args.fps:
                videos = []
                for v in range(0, len(words), WORDS_PER_VIDEO):
                    text = " ".join(words[v : v + WORDS_PER_VIDEO])
                    video = Path(tmp) / f"{name}{v}_{fps:g}.mp4"
                    seed = args.seed * 1000 + v  # the same signing at each frame rate
                    truth = make_demo(video, text, samples=samples, seed=seed, fps=fps)
                    probs, times = classify(video, classifier, args.noise, rng)
                    video.unlink()
                    videos.append({"probs": probs, "times": times, "words": truth["words"]})
                print(f"  {name} at {fps:g} fps: {len(videos)} videos", file=sys.stderr)
                signals[(name, fps)] = videos
    if cache:
        arrays, index, k = {}, [], 0
        for (name, fps), videos in signals.items():
            entry = []
            for item in videos:
                arrays[f"p{k}"], arrays[f"t{k}"] = item["probs"], item["times"]
                entry.append((k, item["words"]))
                k += 1
            index.append((name, fps, entry))
        np.savez_compressed(cache, index=json.dumps(index), **arrays)
    return signals


def edit_distance(a: list, b: list) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


@dataclasses.dataclass
class Score:
    letters: int = 0
    raw_errors: int = 0
    errors: int = 0
    words: int = 0
    raw_word_errors: int = 0
    word_errors: int = 0
    corrected: int = 0

    @property
    def raw_cer(self) -> float:
        return self.raw_errors / max(1, self.letters)

    @property
    def cer(self) -> float:
        return self.errors / max(1, self.letters)


def evaluate(videos: list[dict], settings: DecoderSettings) -> Score:
    score = Score()
    for video in videos:
        decoder = LetterDecoder(MODEL_CLASSES, settings)
        words: list[WordEvent] = []
        for p, t in zip(video["probs"], video["times"], strict=True):
            words += [e for e in decoder.update(p, t) if isinstance(e, WordEvent)]
        words += [e for e in decoder.finish() if isinstance(e, WordEvent)]
        truth = [tuple(w) for w in video["words"]]
        flat = [c for w in truth for c in w]
        score.letters += len(flat)
        score.words += len(truth)
        raw = [tuple(w.raw_classes or ()) for w in words]
        chosen = [w.classes for w in words]
        score.raw_errors += edit_distance(flat, [c for w in raw for c in w])
        score.errors += edit_distance(flat, [c for w in chosen for c in w])
        score.raw_word_errors += edit_distance(truth, raw)
        score.word_errors += edit_distance(truth, chosen)
        score.corrected += sum(w.corrected for w in words)
    return score


class RecordingSpeller(Speller):
    """The shipped speller, keeping every call's arguments and how long it took."""

    def __init__(self, settings: DecoderSettings, lexicon: Lexicon) -> None:
        super().__init__(MODEL_CLASSES, settings.words, lexicon)
        self.calls: list[tuple] = []
        self.seconds: list[float] = []

    def choose(self, vectors: Any, raw: Any, slots: Any = None) -> Choice:
        started = time.perf_counter()
        choice = super().choose(vectors, raw, slots)
        self.seconds.append(time.perf_counter() - started)
        self.calls.append((vectors, raw, slots))
        return choice


def decode_recorded(video: dict, settings: DecoderSettings, lexicon: Lexicon) -> RecordingSpeller:
    """Run the decoder over one video; the speller's record of its words."""
    decoder = LetterDecoder(MODEL_CLASSES, settings)
    decoder.speller = speller = RecordingSpeller(settings, lexicon)
    for p, t in zip(video["probs"], video["times"], strict=True):
        decoder.update(p, t)
    decoder.finish()
    return speller


def speller_timing(signals: dict[tuple[str, float], list[dict]], settings: DecoderSettings) -> str:
    """Median and 90th percentile of the time the speller takes per word."""
    if not settings.words.enabled:
        return "speller off"
    lexicon = Lexicon.load(settings.words.lexicon or None)
    times = sorted(
        t
        for videos in signals.values()
        for video in videos
        for t in decode_recorded(video, settings, lexicon).seconds
    )
    return (
        f"speller: {len(times)} words, median {1000 * times[len(times) // 2]:.2f} ms, "
        f"90th percentile {1000 * times[int(0.9 * len(times))]:.2f} ms a word"
    )


def with_words(**changes: Any) -> DecoderSettings:
    base = DecoderSettings()
    return dataclasses.replace(base, words=dataclasses.replace(base.words, **changes))


def report(signals: dict[tuple[str, float], list[dict]], settings: DecoderSettings) -> None:
    print(f"words settings: {dataclasses.asdict(settings.words)}")
    print("| list | fps | letters | words | raw CER | corrected CER | raw WER | WER | corrected |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (name, fps), videos in signals.items():
        s = evaluate(videos, settings)
        print(
            f"| {name} | {fps:g} | {s.letters} | {s.words} | {100 * s.raw_cer:.1f}% | "
            f"{100 * s.cer:.1f}% | {100 * s.raw_word_errors / s.words:.1f}% | "
            f"{100 * s.word_errors / s.words:.1f}% | {s.corrected} |"
        )


def record(videos: list[dict], lexicon: Lexicon) -> list[tuple[list, list[tuple]]]:
    """Each video's truth and what its words gave the speller: ``(vectors, raw, slots)``.

    The letters do not depend on ``[decoder.words]`` (``gap_s`` stays at its default), so
    the grid search replays only the speller on these.
    """
    return [
        (
            [tuple(w) for w in video["words"]],
            decode_recorded(video, DecoderSettings(), lexicon).calls,
        )
        for video in videos
    ]


def replay_cer(recorded: list[tuple[list, list[tuple]]], speller: Speller) -> float:
    """The CER of the speller's choices for recorded words."""
    letters = errors = 0
    for truth, calls in recorded:
        chosen = [c for args in calls for c in speller.choose(*args).classes]
        flat = [c for w in truth for c in w]
        letters += len(flat)
        errors += edit_distance(flat, chosen)
    return errors / max(1, letters)


def tune(caches: list[dict[tuple[str, float], list[dict]]]) -> DecoderSettings:
    """The middle of the widest range of each parameter among the best settings of ``GRID``."""
    lexicon = Lexicon.load()
    recorded = [{key: record(videos, lexicon) for key, videos in c.items()} for c in caches]
    results: dict[tuple, float] = {}
    for values in itertools.product(*GRID.values()):
        settings = with_words(**dict(zip(GRID, values, strict=True)))
        speller = Speller(MODEL_CLASSES, settings.words, lexicon)
        total = 0.0
        for signals in recorded:
            cer = {key: replay_cer(rec, speller) for key, rec in signals.items()}
            for kind in ("common", "names"):
                total += max(c for (name, _), c in cer.items() if name == kind)
        results[values] = round(total, 9)
        print(f"  {dict(zip(GRID, values, strict=True))}: {100 * total:.2f}", file=sys.stderr)
    best = min(results.values())
    optimal = [values for values, total in results.items() if total == best]
    chosen = {}
    for i, (name, grid) in enumerate(GRID.items()):
        present = [v in {o[i] for o in optimal} for v in grid]
        runs, start = [], None
        for j, ok in enumerate([*present, False]):
            if ok and start is None:
                start = j
            elif not ok and start is not None:
                runs.append((j - start, start, j - 1))
                start = None
        _, first, last = max(runs, key=lambda r: (r[0], -r[1]))
        chosen[name] = grid[(first + last) // 2]
    if tuple(chosen.values()) not in optimal:  # the middles do not combine: nearest best one
        chosen = dict(zip(GRID, optimal[len(optimal) // 2], strict=True))
    print(f"best score {100 * best:.2f} ({len(optimal)} settings); chosen {chosen}")
    return with_words(**chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="data set .npz: use its validation blocks")
    parser.add_argument(
        "--fold-split", type=Path,
        help="with --data: a fold list (models/folds/foldK.json); its test blocks, less the "
        "shipped model's, read by --model (that fold's model)",
    )  # fmt: skip
    parser.add_argument("--model", type=Path, help="classifier .tflite (default: the shipped)")
    parser.add_argument(
        "--views",
        choices=list(VIEWS),
        default=ClassifierSettings.views,
        help="the CNN's test-time views, as [classifier] views (default: %(default)s)",
    )
    parser.add_argument("--samples", type=Path, help="folder of <class>/*.png sample images")
    parser.add_argument("--per-class", type=int, default=40, help="validation images a class")
    parser.add_argument("--fps", type=float, nargs="+", default=[15.0, 30.0])
    parser.add_argument("--noise", type=float, default=0.0, help="sensor noise (gray levels)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--cache", type=Path, action="append", default=[],
        help="npz of the classified videos (made once); --tune takes several",
    )  # fmt: skip
    parser.add_argument("--tune", action="store_true", help="search the [decoder.words] table")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if args.fold_split and not (args.data and args.model):
        parser.error("--fold-split needs --data and the fold's --model")

    lexicon = Lexicon.load()
    common, names = read_list(LISTS["common"]), read_list(LISTS["names"])
    assert all(lexicon.zipf(spell(w)) is not None for w in common), "a common word is not listed"
    assert all(lexicon.zipf(spell(w)) is None for w in names), "a name is in the lexicon"
    print(f"{len(common)} common words, {len(names)} names; lexicon of {len(lexicon)} words")
    started = time.perf_counter()
    caches = [make_signals(args, path) for path in args.cache or [None]]
    print(f"videos ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    changes = {k: float(v) if "." in v else int(v) for k, v in (s.split("=") for s in args.set)}
    settings = tune(caches) if args.tune else with_words(**changes)
    signals = caches[0]
    report(signals, settings)
    print(speller_timing(signals, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
