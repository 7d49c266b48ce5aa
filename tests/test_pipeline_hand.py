"""The pipeline with the hand found in the frame: auto mode's boxes, landmarks and no-hand path."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hand_sample import HAND_SAMPLE as SAMPLE
from test_pipeline import Recorder, make_pipeline

from edge_arasl.hand.tracker import HandSettings, load_landmarks, load_palms
from edge_arasl.region import AutoRegion
from edge_arasl.sources.video import VideoFile

FPS = 30


@pytest.fixture(scope="module")
def moving_hand_video(tmp_path_factory) -> Path:
    """1 s of a hand on the left, 0.5 s of an empty wall, 1 s of the hand on the right."""
    path = tmp_path_factory.mktemp("video") / "hand.mp4"
    hand = cv2.cvtColor(
        cv2.resize(cv2.imread(str(SAMPLE), cv2.IMREAD_GRAYSCALE), (256, 256)),
        cv2.COLOR_GRAY2BGR,
    )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (640, 480))
    for at in [(40, 100)] * FPS + [None] * (FPS // 2) + [(360, 200)] * FPS:
        frame = np.full((480, 640, 3), 170, np.uint8)
        if at is not None:
            frame[at[1] : at[1] + 256, at[0] : at[0] + 256] = hand
        writer.write(frame)
    writer.release()
    return path


def test_auto_mode_frames_carry_the_hand_and_empty_frames_are_no_sign(
    classifier, moving_hand_video
):
    settings = HandSettings()
    region = AutoRegion(load_palms(settings), load_landmarks(settings), settings)
    plugin = Recorder()
    summary = make_pipeline(classifier, VideoFile(moving_hand_video), plugin, region=region).run()
    frames = plugin.of("frame")
    assert len(frames) == summary.frames == 75
    left, gap, right = frames[5:FPS], frames[FPS + 3 : FPS + FPS // 2], frames[-20:]
    for group, (x0, y0) in ((left, (40, 100)), (right, (360, 200))):
        assert all(f.hand_box is not None and f.landmarks.shape == (21, 2) for f in group)
        for f in group:
            x, y, w, h = f.hand_box
            assert x0 <= x + w / 2 <= x0 + 256 and y0 <= y + h / 2 <= y0 + 256
            assert f.roi is not None and f.roi[2] == f.roi[3]  # the CNN's square
    assert all(f.hand_box is None and f.class_id == "none" for f in gap)
    # Within relook_s the CNN may still read the hand's last place (it is not sure: none).
    assert all(f.roi == left[-1].roi for f in gap)
    assert [letter.class_id for letter in summary.letters] == ["bb", "bb"]
    assert len(summary.words) == 1
