"""Every output plugin shows, logs, publishes and speaks a word's chosen text, never the raw one.

The decoder's speller may change a word (``raw_text`` همر -> ``text`` قمر); plugins must use
``text``, and those that serialise the event carry the raw fields and ``corrected`` too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from edge_arasl_plugins.eventlog import EventLogPlugin, EventLogSettings
from edge_arasl_plugins.mqtt import MqttPlugin, MqttSettings
from edge_arasl_plugins.overlay import OverlayPlugin, OverlaySettings
from edge_arasl_plugins.speech import SpeechPlugin, SpeechSettings
from edge_arasl_plugins.srt import SrtPlugin, SrtSettings
from edge_arasl_plugins.video import VideoPlugin, VideoSettings
from mqtt_broker import Subscriber

from edge_arasl.plugin import FrameEvent, LetterEvent, PluginContext, SentenceEvent, WordEvent
from edge_arasl.settings import from_table

RAW = ("ha", "meem", "ra")
CHOSEN = ("gaaf", "meem", "ra")
WORD = WordEvent(CHOSEN, "قمر", 1.0, 3.0, raw_classes=RAW, raw_text="همر", corrected=True)
LETTERS = [LetterEvent(c, t, 0.8, 1.0 + i * 0.6, 1.5 + i * 0.6) for i, (c, t) in
           enumerate(zip(RAW, "همر", strict=True))]  # fmt: skip


def make(cls, settings_cls, tmp_path: Path, mode: str = "process", **table):
    settings = from_table(settings_cls, table, f"t.toml: [{cls.name}]")
    context = PluginContext(
        name=cls.name, device_id="pi-1", mode=mode, state_dir=tmp_path, fps=30.0,
        frame_size=(640, 480),
    )  # fmt: skip
    return cls(settings, context)


def feed(plugin) -> None:
    for letter in LETTERS:
        plugin.on_letter(letter)
    plugin.on_word(WORD)


def test_the_event_carries_both_spellings():
    d = WORD.to_dict()
    assert (d["text"], d["classes"]) == ("قمر", list(CHOSEN))
    assert (d["raw_text"], d["raw_classes"], d["corrected"]) == ("همر", list(RAW), True)


def test_eventlog_logs_the_chosen_and_the_raw_text(tmp_path):
    plugin = make(EventLogPlugin, EventLogSettings, tmp_path, path=str(tmp_path / "e.jsonl"))
    plugin.start()
    feed(plugin)
    plugin.stop()
    word = [json.loads(x) for x in (tmp_path / "e.jsonl").read_text("utf-8").splitlines()][-1]
    assert (word["text"], word["raw_text"], word["corrected"]) == ("قمر", "همر", True)


def test_mqtt_publishes_the_chosen_and_the_raw_text(tmp_path, mosquitto):
    sub = Subscriber(mosquitto, "edge-arasl/#")
    try:
        plugin = make(MqttPlugin, MqttSettings, tmp_path, host=mosquitto.host, port=mosquitto.port)
        plugin.start()
        feed(plugin)
        messages = sub.wait_for(lambda ms: any(m.topic.endswith("/word") for m in ms))
        plugin.stop()
    finally:
        sub.close()
    (word,) = [json.loads(m.payload) for m in messages if m.topic.endswith("/word")]
    assert (word["text"], word["raw_text"], word["corrected"]) == ("قمر", "همر", True)
    assert word["classes"] == list(CHOSEN) and word["raw_classes"] == list(RAW)


def test_srt_shows_the_chosen_word(tmp_path):
    plugin = make(SrtPlugin, SrtSettings, tmp_path, path=str(tmp_path / "s.srt"))
    plugin.start()
    feed(plugin)
    plugin.stop()
    cues = (tmp_path / "s.srt").read_text("utf-8").split("\n\n")
    assert cues[-2].splitlines()[-1] == "قمر"  # the word's cue: the last one written
    assert "همر" not in cues[-2]


def test_overlay_and_video_draw_the_chosen_word(tmp_path):
    overlay = make(OverlayPlugin, OverlaySettings, tmp_path, path=str(tmp_path / "o.jpg"))
    video = make(VideoPlugin, VideoSettings, tmp_path, path=str(tmp_path / "v.mp4"))
    for plugin in (overlay, video):
        plugin.start()
        feed(plugin)
        plugin.on_frame(FrameEvent(0, 3.5, np.zeros((480, 640, 3), np.uint8), None, "none", 0.0))
        assert plugin.overlay.running_text == "قمر"
        plugin.stop()


def test_speech_says_the_chosen_word_and_sentence(tmp_path, mosquitto):
    sub = Subscriber(mosquitto, "hermes/#")
    hermes = {"enabled": True, "host": mosquitto.host, "port": mosquitto.port}
    try:
        words = make(SpeechPlugin, SpeechSettings, tmp_path, play=False, hermes=hermes)
        words.start()
        feed(words)
        words.on_sentence(SentenceEvent(("قمر",), 1.0, 3.0))  # word unit: not spoken again
        messages = sub.wait_for(lambda ms: len(ms) >= 1)
        words.stop()
    finally:
        sub.close()
    assert [json.loads(m.payload)["text"] for m in messages] == ["قمر"]
