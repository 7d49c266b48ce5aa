"""Throughput of ``edge-arasl process`` on a 640x480 video with the overlay and video writer.

Runs by hand (nothing here is asserted by tests)::

    python benchmarks/bench_plugins.py                 # a ~45 s make-demo video, 3 runs each
    python benchmarks/bench_plugins.py --video my.mp4 --runs 5 --json

Rows (frames per second of the processing loop, from the ``seconds`` of the summary, which
include flushing and closing the plugins):

``no plugins``
    ``process VIDEO --json``: the pipeline alone, for reference.
``video (mp4v)``
    ``--output OUT.mp4`` with ``overlay = false``: encoding every frame, no drawing.
``video + overlay``
    ``--output OUT.mp4``: the default annotated video (region box, letter, running text).
``overlay.draw``
    ``Overlay.draw`` alone on one 640x480 frame with a letter and two words, in-process:
    the drawing cost per frame, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_pipeline import machine, machine_line, make_video


def process(video: Path, *extra: str) -> float:
    """Loop frames per second of one ``edge-arasl process --json`` run."""
    command = [sys.executable, "-m", "edge_arasl", "--log-level", "warning", "process"]
    result = subprocess.run(
        [*command, str(video), "--json", *extra],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    summary = json.loads(result.stdout.splitlines()[-1])
    return summary["frames"] / summary["seconds"]


def overlay_ms(repeats: int = 500) -> float:
    """Median milliseconds of one ``Overlay.draw`` on a 640x480 frame."""
    from edge_arasl_plugins.overlay import Overlay

    from edge_arasl.plugin import FrameEvent, LetterEvent, WordEvent

    overlay = Overlay()
    overlay.on_word(WordEvent(("seen", "laam", "aleff", "meem"), "سلام", 0.0, 3.0))
    for class_id, text in (("meem", "م"), ("dal", "د")):
        overlay.on_letter(LetterEvent(class_id, text, 0.9, 4.0, 4.5))
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    frame = FrameEvent(0, 5.0, image, (192, 96, 256, 256), "dal", 0.87, "د")
    overlay.draw(frame)  # render and cache the text once, as a running pipeline would have
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        overlay.draw(frame)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="video to process (default: make one)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each row (default: 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    rows: dict[str, list[float]] = {"no plugins": [], "video (mp4v)": [], "video + overlay": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        video = args.video or make_video(folder)
        out = folder / "out.mp4"
        plain = folder / "plain.toml"
        plain.write_text("[video]\noverlay = false\n", encoding="utf-8")
        for _ in range(args.runs):
            rows["no plugins"].append(process(video))
            rows["video (mp4v)"].append(
                process(video, "--output", str(out), "--config", str(plain))
            )
            rows["video + overlay"].append(process(video, "--output", str(out)))

    result = {
        "video": str(args.video) if args.video else "make-demo (seed 0)",
        "runs": args.runs,
        **{name.replace(" ", "_"): round(statistics.median(v), 1) for name, v in rows.items()},
        "overlay_draw_ms": round(overlay_ms(), 3),
        **machine(),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['video']}, median of {args.runs} runs (loop frames/s)")
    for name, values in rows.items():
        print(f"{name:20s} {statistics.median(values):8.1f} frames/s")
    print(f"{'overlay.draw':20s} {result['overlay_draw_ms']:8.3f} ms/frame (640x480)")
    print(machine_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
