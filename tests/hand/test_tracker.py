"""Tracking with the real models: found, followed, lost, found again; and the region modes."""

from __future__ import annotations

import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.hand.tracker import HandSettings, HandTracker, PalmSearch, RectangleSearch
from edge_arasl.region import AutoRegion, FixedRegion, RegionSettings, Roi, build_region
from edge_arasl.sources.base import Frame

FPS = 30.0


def run(tracker: HandTracker, frames: list[np.ndarray]) -> list:
    return [tracker.find(frame, i / FPS) for i, frame in enumerate(frames)]


def centre(hand) -> np.ndarray:
    return hand.points[:, :2].mean(axis=0)


def test_found_by_the_palm_detector_then_followed_by_landmarks(palms, landmarks, scene):
    settings = HandSettings(search_fps=0)
    tracker = HandTracker(PalmSearch(palms, landmarks, 0.5), landmarks, settings)
    hands = run(tracker, [scene((100, 120))] * 5)
    assert all(hand is not None for hand in hands)
    assert tracker.searches == 1  # the detector ran once; four frames came from the track
    assert tracker.tracking
    assert 100 < centre(hands[-1])[0] < 356 and 120 < centre(hands[-1])[1] < 376


def test_a_lost_hand_is_held_briefly_then_searched_for_and_found_elsewhere(palms, landmarks, scene):
    settings = HandSettings(search_fps=0, hold_s=0.05)
    tracker = HandTracker(PalmSearch(palms, landmarks, 0.5), landmarks, settings)
    frames = [scene((40, 100))] * 3 + [scene(None)] * 4 + [scene((360, 200))] * 3
    hands = run(tracker, frames)
    assert all(h is not None for h in hands[:3])
    assert hands[3] is hands[2]  # 33 ms after the last sighting: held
    assert hands[4] is None and hands[5] is None and hands[6] is None  # 67 ms on: gone
    assert all(h is not None for h in hands[7:])
    assert centre(hands[-1])[0] > 360  # found again at the new place
    assert tracker.searches == 1 + 4 + 1  # found, each empty frame (search_fps = 0), found again


def test_the_search_runs_at_most_search_fps_times_a_second(palms, landmarks, scene):
    tracker = HandTracker(PalmSearch(palms, landmarks, 0.5), landmarks, HandSettings(search_fps=10))
    assert run(tracker, [scene(None)] * 30) == [None] * 30  # one second without a hand
    assert tracker.searches == 10


def test_fixed_mode_reads_no_hand_in_an_empty_rectangle(landmarks, palms, scene):
    region = FixedRegion(Roi(), landmarks, HandSettings(), palms)
    box = Roi().to_pixels(640, 480)
    empty = region.locate(Frame(scene(None), 0.0, 0))
    assert empty is not None and empty.box == box and empty.hand is None and empty.looked
    located = region.locate(Frame(scene(box[:2]), 1.0, 1))
    assert located is not None and not located.looked
    assert located is not None and located.box == box and located.hand is not None
    hx, hy, hw, hh = located.hand_box
    assert box[0] - 20 <= hx and hx + hw <= box[0] + box[2] + 20
    assert box[1] - 20 <= hy and hy + hh <= box[1] + box[3] + 20


def test_fixed_mode_ignores_a_hand_outside_the_rectangle(landmarks, palms, scene):
    search = RectangleSearch(Roi(0.0, 0.0, 0.3, 0.3).to_pixels(640, 480), landmarks, 0.5, palms)
    tracker = HandTracker(search, landmarks, HandSettings(search_fps=0))
    assert run(tracker, [scene((360, 200))] * 3) == [None] * 3


def test_auto_mode_crops_a_square_around_the_hand(palms, landmarks, scene):
    region = AutoRegion(palms, landmarks, HandSettings(crop_scale=1.7))
    located = region.locate(Frame(scene((360, 200)), 0.0, 0))
    assert located is not None
    x, y, w, h = located.box
    assert w == h
    _, _, hw, hh = located.hand_box
    assert w == pytest.approx(1.7 * max(hw, hh), abs=2)
    assert x < 360 + 128 < x + w and y < 200 + 128 < y + h


@pytest.mark.parametrize("key", ["palm_model", "landmark_model"])
@pytest.mark.parametrize("content", [None, b"not a model at all"])
def test_a_missing_or_corrupt_hand_model_is_one_line_naming_file_and_fix(tmp_path, key, content):
    path = tmp_path / "hand.tflite"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match="extract_hand_models") as caught:
        build_region(RegionSettings(mode="auto"), HandSettings(**{key: str(path)}))
    message = str(caught.value)
    assert str(path) in message and "\n" not in message


def test_a_model_of_the_wrong_kind_is_refused(tmp_path):
    from edge_arasl.hand.tracker import DEFAULT_PALM_MODEL

    with pytest.raises(UserError, match="not a hand landmark model"):
        build_region(RegionSettings(), HandSettings(landmark_model=str(DEFAULT_PALM_MODEL)))
