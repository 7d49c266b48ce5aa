"""``edge-arasl process`` on the committed demo video: text, JSON lines, errors, flags."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from commands import edge_arasl

from edge_arasl.cli import main
from edge_arasl.cli import process as process_cmd

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.mp4"


@pytest.fixture(scope="module")
def json_run() -> tuple[list[dict], subprocess.CompletedProcess[str]]:
    result = edge_arasl("process", str(DEMO), "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result


def test_json_lines_are_letters_and_words_then_one_summary(json_run):
    records, result = json_run
    assert records[-1]["type"] == "summary"
    assert {r["type"] for r in records[:-1]} <= {"letter", "word", "sentence"}
    sentences = [r for r in records if r["type"] == "sentence"]
    assert sentences and records[-2]["type"] == "sentence"  # finish() closes the last one
    assert [w for s in sentences for w in s["words"]] == [
        r["text"] for r in records if r["type"] == "word"
    ]
    letters = [r for r in records if r["type"] == "letter"]
    words = [r for r in records if r["type"] == "word"]
    assert letters and words
    assert set(letters[0]) == {"type", "class", "text", "confidence", "start", "end"}
    assert set(words[0]) == {
        "type", "classes", "text", "start", "end", "raw_classes", "raw_text", "corrected",
    }  # fmt: skip
    assert all(w["corrected"] == (w["classes"] != w["raw_classes"]) for w in words)
    assert set(records[-1]) == {"type", "text", "letters", "words", "frames", "seconds"}
    summary = records[-1]
    assert summary["letters"] == len(letters) and summary["words"] == len(words)
    assert summary["text"] == " ".join(w["text"] for w in words)
    assert summary["frames"] == int(cv2.VideoCapture(str(DEMO)).get(cv2.CAP_PROP_FRAME_COUNT))
    # Arabic is written as itself, not as \\u escapes.
    assert "\\u" not in result.stdout and any("\u0600" <= ch <= "\u06ff" for ch in result.stdout)
    # A word follows its letters, in time order.
    times = [r["start"] for r in letters]
    assert times == sorted(times)


def test_plain_output_is_the_text_and_logs_stay_on_stderr(json_run, capsys):
    records, _ = json_run
    assert main(["process", str(DEMO)]) == 0
    out, err = capsys.readouterr()
    assert out == records[-1]["text"] + "\n"
    assert "\r" not in err  # no progress bar when stderr is not a terminal


def test_realtime_paces_at_the_frame_rate(tmp_path, capsys):
    clip = tmp_path / "clip.avi"
    reader = cv2.VideoCapture(str(DEMO))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
    for _ in range(15):
        writer.write(reader.read()[1])
    writer.release()
    assert main(["process", str(clip), "--realtime", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["seconds"] >= 14 / 30 - 0.02  # not faster than the video plays
    assert 1 <= summary["frames"] <= 15


def test_roi_flag_moves_the_region(tmp_path, capsys):
    # The region away from the hand sees only the background: nothing is recognised.
    assert main(["process", str(DEMO), "--roi", "0,0,0.25,0.3", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["letters"] == 0 and summary["text"] == ""


def test_a_folder_of_images_is_processed_like_a_video(tmp_path, capsys):
    reader = cv2.VideoCapture(str(DEMO))
    for i in range(40):
        cv2.imwrite(str(tmp_path / f"{i}.png"), reader.read()[1])
    assert main(["process", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["frames"] == 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.mp4"], "missing.mp4: no such video file"),
        (["NOT_A_VIDEO"], "NOT_A_VIDEO: cannot be opened as a video"),
        ([str(DEMO), "--roi", "0.5,0.5,0.6,0.2"], "--roi: region 0.5,0.5,0.6,0.2: must lie"),
        ([str(DEMO), "--roi", "left"], "--roi: region 'left': expected four numbers"),
        ([str(DEMO), "--config", "BAD_CONFIG"], "BAD_CONFIG: [decoder]: unknown key 'hold'"),
        ([str(DEMO), "--config", "missing.toml"], "missing.toml: no such config file"),
    ],
)
def test_bad_input_is_one_line_naming_it_and_exit_2(tmp_path, args, message):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\0" * 4096)
    bad = tmp_path / "bad.toml"
    bad.write_text("[decoder]\nhold = 1\n")
    args = [str(junk) if a == "NOT_A_VIDEO" else str(bad) if a == "BAD_CONFIG" else a for a in args]
    message = message.replace("NOT_A_VIDEO", str(junk)).replace("BAD_CONFIG", str(bad))
    result = edge_arasl("process", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"edge-arasl: error: {message}" + result.stderr.split(message, 1)[1]
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_output_flags_enable_their_plugins(json_run, tmp_path, capsys):
    records, _ = json_run
    assert set(process_cmd.PLUGIN_FLAGS) >= {"--output", "--srt"}
    video, subtitles = tmp_path / "annotated.mp4", tmp_path / "letters.srt"
    assert main(["process", str(DEMO), "--output", str(video), "--srt", str(subtitles)]) == 0
    assert capsys.readouterr().out == records[-1]["text"] + "\n"
    written = cv2.VideoCapture(str(video))
    assert int(written.get(cv2.CAP_PROP_FRAME_COUNT)) == records[-1]["frames"]
    srt = subtitles.read_text(encoding="utf-8")
    for word in (r for r in records if r["type"] == "word"):
        assert word["text"] in srt


def test_a_progress_bar_is_drawn_when_stderr_is_a_terminal():
    master, slave = os.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "edge_arasl", "process", str(DEMO)],
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=120,
        )
        os.close(slave)
        drawn = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(master)
    assert result.returncode == 0
    text = drawn.decode("utf-8", "replace")
    assert "\r[" in text and "frames" in text and "%" in text
    assert text.endswith("\r\x1b[K")  # the bar is cleared at the end


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    remaining = iter(whole)
    return all(item in remaining for item in part)


def test_hand_auto_reads_the_demo_words_without_false_letters():
    """The palm detector misses some of ArASL's low-resolution hands (models/MODEL_CARD.md,
    "Hand finding"), so auto mode reads fewer letters than fixed mode here; but every letter
    it reads is in its word, and the word breaks are right."""
    result = edge_arasl("process", str(DEMO), "--hand", "auto", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    truth = json.loads(DEMO.with_suffix(".json").read_text(encoding="utf-8"))["words"]
    words = [r["raw_classes"] for r in records if r["type"] == "word"]
    assert len(words) == len(truth)
    assert all(is_subsequence(got, want) for got, want in zip(words, truth, strict=True))
    assert sum(map(len, words)) >= len([c for w in truth for c in w]) // 2


@pytest.mark.parametrize("key", ["palm_model", "landmark_model"])
def test_a_missing_hand_model_is_one_line_naming_it_and_the_fix(tmp_path, key):
    missing = tmp_path / "gone.tflite"
    config = tmp_path / "config.toml"
    config.write_text(f'[hand]\n{key} = "{missing}"\n', encoding="utf-8")
    result = edge_arasl("process", str(DEMO), "--config", str(config))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(missing) in line and "extract_hand_models" in line and "Traceback" not in line


def test_hand_rejects_an_unknown_mode(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["process", str(DEMO), "--hand", "everywhere"])
    assert exit_info.value.code == 2
    assert "--hand: invalid choice" in capsys.readouterr().err


def test_a_sigterm_while_the_command_starts_still_ends_with_a_summary(monkeypatch, capsys):
    from edge_arasl import cli

    real_parser = cli.build_parser

    def while_importing():
        os.kill(os.getpid(), signal.SIGTERM)  # as if it came while the commands' modules load
        return real_parser()

    monkeypatch.setattr(cli, "build_parser", while_importing)
    assert main(["process", str(DEMO), "--json"]) == 128 + signal.SIGTERM
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["type"] == "summary" and summary["frames"] == 0


def test_an_output_that_fails_is_exit_1_naming_it_after_the_complete_text(json_run, tmp_path):
    records, _ = json_run
    result = edge_arasl("process", str(DEMO), "--json", "--srt", "/dev/full")
    assert result.returncode == 1
    assert [json.loads(line) for line in result.stdout.splitlines()][:-1] == records[:-1]
    assert result.stderr.splitlines()[-1] == (
        "edge-arasl: error: output failed: srt: on_letter: [srt] cannot write /dev/full: "
        "No space left on device"
    )
    assert "Traceback" not in result.stderr
