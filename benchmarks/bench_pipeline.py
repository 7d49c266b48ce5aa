"""Throughput of ``edge-arasl process`` on a 640x480 video, next to decoding the file alone.

Runs by hand (nothing here is asserted by tests)::

    python benchmarks/bench_pipeline.py                # a ~45 s make-demo video, 3 runs each
    python benchmarks/bench_pipeline.py --video my.mp4 --runs 5 --json

Rows:

``decode only``
    ``cv2.VideoCapture.read()`` of every frame, nothing else: the ceiling set by the codec.
``process (loop)``
    ``edge-arasl process VIDEO --json`` with no output plugins, frames divided by the
    ``seconds`` of its summary: the processing loop (read, crop, classify, decode, dispatch).
``process (command)``
    The same runs timed from the outside, start-up (imports, model load) included.
``process peak RSS``
    The largest resident memory of those runs (``wait4``'s ``ru_maxrss``).

``--hand fixed|auto`` is passed to ``process`` (``auto``: the palm detector while no hand is
followed, the landmark model on every frame with a hand, then both classifiers), and
``--config FILE`` too (to measure other ``[hand]`` settings).

Each figure is the median of ``--runs`` runs. The machine's load average is printed with
them: on a shared machine, figures are only comparable with the load they were taken under.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

#: The video the benchmark makes when none is given (make-demo, fixed seed).
DEMO_TEXT = "السلام عليكم مدد " * 3


def machine() -> dict[str, object]:
    """CPU model, core count and load average: the context every figure needs."""
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def machine_line(info: dict[str, object]) -> str:
    """The machine() fields of a result, as one printed line."""
    return f"{info['cpu']}, {info['cores']} cores, load average {info['load_average']}"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_video(folder: Path) -> Path:
    from edge_arasl.demo import make_demo

    path = folder / "bench.mp4"
    make_demo(path, DEMO_TEXT, seed=0, size=(640, 480), fps=30.0)
    return path


def decode_only(video: Path) -> tuple[int, float]:
    capture = cv2.VideoCapture(str(video))
    frames = 0
    started = time.perf_counter()
    while capture.read()[0]:
        frames += 1
    seconds = time.perf_counter() - started
    capture.release()
    return frames, seconds


def process(
    video: Path, hand: str | None, config: Path | None = None
) -> tuple[int, float, float, float]:
    """``(frames, loop seconds, command seconds, peak RSS MB)`` of one ``process --json``."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "edge_arasl", "--log-level", "warning", "process"]
    command += [str(video), "--json", *(["--hand", hand] if hand else [])]
    command += ["--config", str(config)] if config else []
    with subprocess.Popen(command, stdout=subprocess.PIPE, encoding="utf-8") as child:
        assert child.stdout is not None
        stdout = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)  # reaps it, with its resource usage
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"process failed (exit {child.returncode})")
    summary = json.loads(stdout.splitlines()[-1])
    return summary["frames"], summary["seconds"], wall, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, help="video to process (default: make one)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each row (default: 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--hand", choices=("fixed", "auto"), help="process --hand MODE")
    parser.add_argument("--config", type=Path, help="process --config FILE")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or make_video(Path(tmp))
        capture = cv2.VideoCapture(str(video))
        size = (
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        capture.release()
        decode_fps, loop_fps, command_fps, rss = [], [], [], []
        frames = 0
        for _ in range(args.runs):
            frames, seconds = decode_only(video)
            decode_fps.append(frames / seconds)
            n, loop_seconds, wall, peak = process(video, args.hand, args.config)
            if n != frames:
                raise SystemExit(f"process saw {n} frames, OpenCV decoded {frames}")
            loop_fps.append(n / loop_seconds)
            command_fps.append(n / wall)
            rss.append(peak)

    result = {
        "video": str(args.video) if args.video else "make-demo (seed 0)",
        "size": list(size),
        "frames": frames,
        "runs": args.runs,
        "decode_only_fps": round(statistics.median(decode_fps), 1),
        "process_loop_fps": round(statistics.median(loop_fps), 1),
        "process_command_fps": round(statistics.median(command_fps), 1),
        "hand": args.hand or "config default",
        "process_peak_rss_mb": round(max(rss), 1),
        **machine(),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['video']}: {size[0]}x{size[1]}, {frames} frames, median of {args.runs} runs")
    print(f"{'decode only':20s} {result['decode_only_fps']:8.1f} frames/s")
    print(f"{'process (loop)':20s} {result['process_loop_fps']:8.1f} frames/s")
    print(f"{'process (command)':20s} {result['process_command_fps']:8.1f} frames/s")
    peak, hand = result["process_peak_rss_mb"], result["hand"]
    print(f"{'process peak RSS':20s} {peak:8.1f} MB (--hand {hand})")
    print(machine_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
