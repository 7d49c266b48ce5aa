"""``edge-arasl make-demo``: the composed video, its truth file, and text-to-sign mapping."""

from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest

from edge_arasl.cli import main
from edge_arasl.demo import default_samples, text_to_classes
from edge_arasl.errors import UserError
from edge_arasl.preprocess import INPUT_SIZE


def test_text_maps_to_signs_word_by_word():
    assert text_to_classes("مدد") == [["meem", "dal", "dal"]]
    assert text_to_classes("  السلام   عليكم ") == [
        ["al", "seen", "la", "meem"],
        ["ain", "laam", "yaa", "kaaf", "meem"],
    ]
    assert text_to_classes("مال") == [["meem", "aleff", "laam"]]  # ال only as the article
    assert text_to_classes("لأن") == [["la", "nun"]]  # hamza forms: their base letter
    assert text_to_classes("مُدَّة") == [["meem", "dal", "toot"]]  # diacritics are not signed
    assert text_to_classes("على في") == [["ain", "laam", "ya"], ["fa", "yaa"]]


@pytest.mark.parametrize(("text", "bad"), [("salam", "'s' (U+0073)"), ("مرء", "'ء' (U+0621)")])
def test_characters_without_a_sign_are_rejected_by_name(text, bad):
    with pytest.raises(UserError, match=re.escape(f"no ArASL sign for {bad}")):
        text_to_classes(text)
    with pytest.raises(UserError, match="nothing to spell"):
        text_to_classes("  ")


def test_the_video_and_its_truth(tmp_path, capsys):
    out = tmp_path / "hello.mp4"
    assert (
        main(
            [
                "make-demo",
                str(out),
                "--text",
                "مدد لا",
                "--seed",
                "3",
                "--size",
                "320x240",
                "--fps",
                "20",
            ]
        )
        == 0
    )
    truth = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert truth["words"] == [["meem", "dal", "dal"], ["la"]]
    assert [x["class"] for x in truth["letters"]] == ["meem", "dal", "dal", "la"]
    for letter in truth["letters"]:
        assert 0.6 <= letter["end"] - letter["start"] <= 1.0  # a natural hold
        assert (default_samples() / letter["sample"]).is_file()  # a committed held-out image

    video = cv2.VideoCapture(str(out))
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(20.0)
    frames = []
    while (ok_frame := video.read())[0]:
        frames.append(ok_frame[1])
    assert frames[0].shape == (240, 320, 3)
    assert len(frames) == pytest.approx(truth["seconds"] * 20, abs=1)
    # The region holds the sign while a letter is held, and only background between words.
    x, y, w, h = 96, 48, 128, 128  # the default region in 320x240

    def region(t: float) -> np.ndarray:
        return frames[round(t * 20)][y : y + h, x : x + w].astype(np.float32)

    held = truth["letters"][0]
    pause = (truth["letters"][2]["end"] + truth["letters"][3]["start"]) / 2
    sample = cv2.imread(str(default_samples() / held["sample"]), cv2.IMREAD_GRAYSCALE)
    shown = cv2.resize(region((held["start"] + held["end"]) / 2)[:, :, 0], (INPUT_SIZE,) * 2)
    empty = cv2.resize(region(pause)[:, :, 0], (INPUT_SIZE,) * 2)
    assert np.corrcoef(shown.ravel(), sample.ravel())[0, 1] > 0.8
    assert np.corrcoef(empty.ravel(), sample.ravel())[0, 1] < 0.5


def test_the_same_seed_makes_the_same_video(tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    for path in (a, b):
        assert (
            main(["make-demo", str(path), "--text", "باب", "--seed", "7", "--size", "160x120"]) == 0
        )
    truth_a = json.loads(a.with_suffix(".json").read_text())
    truth_b = json.loads(b.with_suffix(".json").read_text())
    assert truth_a == truth_b
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["OUT.mkv", "--text", "باب"], "must end in .mp4 or .avi"),
        (["OUT.mp4", "--text", "hello"], "no ArASL sign for 'h'"),
        (["OUT.mp4", "--text", "باب", "--samples", "MISSING"], "no such folder of sample images"),
        (["missing-dir/x.mp4", "--text", "باب"], "no such folder for the output video"),
    ],
)
def test_bad_arguments_are_user_errors(tmp_path, capsys, args, message):
    args = [str(tmp_path / a) if a.startswith(("OUT", "MISSING", "missing")) else a for a in args]
    assert main(["make-demo", *args]) == 2
    assert message in capsys.readouterr().err


def test_scene_move_and_drift_flags(tmp_path, capsys):
    out = tmp_path / "busy.mp4"
    args = ["make-demo", str(out), "--text", "بب با", "--size", "160x120", "--fps", "10"]
    assert main([*args, "--scene", "busy", "--move", "--drift"]) == 0
    truth = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert (truth["scene"], truth["move"], truth["drift"]) == ("busy", "letter", True)
    boxes = [tuple(letter["box"]) for letter in truth["letters"]]
    assert len(set(boxes)) == len(boxes) == 4
    assert main([*args, "--move", "word"]) == 0
    truth = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert (truth["scene"], truth["move"], truth["drift"]) == ("plain", "word", False)
    boxes = [tuple(letter["box"]) for letter in truth["letters"]]
    assert boxes[0] == boxes[1] != boxes[2] == boxes[3]
    with pytest.raises(SystemExit):
        main(["make-demo", "--help"])
    help_text = capsys.readouterr().out
    assert all(flag in help_text for flag in ("--scene {plain,busy}", "--move", "--drift"))
    with pytest.raises(SystemExit):
        main([*args, "--scene", "forest"])
    assert "invalid choice: 'forest'" in capsys.readouterr().err
