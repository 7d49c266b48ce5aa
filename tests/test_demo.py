"""make_demo's harder videos: a busy room, a hand that moves, a drifting background.

Small, slow-frame-rate videos keep this fast; each is made once per module.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.demo import default_samples, make_demo, truth_path
from edge_arasl.errors import UserError
from edge_arasl.preprocess import resize
from edge_arasl.region import Roi

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SIZE, FPS, TEXT = (320, 240), 10.0, "باب مدد"
REGION = Roi().to_pixels(*SIZE)  # (96, 48, 128, 128)


def frames_of(video: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    frames = []
    while (got := cap.read())[0]:
        frames.append(got[1])
    cap.release()
    return frames


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, tuple[dict, list[np.ndarray]]]:
    """The same text and seed in four kinds of scene: ``{name: (truth, frames)}``."""
    folder = tmp_path_factory.mktemp("demos")
    kinds = {
        "plain": {},
        "busy": {"scene": "busy"},
        "moving": {"scene": "busy", "move": True},
        "words": {"move": "word"},
        "drift": {"scene": "busy", "drift": True},
    }
    out = {}
    for name, options in kinds.items():
        video = folder / f"{name}.mp4"
        truth = make_demo(video, TEXT, seed=4, fps=FPS, size=SIZE, **options)
        out[name] = (truth, frames_of(video))
    return out


def gray_crop(frame: np.ndarray, box: list[int] | tuple[int, ...]) -> np.ndarray:
    x, y, w, h = box
    return cv2.cvtColor(frame[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY).astype(np.float32)


def hand_free_frame(truth: dict, frames: list[np.ndarray], span: int) -> np.ndarray:
    start, end = truth["hand_free"][span]
    return frames[round((start + end) / 2 * FPS)]


def test_the_busy_room_fills_the_empty_region_and_the_frame(videos):
    (plain, plain_frames), (busy, busy_frames) = videos["plain"], videos["busy"]
    assert busy["scene"] == "busy" and plain["scene"] == "plain"
    for span in (0, 1):  # the lead-in, and the pause between the words
        empty_plain = gray_crop(hand_free_frame(plain, plain_frames, span), REGION)
        empty_busy = gray_crop(hand_free_frame(busy, busy_frames, span), REGION)
        edges = [np.abs(cv2.Laplacian(e, cv2.CV_32F)).mean() for e in (empty_plain, empty_busy)]
        assert edges[1] > 3 * edges[0]  # shapes, lines and noise, not a smooth wall
        assert empty_busy.std() > 1.5 * empty_plain.std()
    outside = []  # how much of the frame around the region is an edge
    for kind in ("plain", "busy"):
        frame = gray_crop(hand_free_frame(*videos[kind], 0), (0, 0, *SIZE))
        edges = np.abs(cv2.Laplacian(frame, cv2.CV_32F))
        x, y, w, h = REGION
        edges[y : y + h, x : x + w] = np.nan
        outside.append(np.mean(edges[~np.isnan(edges)] > 10))
    assert outside[1] > 2.5 * outside[0]  # the plain room: a shelf and a door edge
    # The signing itself does not depend on the scene.
    assert busy["letters"] == plain["letters"] and busy["hand_free"] == plain["hand_free"]


def test_a_moving_hand_has_a_box_per_letter_inside_the_frame(videos):
    truth, _ = videos["moving"]
    boxes = [tuple(letter["box"]) for letter in truth["letters"]]
    assert truth["move"] == "letter"
    assert all(a != b for a, b in itertools.pairwise(boxes))
    for x, y, w, h in boxes:
        assert min(x, y) >= 0 and x + w <= SIZE[0] and y + h <= SIZE[1] and min(w, h) >= 16
    assert len({(w, h) for _, _, w, h in boxes}) > 1  # the size changes too
    # Without move, every letter is shown at the region.
    assert {tuple(letter["box"]) for letter in videos["plain"][0]["letters"]} == {REGION}


def test_moving_by_word_keeps_the_box_within_a_word(videos):
    truth, _ = videos["words"]
    boxes = [tuple(letter["box"]) for letter in truth["letters"]]
    assert truth["move"] == "word"
    assert len(set(boxes[:3])) == 1 and len(set(boxes[3:])) == 1 and boxes[0] != boxes[3]


@pytest.mark.parametrize("kind", ["moving", "words", "plain"])
def test_the_hand_is_at_its_box_in_the_middle_of_its_hold(videos, kind):
    truth, frames = videos[kind]
    for letter in truth["letters"]:
        frame = frames[round((letter["start"] + letter["end"]) / 2 * FPS)]
        sample = cv2.imread(str(default_samples() / letter["sample"]), cv2.IMREAD_GRAYSCALE)
        shown = resize(gray_crop(frame, letter["box"]))  # area-averaged, as the model reads
        assert np.corrcoef(shown.ravel(), sample.ravel())[0, 1] > 0.8, letter


def test_no_letter_is_shown_in_a_hand_free_span(videos):
    truth, _ = videos["moving"]
    spans = truth["hand_free"]
    assert spans[0][0] == 0 and spans[-1][1] == truth["seconds"]
    assert len(spans) == 1 + 1 + 1 + 1  # lead-in, the repeated dal, the word pause, the tail
    for letter in truth["letters"]:
        assert all(letter["end"] <= a or b <= letter["start"] for a, b in spans)


def test_a_drifting_room_changes_slowly(videos):
    (truth, frames), (_, busy) = videos["drift"], videos["busy"]
    first, last = gray_crop(frames[0], (0, 0, *SIZE)), gray_crop(frames[-1], (0, 0, *SIZE))
    step = np.abs(gray_crop(frames[1], (0, 0, *SIZE)) - first).mean()
    assert np.abs(last - first).mean() > 3 * step  # it moved over seconds, little per frame
    static = np.abs(gray_crop(busy[0], (0, 0, *SIZE)) - gray_crop(busy[4], (0, 0, *SIZE)))
    assert static.mean() < 1.0 and truth["drift"] is True


def test_the_same_seed_makes_the_same_busy_moving_video(tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    for path in (a, b):
        make_demo(path, "بب", seed=9, fps=FPS, size=(160, 120), scene="busy", move=True, drift=True)
    assert a.read_bytes() == b.read_bytes()
    assert truth_path(a).read_text() == truth_path(b).read_text()


def test_the_defaults_still_make_the_committed_demo(tmp_path):
    """``examples/demo.mp4`` is ``make-demo --text "السلام عليكم مدد" --seed 3``, unchanged."""
    committed = json.loads((EXAMPLES / "demo.json").read_text(encoding="utf-8"))
    out = tmp_path / "demo.mp4"
    truth = make_demo(out, committed["text"], seed=committed["seed"])
    assert committed["seed"] == 3  # docs/pipeline.md says why
    for letter in truth["letters"]:
        assert letter["box"] == list(Roi().to_pixels(640, 480))
    assert {k: truth[k] for k in ("scene", "move", "drift")} == {
        "scene": "plain",
        "move": False,
        "drift": False,
    }
    assert json.loads(json.dumps(truth)) == committed  # same samples, poses and timings
    made, shipped = frames_of(out), frames_of(EXAMPLES / "demo.mp4")
    assert len(made) == len(shipped)
    # Byte-equal with the same encoder; another OpenCV build may encode a little differently.
    worst = max(np.abs(a.astype(np.int16) - b).mean() for a, b in zip(made, shipped, strict=True))
    assert worst < 1.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scene": "forest"}, "scene 'forest'"),
        ({"move": "sometimes"}, "move 'sometimes'"),
        ({"move_scale": (1.2, 0.5)}, "move_scale"),
    ],
)
def test_bad_options_are_user_errors(tmp_path, options, message):
    with pytest.raises(UserError, match=message):
        make_demo(tmp_path / "x.mp4", "بب", size=(160, 120), **options)
