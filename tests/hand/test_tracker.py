"""Tracking with the real models: found, followed, lost, found again; and the region modes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.hand.tracker import (
    HandSettings,
    HandTracker,
    PalmSearch,
    RectangleSearch,
    scan_windows,
)
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


def test_scan_windows_cover_the_frame_at_half_steps():
    windows = scan_windows(640, 480, 0.55)
    side = 0.55 * 480
    assert all(w.width == w.height == pytest.approx(side) for w in windows)
    xs = sorted({round(w.cx) for w in windows})
    ys = sorted({round(w.cy) for w in windows})
    assert xs[0] == round(side / 2) and xs[-1] == round(640 - side / 2)
    assert ys[0] == round(side / 2) and ys[-1] == round(480 - side / 2)
    assert max(b - a for a, b in itertools.pairwise(xs)) <= side / 2 + 1
    assert len(scan_windows(100, 100, 1.0)) == 1
    # The centre first, then outward: a hand not yet seen is most often near the middle.
    far = [np.hypot(w.cx - 320, w.cy - 240) for w in windows]
    assert far == sorted(far) and far[0] == 0 and side / 2 < far[-1]
    first = scan_windows(641, 360, 0.55)[0]
    assert (first.cx, first.cy) == (320.5, 180)


def test_the_scan_finds_a_hand_the_palm_search_was_not_asked_to(palms, landmarks, scene):
    """Palms above any score: only the landmark scan can find the hand."""
    palms_never = type(palms).__new__(type(palms))
    palms_never.__dict__.update(palms.__dict__, min_score=1.0)
    search = PalmSearch(palms_never, landmarks, 0.5, scan=0.55)
    frame = scene((200, 130), size=264)
    found = [search(frame, "bgr") for _ in scan_windows(640, 480, 0.55)]
    assert any(hand is not None for hand in found)
    assert PalmSearch(palms_never, landmarks, 0.5)(frame, "bgr") is None


def test_a_hand_that_comes_back_where_it_was_is_read_there_first(landmarks, scene):
    class FirstOnly:
        """Finds the hand once, then never again: after that only the re-look can."""

        def __init__(self) -> None:
            self.search = RectangleSearch((100, 120, 256, 256), landmarks, 0.5)
            self.calls = 0

        def __call__(self, image, color):
            self.calls += 1
            return self.search(image, color) if self.calls == 1 else None

    frames = [scene((100, 120))] + [scene(None)] * 6 + [scene((100, 120))] * 2
    for relook_s, found_again in ((1.0, True), (0.0, False)):
        settings = HandSettings(search_fps=0, relook_s=relook_s)
        hands = run(HandTracker(FirstOnly(), landmarks, settings), frames)
        assert hands[0] is not None
        assert all(h is None for h in hands[4:7])
        assert (hands[7] is not None) == found_again


def test_auto_mode_reads_the_last_place_while_a_relook_is_due(palms, landmarks, scene):
    """No landmarks a moment after a hand: its last square, ``looked`` (the CNN must be sure)."""
    settings = HandSettings(search_fps=0, hold_s=0.0, relook_s=0.5)
    region = AutoRegion(palms, landmarks, settings)
    seen = region.locate(Frame(scene((360, 200)), 0.0, 0))
    assert seen is not None and seen.hand is not None and not seen.looked
    empty = scene(None)
    soon = region.locate(Frame(empty, 0.2, 1))
    assert soon is not None and soon.hand is None and soon.looked and soon.box == seen.box
    assert region.locate(Frame(empty, 0.6, 2)) is None  # relook_s over: no hand, no place
    region.reset()
    assert region.locate(Frame(empty, 0.7, 3)) is None
    without = AutoRegion(palms, landmarks, HandSettings(search_fps=0, hold_s=0.0, relook_s=0.0))
    assert without.locate(Frame(scene((360, 200)), 0.0, 0)) is not None
    assert without.locate(Frame(empty, 0.1, 1)) is None
