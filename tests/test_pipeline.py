"""The processing loop with the real model, decoder and dispatcher on the committed demo video."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from edge_arasl.config import load_config
from edge_arasl.decoder import DecoderSettings, LetterDecoder
from edge_arasl.dispatcher import Dispatcher
from edge_arasl.errors import UserError
from edge_arasl.labels import ARABIC
from edge_arasl.pipeline import Observer, Pipeline, build_pipeline
from edge_arasl.plugin import OutputPlugin, PluginContext
from edge_arasl.reader import SignReader
from edge_arasl.region import FixedRegion, Roi
from edge_arasl.signals import StopSignals
from edge_arasl.sources.base import Frame, Source
from edge_arasl.sources.delivery import LatestFrame, Paced, ReadAhead
from edge_arasl.sources.video import VideoFile

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.mp4"


class Recorder(OutputPlugin):
    """Keeps everything it is given, in order."""

    name = "recorder"

    def __init__(self) -> None:
        super().__init__(
            None, PluginContext(name="recorder", device_id="t", mode="process", state_dir=Path("."))
        )
        self.calls: list[tuple[str, object]] = []
        self.stopped = False

    def on_frame(self, frame):
        self.calls.append(("frame", frame))

    def on_letter(self, letter):
        self.calls.append(("letter", letter))

    def on_word(self, word):
        self.calls.append(("word", word))

    def on_sentence(self, sentence):
        self.calls.append(("sentence", sentence))

    def on_status(self, status):
        self.calls.append(("status", status))

    def stop(self):
        self.stopped = True

    def of(self, kind: str) -> list:
        return [event for k, event in self.calls if k == kind]


class Watcher(Observer):
    def __init__(self) -> None:
        self.hooks: list[str] = []
        self.frames = 0

    def on_start(self, pipeline):
        self.hooks.append("start")

    def on_frame(self, event):
        self.frames += 1

    def on_status(self, status):
        self.hooks.append(f"status:{status.state}")

    def on_sentence(self, sentence):
        self.hooks.append(f"sentence:{sentence.text}")

    def on_stop(self, summary):
        self.hooks.append("stop")


class FailAfter(Source):
    """The demo video, until frame ``n`` raises (a file corrupt halfway)."""

    def __init__(self, n: int) -> None:
        super().__init__("failing")
        self.inner = VideoFile(DEMO)
        self.n = n

    def open(self):
        self.inner.open()

    def read(self) -> Frame | None:
        frame = self.inner.read()
        if frame is not None and frame.index == self.n:
            raise UserError(f"{DEMO}: frame {self.n} is corrupt")
        return frame

    def close(self):
        self.inner.close()


def make_pipeline(classifier, source: Source, *plugins, region=None, drop_frames=False, **kw):
    source.open()
    return Pipeline(
        source,
        region or FixedRegion(Roi()),
        SignReader(classifier),
        LetterDecoder(classifier.classes, DecoderSettings()),
        Dispatcher(list(plugins), drop_frames=drop_frames),
        **kw,
    )


def test_frames_letters_words_and_status_reach_plugins_and_observers(classifier):
    plugin, watcher = Recorder(), Watcher()
    pipeline = make_pipeline(classifier, ReadAhead(VideoFile(DEMO)), plugin, observers=[watcher])
    summary = pipeline.run()

    frames = plugin.of("frame")
    assert summary.frames == len(frames) == watcher.frames > 400  # every frame of the file
    assert [f.index for f in frames] == list(range(len(frames)))
    assert frames[0].roi == (192, 96, 256, 256)
    assert all(f.text == ARABIC[f.class_id] for f in frames)
    assert {f.class_id for f in frames} > {"none"}
    assert plugin.of("letter") == summary.letters and summary.letters
    assert plugin.of("word") == summary.words and summary.words
    # Words are made of the letters before them, in order.
    assert [c for w in summary.words for c in w.classes] == [x.class_id for x in summary.letters]
    assert summary.text == " ".join(w.text for w in summary.words)
    # Sentences gather the words between long pauses, each after its last word.
    sentences = plugin.of("sentence")
    assert sentences and [w for s in sentences for w in s.words] == [w.text for w in summary.words]
    assert [h for h in watcher.hooks if h.startswith("sentence:")] == [
        f"sentence:{s.text}" for s in sentences
    ]
    kinds = [k for k, _ in plugin.calls if k in ("word", "sentence")]
    assert kinds[-1] == "sentence" and kinds[0] == "word"
    states = [s.state for s in plugin.of("status")]
    assert states[0] == "starting" and states[-1] == "stopping"
    final = plugin.of("status")[-1]
    assert final.frames == summary.frames and final.letters == len(summary.letters)
    assert final.inference_buckets[-1][1] <= final.frames
    assert [b for b, _ in final.inference_buckets] == sorted(b for b, _ in final.inference_buckets)
    assert watcher.hooks[0] == "start" and watcher.hooks[-1] == "stop"
    assert "status:stopping" in watcher.hooks
    assert plugin.stopped


def test_processing_a_file_is_deterministic(classifier):
    first = make_pipeline(classifier, ReadAhead(VideoFile(DEMO))).run()
    second = make_pipeline(classifier, ReadAhead(VideoFile(DEMO))).run()
    assert first.letters == second.letters and first.words == second.words


def test_a_failure_midway_flushes_what_was_recognised_and_stops_the_plugins(classifier):
    plugin = Recorder()
    pipeline = make_pipeline(classifier, FailAfter(200), plugin)
    with pytest.raises(UserError, match="frame 200 is corrupt"):
        pipeline.run()
    assert plugin.stopped
    assert len(plugin.of("frame")) == 200
    assert plugin.of("letter"), "the letters before the failure were delivered"
    # The open word was closed by the decoder's finish() and delivered too.
    assert plugin.of("word")[-1].classes[-1] == plugin.of("letter")[-1].class_id
    assert plugin.of("status")[-1].state == "stopping"


def test_no_hand_region_is_no_sign(classifier):
    class Nowhere:
        def locate(self, frame):
            return None

        def reset(self):
            pass

    plugin = Recorder()
    summary = make_pipeline(classifier, ReadAhead(VideoFile(DEMO)), plugin, region=Nowhere()).run()
    assert summary.frames > 400 and not summary.letters and not summary.words
    assert all(f.roi is None and f.class_id == "none" for f in plugin.of("frame"))


def test_stop_ends_a_live_run_cleanly(classifier):
    plugin = Recorder()
    source = LatestFrame(Paced(VideoFile(DEMO, loop=True)))
    pipeline = make_pipeline(classifier, source, plugin, drop_frames=True, status_interval=0.1)
    threading.Timer(0.6, pipeline.stop).start()
    summary = pipeline.run()
    assert 5 < summary.frames < 60  # about 0.6 s of 30 fps video
    assert plugin.stopped
    assert plugin.of("status")[-1].state == "stopping"
    assert any(s.state == "running" and s.fps > 0 for s in plugin.of("status"))


class StopAt(Observer):
    """Asks the pipeline to stop at frame ``n``, as a plugin or the watchdog may."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pipeline: Pipeline | None = None

    def on_start(self, pipeline):
        self.pipeline = pipeline

    def on_frame(self, event):
        if event.index == self.n and self.pipeline is not None:
            self.pipeline.stop()


