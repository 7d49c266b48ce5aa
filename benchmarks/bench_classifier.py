"""Per-frame latency of the sign classifier: the int8 model through LiteRT against Keras.

Runs by hand (nothing here is asserted by tests)::

    python benchmarks/bench_classifier.py                 # shipped int8 model, 1 and 2 threads
    python benchmarks/bench_classifier.py --keras out/arasl.keras --json

Each row times one frame at a time, as the daemon classifies them: the int8 model through
:class:`edge_arasl.classifier.Classifier` (``invoke``: the interpreter call alone; ``frame``:
the model's input margin + quantise + set_tensor + invoke + get_tensor + dequantise; ``views =
scales``: the same for each of the ``[classifier] views`` the runtime averages), and, when
TensorFlow is installed, the same network in Keras 3 (``model.predict`` per frame, as the seed
project did, and a direct ``model(x)`` call). Without ``--keras`` the architecture is built
from :mod:`edge_arasl.training.architecture` with untrained weights: the same arithmetic, so
the same time. Keras uses TensorFlow's own thread pools (all cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_pipeline import machine, machine_line

from edge_arasl.classifier import DEFAULT_MODEL_PATH, Classifier
from edge_arasl.preprocess import to_unit_range


def sample_frames(model_path: Path, size: int, count: int = 64) -> np.ndarray:
    """Real held-out sample images beside the model when there are any, else noise."""
    import cv2

    files = sorted((model_path.parent / "samples").glob("*/*.png"))[:count]
    read = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]
    images = [im for im in read if im is not None and im.shape == (size, size)]
    if images:
        return np.stack(images)
    return np.random.default_rng(0).integers(0, 256, (count, size, size), dtype=np.uint8)


def time_calls(call: Callable[[int], Any], frames: int, warmup: int) -> np.ndarray:
    """Seconds taken by each of ``frames`` calls ``call(i)``, after ``warmup`` untimed ones."""
    for i in range(warmup):
        call(i)
    times = np.empty(frames)
    clock = time.perf_counter
    for i in range(frames):
        start = clock()
        call(i)
        times[i] = clock() - start
    return times


def row(name: str, threads: str, times: np.ndarray) -> dict[str, Any]:
    median, p90 = np.percentile(times, [50, 90]) * 1e3
    return {
        "runtime": name,
        "threads": threads,
        "frames": len(times),
        "median_ms": round(float(median), 4),
        "p90_ms": round(float(p90), 4),
    }


def bench_tflite(args: argparse.Namespace, frames: np.ndarray) -> list[dict[str, Any]]:
    rows, n = [], len(frames)
    for threads in args.threads:
        clf = Classifier(args.model, num_threads=threads, backend=args.backend)
        interpreter = clf._interpreter  # the bare call, for the "invoke" row

        def frame(i: int, clf: Classifier = clf) -> None:
            clf.probabilities_prepared(frames[i % n])

        def invoke(_i: int, it: Any = interpreter) -> None:
            it.invoke()

        name = f"{clf.backend} int8"
        rows.append(row(f"{name} frame", str(threads), time_calls(frame, args.frames, args.warmup)))
        views = Classifier(args.model, num_threads=threads, backend=args.backend, views="scales")

        def viewed(i: int, clf: Classifier = views) -> None:
            clf.probabilities_prepared(frames[i % n])

        rows.append(
            row(
                f"{name} frame, views = scales",
                str(threads),
                time_calls(viewed, args.frames, args.warmup),
            )
        )
        rows.append(
            row(
                f"{name} invoke",
                str(threads),
                time_calls(invoke, args.frames, args.warmup),
            )
        )
    return rows


def keras_model(args: argparse.Namespace, n_classes: int) -> tuple[Any, str]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if args.keras:
        return keras.models.load_model(args.keras), str(args.keras)
    from edge_arasl.training.architecture import build_model

    return build_model(n_classes), "training.architecture.build_model (untrained)"


def bench_keras(
    args: argparse.Namespace, frames: np.ndarray, n_classes: int
) -> tuple[list[dict[str, Any]], str]:
    model, source = keras_model(args, n_classes)
    x = to_unit_range(frames[..., None])
    n = len(x)
    count, warmup = args.keras_frames, max(5, args.warmup // 10)

    def predict(i: int) -> None:
        model.predict(x[i % n : i % n + 1], verbose=0)

    def call(i: int) -> None:
        np.asarray(model(x[i % n : i % n + 1], training=False))

    rows = [
        row("keras model.predict float32", "tf", time_calls(predict, count, warmup)),
        row("keras model(x) float32", "tf", time_calls(call, count, warmup)),
    ]
    return rows, source


def print_table(result: dict[str, Any]) -> None:
    base = result["rows"][0]["median_ms"]
    print(f"model {result['model']}  |  {machine_line(result)}, Python {result['python']}")
    if result["keras_model"]:
        print(f"keras {result['keras_model']}")
    print(f"{'runtime':<40} {'threads':>7} {'frames':>6} {'median ms':>10} {'p90 ms':>8} "
          f"{'frames/s':>9} {'x first row':>11}")  # fmt: skip
    for r in result["rows"]:
        print(
            f"{r['runtime']:<40} {r['threads']:>7} {r['frames']:>6} {r['median_ms']:>10.3f} "
            f"{r['p90_ms']:>8.3f} {1e3 / r['median_ms']:>9.0f} {r['median_ms'] / base:>10.1f}x"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH, help="int8 .tflite")
    parser.add_argument("--backend", help="force an interpreter backend")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--frames", type=int, default=2000, help="timed frames per row (int8)")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--keras", type=Path, help="trained .keras model to time instead")
    parser.add_argument("--keras-frames", type=int, default=200, help="timed frames per Keras row")
    parser.add_argument("--no-keras", action="store_true", help="skip Keras even if installed")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    probe = Classifier(args.model, backend=args.backend)
    frames = sample_frames(args.model, probe.input_size)
    rows = bench_tflite(args, frames)
    keras_source = None
    has_tf = importlib.util.find_spec("tensorflow") is not None
    if not args.no_keras and has_tf:
        keras_rows, keras_source = bench_keras(args, frames, len(probe.classes))
        rows += keras_rows
    elif not args.no_keras:
        print("TensorFlow not installed: Keras rows skipped", file=sys.stderr)
    result = {
        "model": str(args.model),
        "keras_model": keras_source,
        "model_bytes": args.model.stat().st_size,
        **machine(),
        "python": platform.python_version(),
        "rows": rows,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
