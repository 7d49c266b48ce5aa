"""The JSON-lines event log."""

from __future__ import annotations

import json
import time

import pytest
from edge_arasl_plugins.eventlog import EventLogPlugin, EventLogSettings

from edge_arasl.plugin import (
    LetterEvent,
    PluginContext,
    PluginError,
    SentenceEvent,
    StatusEvent,
    WordEvent,
)
from edge_arasl.settings import from_table

LETTER = LetterEvent("seen", "س", 0.91234, 1.0, 1.6)
WORD = WordEvent(("laam", "aleff"), "لا", 2.0, 3.0)


def make_plugin(tmp_path, **table) -> EventLogPlugin:
    settings = from_table(EventLogSettings, table, "t.toml: [eventlog]")
    context = PluginContext(name="eventlog", device_id="pi-1", mode="run", state_dir=tmp_path)
    return EventLogPlugin(settings, context)


def read_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_event_is_one_flushed_json_line(tmp_path):
    plugin = make_plugin(tmp_path)
    plugin.start()
    before = time.time()
    plugin.on_letter(LETTER)
    path = tmp_path / "events.jsonl"  # relative: in the daemon's state directory
    (letter,) = read_lines(path)  # readable before stop: flushed per line
    plugin.on_status(StatusEvent("running", 1.0))  # not logged by default
    plugin.on_word(WORD)
    plugin.on_sentence(SentenceEvent(("لا", "سلام"), 2.0, 5.0))
    plugin.stop()
    letter, word, sentence = read_lines(path)
    assert letter == {**LETTER.to_dict(), "device_id": "pi-1", "wall_time": letter["wall_time"]}
    assert before - 1 <= letter["wall_time"] <= time.time() + 1
    assert word["type"] == "word" and word["text"] == "لا" and word["classes"] == ["laam", "aleff"]
    assert sentence == {
        "type": "sentence", "text": "لا سلام", "words": ["لا", "سلام"], "start": 2.0,
        "end": 5.0, "device_id": "pi-1", "wall_time": sentence["wall_time"],
    }  # fmt: skip
    assert "لا" in path.read_text(encoding="utf-8")  # raw Unicode, not \\u escapes


def test_appends_and_optionally_logs_status(tmp_path):
    for _ in range(2):
        plugin = make_plugin(tmp_path, path="logs/ev.jsonl", status=True)
        plugin.start()
        plugin.on_status(StatusEvent("running", 1.0, frames=10, fps=30.0))
        plugin.stop()
    records = read_lines(tmp_path / "logs" / "ev.jsonl")
    assert [r["type"] for r in records] == ["status", "status"]
    assert records[0]["frames"] == 10 and records[0]["state"] == "running"


def test_strftime_path_names_the_file(tmp_path):
    plugin = make_plugin(tmp_path, path="events-%Y.jsonl")
    plugin.start()
    plugin.on_word(WORD)
    plugin.stop()
    assert read_lines(tmp_path / f"events-{time.strftime('%Y')}.jsonl")[0]["text"] == "لا"


def test_a_folder_as_the_log_fails_at_start(tmp_path):
    (tmp_path / "events.jsonl").mkdir()
    with pytest.raises(PluginError, match=r"^\[eventlog\] path: .*events\.jsonl is a folder"):
        make_plugin(tmp_path).start()


def test_a_full_disk_is_a_plugin_error_naming_the_file(tmp_path):
    plugin = make_plugin(tmp_path, path="/dev/full")  # every write: No space left on device
    plugin.start()
    with pytest.raises(PluginError, match=r"^\[eventlog\] cannot write /dev/full: No space left"):
        plugin.on_letter(LETTER)
    with pytest.raises(PluginError, match=r"^\[eventlog\] cannot write /dev/full"):
        plugin.stop()  # the line still waiting cannot be written either; the file is closed
