"""The speech plugin with the real espeak-ng (WAV files) and a real mosquitto (Hermes)."""

from __future__ import annotations

import json
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from edge_arasl_plugins.speech import SpeechPlugin, SpeechSettings
from mqtt_broker import Subscriber, find_executable, free_port

from edge_arasl.cli import main
from edge_arasl.plugin import PluginContext, PluginError, SentenceEvent, WordEvent
from edge_arasl.settings import from_table

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def espeak() -> str:
    return find_executable("espeak-ng")  # fails with the apt package to install


def make_plugin(tmp_path: Path, **table) -> SpeechPlugin:
    settings = from_table(SpeechSettings, table, "t.toml: [speech]")
    context = PluginContext(name="speech", device_id="pi-1", mode="run", state_dir=tmp_path)
    return SpeechPlugin(settings, context)


def word(text: str, start: float = 0.0) -> WordEvent:
    return WordEvent(("meem",) * len(text), text, start, start + 1.0)


def read_wav(path: Path) -> tuple[float, float]:
    """Seconds and RMS (in 16-bit units) of a mono 16-bit WAV file."""
    with wave.open(str(path)) as f:
        assert f.getsampwidth() == 2 and f.getnchannels() == 1
        samples = np.frombuffer(f.readframes(f.getnframes()), dtype=np.int16)
        seconds = f.getnframes() / f.getframerate()
    return seconds, float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_one_non_silent_wav_per_word_longer_for_longer_text(tmp_path):
    plugin = make_plugin(tmp_path, wav_dir="speech")  # relative: in the state directory
    plugin.start()
    texts = ["لا", "سلام", "السلام عليكم ورحمة الله"]
    started = time.perf_counter()
    for i, text in enumerate(texts):
        plugin.on_word(word(text, float(i)))
    assert time.perf_counter() - started < 0.1  # the hook only queues
    plugin.stop()
    files = sorted((tmp_path / "speech").glob("*.wav"))
    assert files == sorted(plugin.files) and len(files) == 3
    measured = [read_wav(f) for f in plugin.files]  # in speaking order
    durations = [seconds for seconds, _ in measured]
    assert durations == sorted(durations) and durations[0] > 0.1
    assert durations[2] > 2 * durations[0]
    assert all(rms > 300 for _, rms in measured), measured  # speech, not silence


def test_sentence_unit_speaks_sentences_not_words(tmp_path):
    words = make_plugin(tmp_path, wav_dir=str(tmp_path / "words"))
    sentences = make_plugin(tmp_path, wav_dir=str(tmp_path / "sentences"), unit="sentence")
    for plugin in (words, sentences):
        plugin.start()
        plugin.on_word(word("سلام"))
        plugin.on_word(word("مدد", 2.0))
        plugin.on_sentence(SentenceEvent(("سلام", "مدد"), 0.0, 3.0))
        plugin.stop()
    assert len(words.files) == 2
    (sentence,) = sentences.files
    assert read_wav(sentence)[0] > max(read_wav(f)[0] for f in words.files)


def test_missing_espeak_is_one_line_naming_the_apt_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without espeak-ng
    plugin = make_plugin(tmp_path, wav_dir="out")
    with pytest.raises(PluginError) as info:
        plugin.start()
    message = str(info.value)
    assert "\n" not in message and "espeak-ng not found" in message
    assert "apt install espeak-ng" in message


def test_an_unknown_voice_fails_at_start(tmp_path):
    with pytest.raises(PluginError, match=r"\[speech\] voice: espeak-ng has no voice 'xx-nope'"):
        make_plugin(tmp_path, wav_dir="out", voice="xx-nope").start()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rate": 10}, r"\]\.rate: must be in \[80, 450\] words/min, got 10$"),
        ({"queue_size": 0}, r"\]\.queue_size: must be in \[1, 10000\], got 0$"),
        ({"drain_timeout": 1e308}, r"\]\.drain_timeout: must be in \[0, 600\] s, got 1e\+308$"),
        ({"unit": "phrase"}, r"unit: 'phrase' is not one of"),
        ({"hermes": {"port": 0}}, r"\]\.hermes\.port: must be in \[1, 65535\], got 0$"),
        ({"hermes": {"connect_timeout": 0}}, r"\]\.hermes\.connect_timeout: must be in \(0, 60\]"),
    ],
)
def test_bad_settings_name_the_key(table, message):
    from edge_arasl.errors import UserError

    with pytest.raises(UserError, match=message):
        from_table(SpeechSettings, table, "t.toml: [speech]")


def test_a_full_queue_drops_the_oldest_and_never_blocks(tmp_path):
    plugin = make_plugin(tmp_path, wav_dir="out", queue_size=2)
    plugin.start()
    texts = [f"كلمة{'ا' * i}" for i in range(8)]
    started = time.perf_counter()
    for text in texts:
        plugin.on_word(word(text))
    assert time.perf_counter() - started < 0.1
    plugin.stop()
    # Eight words queued in microseconds while one takes espeak-ng tens of milliseconds: the
    # queue of two overflowed, and every word was either spoken or counted as dropped.
    assert plugin.dropped >= 1
    assert plugin.spoken + plugin.dropped == 8
    assert len(plugin.files) == plugin.spoken


def test_hermes_hand_off_publishes_tts_say(tmp_path, mosquitto):
    sub = Subscriber(mosquitto, "hermes/#")
    try:
        plugin = make_plugin(
            tmp_path,
            play=False,
            hermes={"enabled": True, "host": mosquitto.host, "port": mosquitto.port,
                    "site_id": "kitchen"},
        )  # fmt: skip
        plugin.start()
        plugin.on_word(word("سلام"))
        plugin.on_word(word("مدد", 2.0))
        messages = sub.wait_for(lambda m: len(m) >= 2)
        plugin.stop()
    finally:
        sub.close()
    assert {m.topic for m in messages} == {"hermes/tts/say"}
    payloads = [json.loads(m.payload) for m in messages]
    assert [p["text"] for p in payloads] == ["سلام", "مدد"]
    assert all(p["lang"] == "ar" and p["siteId"] == "kitchen" for p in payloads)
    assert len({p["id"] for p in payloads}) == 2
    assert plugin.spoken == 0 and not plugin.files  # play = false: nothing spoken here


def test_an_unreachable_hermes_broker_fails_at_start(tmp_path):
    hermes = {"enabled": True, "host": "127.0.0.1", "port": free_port(), "connect_timeout": 0.5}
    with pytest.raises(PluginError, match=r"\[speech\] hermes: cannot connect to MQTT broker"):
        make_plugin(tmp_path, play=False, hermes=hermes).start()


def test_process_speech_dir_writes_one_wav_per_word(tmp_path, capsys):
    out = tmp_path / "speech"
    assert main(["process", str(REPO / "examples" / "demo.mp4"), "--speech-dir", str(out)]) == 0
    words = capsys.readouterr().out.split()
    files = sorted(out.glob("*.wav"))
    assert words and len(files) == len(words)
    assert all(read_wav(f)[1] > 300 for f in files)