def test_after_a_stop_is_asked_for_the_only_status_is_stopping(classifier):
    plugin = Recorder()
    # a status is due after every frame, so one reported after the stop would show
    pipeline = make_pipeline(
        classifier, ReadAhead(VideoFile(DEMO)), plugin, observers=[StopAt(5)], status_interval=0.0
    )
    summary = pipeline.run()
    assert summary.frames == 6
    after = [s.state for s in plugin.of("status") if s.frames == summary.frames]
    assert after == ["stopping"]


def test_sigterm_stops_the_pipeline_and_the_handlers_are_restored(classifier):
    source = LatestFrame(Paced(VideoFile(DEMO, loop=True)))
    pipeline = make_pipeline(classifier, source, drop_frames=True)
    before = signal.getsignal(signal.SIGTERM)
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
    with StopSignals() as signals:
        signals.attach(pipeline)
        summary = pipeline.run()
    assert signals.caught == [signal.SIGTERM]
    assert summary.frames > 0
    assert signal.getsignal(signal.SIGTERM) is before


def test_build_pipeline_wires_the_config(tmp_path, classifier):
    config_file = tmp_path / "c.toml"
    config_file.write_text(
        "[region]\nx = 0.1\ny = 0.1\nw = 0.5\nh = 0.5\n"
        "[decoder]\nhold_s = 0.25\n"
        '[classifier]\nviews = "scales"\n'
        '[service]\ndevice_id = "door-1"\n'
        f'[eventlog]\nenabled = true\npath = "{tmp_path / "events.jsonl"}"\n'
    )
    source = ReadAhead(VideoFile(DEMO))
    source.open()
    pipeline = build_pipeline(load_config(config_file), source, mode="process")
    try:
        assert pipeline.region.roi.to_pixels(640, 480) == (64, 48, 320, 240)
        assert pipeline.decoder.settings.hold_s == 0.25
        assert pipeline.reader.classifier.views == "scales"
        (plugin,) = pipeline.dispatcher.plugins
        assert plugin.name == "eventlog"
        assert plugin.context.device_id == "door-1" and plugin.context.mode == "process"
        assert plugin.context.fps == pytest.approx(30.0)
        assert plugin.context.frame_size == (640, 480)
    finally:
        source.close()
