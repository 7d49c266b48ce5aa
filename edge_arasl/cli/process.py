"""``edge-arasl process VIDEO``: recognise the fingerspelling in a video file, headless.

Every frame is processed in order, so the output is deterministic: the recognised text on
stdout (words separated by spaces), or with ``--json`` one JSON object per letter and word as
they are recognised and a final summary. Logs and the progress bar go to stderr.

Output flags such as ``--output FILE`` are shortcuts for enabling a plugin with one setting:
:data:`PLUGIN_FLAGS` maps each to its plugin table and key, so adding one is one line here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any, Literal, TextIO

from edge_arasl.cli import add_hand_argument
from edge_arasl.config import SourceSettings, load_config
from edge_arasl.errors import UserError
from edge_arasl.pipeline import Observer, Summary, build_pipeline, stop_on_signals
from edge_arasl.plugin import FrameEvent, LetterEvent, SentenceEvent, WordEvent
from edge_arasl.region import Roi
from edge_arasl.sources import open_source

#: ``--flag VALUE`` -> (plugin, key, help): enables ``[plugin]`` with ``key = VALUE``.
PLUGIN_FLAGS: dict[str, tuple[str, str, str]] = {
    "--output": ("video", "path", "write the annotated video to FILE (the video plugin)"),
    "--srt": ("srt", "path", "write the recognised letters and words as subtitles to FILE"),
    "--speech-dir": ("speech", "wav_dir", "speak each word into a WAV file in folder FILE"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "process",
        help="recognise the fingerspelling in a video file",
        description="Process every frame of a video file (or a folder of images) and print "
        "the recognised text.",
    )
    p.add_argument("video", type=Path, metavar="VIDEO", help="video file or folder of images")
    p.add_argument(
        "--roi",
        metavar="X,Y,W,H",
        help="region of the hand in fractions of the frame (default: [region] of the config)",
    )
    add_hand_argument(p)
    p.add_argument("--config", type=Path, metavar="FILE", help="config file (default: built-in)")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object per letter, word and summary"
    )
    p.add_argument(
        "--realtime",
        action="store_true",
        help="pace frames at the file's frame rate and drop late ones, as a camera would",
    )
    for flag, (_plugin, _key, text) in PLUGIN_FLAGS.items():
        p.add_argument(flag, metavar="FILE", help=text)
    p.set_defaults(func=run)


def _flag_dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.roi is not None:
        try:
            config = config.replace(region=config.region.with_roi(Roi.parse(args.roi)))
        except ValueError as exc:
            raise UserError(f"--roi: {exc}") from None
    if args.hand is not None:
        config = config.replace(region=dataclasses.replace(config.region, mode=args.hand))
    for flag, (plugin, key, _text) in PLUGIN_FLAGS.items():
        value = getattr(args, _flag_dest(flag))
        if value is not None:
            config = config.with_plugin_option(plugin, key, value)

    kind: Literal["images", "video"] = "images" if args.video.is_dir() else "video"
    source = open_source(SourceSettings(kind=kind, path=str(args.video)), realtime=args.realtime)
    observers: list[Observer] = []
    if args.json:
        observers.append(JsonLines(sys.stdout))
    if sys.stderr.isatty():
        observers.append(ProgressBar(sys.stderr, source.frame_count))
    try:
        pipeline = build_pipeline(config, source, mode="process", observers=observers)
    except BaseException:
        source.close()
        raise
    with stop_on_signals(pipeline) as caught:
        summary = pipeline.run()
    if args.json:
        _print_json(summary_record(summary), sys.stdout)
    else:
        print(summary.text, flush=True)
    return 128 + caught[0] if caught else 0


def summary_record(summary: Summary) -> dict[str, Any]:
    return {
        "type": "summary",
        "text": summary.text,
        "letters": len(summary.letters),
        "words": len(summary.words),
        "frames": summary.frames,
        "seconds": round(summary.seconds, 3),
    }


def _print_json(record: dict[str, Any], out: TextIO) -> None:
    print(json.dumps(record, ensure_ascii=False), file=out, flush=True)


class JsonLines(Observer):
    """Streams letters and words as JSON lines while the video is processed."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def on_letter(self, letter: LetterEvent) -> None:
        _print_json(letter.to_dict(), self.out)

    def on_word(self, word: WordEvent) -> None:
        _print_json(word.to_dict(), self.out)

    def on_sentence(self, sentence: SentenceEvent) -> None:
        _print_json(sentence.to_dict(), self.out)


class ProgressBar(Observer):
    """A one-line progress bar on a terminal, redrawn a few times a second."""

    WIDTH = 30

    def __init__(self, out: TextIO, total: int | None) -> None:
        self.out = out
        self.total = total
        self.started = time.monotonic()
        self._next_draw = 0.0
        self._frames = 0
        self._position = 0
        self._text = ""

    def on_frame(self, event: FrameEvent) -> None:
        self._frames += 1
        self._position = event.index + 1  # ahead of _frames when --realtime drops frames
        now = time.monotonic()
        if now >= self._next_draw:
            self._next_draw = now + 0.2
            self._draw(now)

    def on_word(self, word: WordEvent) -> None:
        self._text = (self._text + " " + word.text).strip()[-24:]

    def _draw(self, now: float) -> None:
        rate = self._frames / max(now - self.started, 1e-6)
        if self.total:
            done = min(self._position / self.total, 1.0)
            filled = round(done * self.WIDTH)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            line = f"[{bar}] {done:4.0%} {self._position}/{self.total} frames, {rate:.0f} fps"
        else:
            line = f"{self._frames} frames, {rate:.0f} fps"
        self.out.write(f"\r{line}  {self._text}\x1b[K")
        self.out.flush()

    def on_stop(self, summary: Summary) -> None:
        self.out.write("\r\x1b[K")
        self.out.flush()
