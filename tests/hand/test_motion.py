"""The motion map: a scan reads first the window where the frame changed."""

from __future__ import annotations

import numpy as np

from edge_arasl.hand.motion import ENOUGH, MotionMap
from edge_arasl.hand.tracker import PalmSearch, scan_windows

WINDOWS = scan_windows(640, 480, 0.55)


def _index_holding(x: float, y: float) -> int:
    """The window whose centre is nearest (x, y)."""
    return int(np.argmin([np.hypot(w.cx - x, w.cy - y) for w in WINDOWS]))


def test_a_still_frame_moves_nothing_and_a_new_object_points_at_its_window(scene):
    motion = MotionMap()
    wall = scene(None)
    for _ in range(3):
        motion.update(wall, "bgr", WINDOWS)
        assert motion.most_moved() is None
    noise = np.random.default_rng(0).integers(-12, 13, wall.shape)
    motion.update(np.clip(wall + noise, 0, 255).astype(np.uint8), "bgr", WINDOWS)  # not motion
    assert motion.most_moved() is None
    motion.update(scene((0, 220), size=200), "bgr", WINDOWS)  # a hand arrives bottom left
    best = motion.most_moved()
    assert best == _index_holding(100, 320) != 0
    assert motion.most_moved() not in (None, best)  # spent once read; overlapping ones remain


def test_change_adds_up_until_the_window_is_read(scene):
    motion = MotionMap()
    wall, speck = scene(None), scene((610, 0), size=30)  # in the corner window only; 1.3% of it
    top_right = _index_holding(508, 132)
    motion.update(wall, "bgr", WINDOWS)
    motion.update(speck, "bgr", WINDOWS)
    assert motion.most_moved() is None
    motion.update(wall, "bgr", WINDOWS)  # it goes again: the change adds up
    assert motion.most_moved() == top_right
    motion.update(speck, "bgr", WINDOWS)
    motion.read(top_right)  # read by the sweep: its change is spent too
    motion.update(wall, "bgr", WINDOWS)
    assert motion.most_moved() is None
    assert 30 * 30 / WINDOWS[0].width ** 2 < ENOUGH < 2 * 30 * 30 / WINDOWS[0].width ** 2


def test_change_seen_at_another_frame_size_is_not_carried_over(scene):
    motion = MotionMap()
    wall, speck = scene(None), scene((610, 0), size=30)
    motion.update(wall, "bgr", WINDOWS)
    motion.update(speck, "bgr", WINDOWS)  # 1.3% of the corner window, kept
    small = scan_windows(320, 240, 0.55)
    motion.update(wall[::2, ::2], "bgr", small)  # a new frame size: its own windows
    motion.update(speck[::2, ::2], "bgr", small)  # 1.3% again, but of a fresh count
    assert motion.most_moved() is None


def test_the_scan_reads_where_a_hand_appeared_before_the_sweep_gets_there(palms, landmarks, scene):
    """No palm ever scores: only the scan can find the hand, at the far bottom-right window."""
    palms_never = type(palms).__new__(type(palms))
    palms_never.__dict__.update(palms.__dict__, min_score=1.0)
    search = PalmSearch(palms_never, landmarks, 0.5, scan=0.55)
    wall, hand = scene(None), scene((376, 216), size=264)
    for _ in range(3):
        assert search(wall, "bgr") is None
    found = search(hand, "bgr")
    assert found is not None and found.points[:, 0].mean() > 376
    # Without the change to go by, the sweep takes its turn: not this search.
    sweep = PalmSearch(palms_never, landmarks, 0.5, scan=0.55)
    assert [sweep(hand, "bgr") is not None for _ in range(3)] == [False] * 3
