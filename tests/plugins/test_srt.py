"""SRT subtitles of letters and words."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from edge_arasl_plugins.srt import SrtPlugin, SrtSettings

from edge_arasl.errors import UserError
from edge_arasl.plugin import FrameEvent, LetterEvent, PluginContext, PluginError, WordEvent
from edge_arasl.settings import from_table


def make_plugin(tmp_path, mode="process", **table) -> SrtPlugin:
    settings = from_table(SrtSettings, {"path": "subs.srt", **table}, "t.toml: [srt]")
    context = PluginContext(name="srt", device_id="d", mode=mode, state_dir=tmp_path)
    return SrtPlugin(settings, context)


def feed_salam_madad(plugin: SrtPlugin, offset: float = 0.0) -> None:
    salam = [("seen", "س"), ("laam", "ل"), ("aleff", "ا"), ("meem", "م")]
    for i, (c, t) in enumerate(salam):
        plugin.on_letter(LetterEvent(c, t, 0.9, offset + 1.0 + i, offset + 1.6 + i))
    plugin.on_word(WordEvent(tuple(c for c, _ in salam), "سلام", offset + 1.0, offset + 4.6))
    plugin.on_letter(LetterEvent("meem", "م", 0.9, offset + 5.5, offset + 6.0))  # hold cut
    plugin.on_letter(LetterEvent("dal", "د", 0.9, offset + 6.5, offset + 7.0))
    plugin.on_letter(LetterEvent("dal", "د", 0.9, offset + 7.5, offset + 8.0))
    plugin.on_word(WordEvent(("meem", "dal", "dal"), "مدد", offset + 5.5, offset + 8.0))


EXPECTED = """\
1
00:00:01,000 --> 00:00:02,000
س

2
00:00:02,000 --> 00:00:03,000
سل

3
00:00:03,000 --> 00:00:04,000
سلا

4
00:00:04,000 --> 00:00:05,500
سلام

5
00:00:05,500 --> 00:00:06,500
م

6
00:00:06,500 --> 00:00:07,500
مد

7
00:00:07,500 --> 00:00:10,000
مدد

"""


def test_cues_grow_letter_by_letter_and_hold_finished_words(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # `process` takes relative paths from the working directory
    plugin = make_plugin(tmp_path / "elsewhere")
    plugin.start()
    feed_salam_madad(plugin)
    written = (tmp_path / "subs.srt").read_text(encoding="utf-8")  # flushed cue by cue
    assert written == "".join(cue + "\n\n" for cue in EXPECTED.split("\n\n")[:6])
    plugin.stop()  # the last cue is written at the end
    assert (tmp_path / "subs.srt").read_text(encoding="utf-8") == EXPECTED


def test_daemon_times_count_from_the_first_frame(tmp_path):
    plugin = make_plugin(tmp_path, mode="run")
    assert plugin.wants_frames
    plugin.start()
    plugin.on_frame(FrameEvent(0, 5000.0, np.zeros((4, 4, 3), np.uint8), None, "none", 0.0))
    feed_salam_madad(plugin, offset=5000.0)
    plugin.stop()
    assert (tmp_path / "subs.srt").read_text(encoding="utf-8") == EXPECTED  # state dir


def test_process_mode_does_not_take_frames(tmp_path):
    assert not make_plugin(tmp_path).wants_frames


def test_settings_errors(tmp_path):
    with pytest.raises(PluginError, match=r"\[srt\] path: no output file"):
        make_plugin(tmp_path, path="").start()
    with pytest.raises(UserError, match=r"\[srt\]\.word_hold: must be in \[0, 60\] s, got -1.0$"):
        make_plugin(tmp_path, word_hold=-1.0)
    with pytest.raises(UserError, match=r"\[srt\]\.word_hold: expected a finite number, got inf$"):
        make_plugin(tmp_path, word_hold=float("inf"))


def test_process_srt_flag_writes_the_recognised_words(demo_video, tmp_path):
    srt = tmp_path / "demo.srt"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_arasl",
            "process",
            str(demo_video),
            "--json",
            "--srt",
            str(srt),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    words = [r for r in records if r["type"] == "word"]
    cues = [c.splitlines() for c in srt.read_text(encoding="utf-8").strip().split("\n\n")]
    letters = [r for r in records if r["type"] == "letter"]
    assert len(cues) == len(letters) > 0  # one cue per letter
    assert [c[0] for c in cues] == [str(i) for i in range(1, len(cues) + 1)]
    assert cues[-1][2] == words[-1]["text"]  # the last cue holds the finished last word


def test_a_folder_as_the_output_fails_at_start(tmp_path):
    (tmp_path / "out.srt").mkdir()
    with pytest.raises(PluginError, match=r"^\[srt\] path: .*out\.srt is a folder, not a file$"):
        make_plugin(tmp_path, path=str(tmp_path / "out.srt")).start()


def test_a_full_disk_is_a_plugin_error_naming_the_file(tmp_path):
    plugin = make_plugin(tmp_path, path="/dev/full")  # every write: No space left on device
    plugin.start()
    with pytest.raises(PluginError, match=r"^\[srt\] cannot write /dev/full: No space left"):
        feed_salam_madad(plugin)
    with pytest.raises(PluginError, match=r"^\[srt\] cannot write /dev/full"):
        plugin.stop()  # the cue still waiting cannot be written either; the file is closed
    assert plugin._file.closed
