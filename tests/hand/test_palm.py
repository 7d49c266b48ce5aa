"""Palm detection: anchors, decoding, weighted NMS and letterboxing, then the real model."""

from __future__ import annotations

import numpy as np
import pytest

from edge_arasl.hand.palm import (
    INPUT_SIZE,
    KEYPOINTS,
    Letterbox,
    anchors,
    decode,
    iou,
    sigmoid,
    weighted_nms,
)


def test_anchors_are_two_grids_row_by_row():
    centres = anchors()
    assert centres.shape == (2016, 2)
    # the first two anchors share the first stride-8 cell; the third is the next cell right
    assert np.allclose(centres[0], [0.5 / 24, 0.5 / 24]) and np.allclose(centres[1], centres[0])
    assert np.allclose(centres[2], [1.5 / 24, 0.5 / 24])
    assert np.allclose(centres[48], [0.5 / 24, 1.5 / 24])  # second row after 24 cells x 2
    # the 12x12 grid starts at 24*24*2 = 1152 with 6 anchors a cell, last one bottom-right
    assert np.allclose(centres[1152:1158], [0.5 / 12, 0.5 / 12])
    assert np.allclose(centres[-1], [11.5 / 12, 11.5 / 12])


def test_decoding_adds_the_anchor_centre_in_input_pixels():
    regressors = np.zeros((2016, 4 + 2 * KEYPOINTS), np.float32)
    logits = np.full((2016, 1), -10.0, np.float32)
    # anchor 50: row 1, column 1 of the 24x24 grid -> centre (1.5/24, 1.5/24) = (12, 12) px
    regressors[50, :4] = [3.0, -2.0, 40.0, 30.0]
    regressors[50, 4:6] = [-5.0, 7.0]  # wrist keypoint
    logits[50] = 2.0
    scores, rows = decode(regressors, logits, anchors(), min_score=0.5)
    assert scores == pytest.approx([1 / (1 + np.exp(-2.0))])
    assert rows[0, :4] == pytest.approx([15.0, 10.0, 40.0, 30.0])
    assert rows[0, 4:6] == pytest.approx([7.0, 19.0])
    assert rows[0, 6:8] == pytest.approx([12.0, 12.0])  # keypoint 1: no offset, at the anchor


def test_sigmoid_is_clipped_not_overflowing():
    with np.errstate(over="raise"):
        assert sigmoid(np.array([-1e6, 0.0, 1e6])) == pytest.approx([0.0, 0.5, 1.0])


def test_iou_of_hand_computed_boxes():
    box = np.array([10.0, 10.0, 20.0, 20.0])  # 0..20 square
    others = np.array([[10.0, 10.0, 20.0, 20.0], [20.0, 10.0, 20.0, 20.0], [50.0, 50, 4, 4]])
    assert iou(box, others) == pytest.approx([1.0, 200 / 600, 0.0])


def test_weighted_nms_merges_one_hand_and_keeps_another():
    rows = np.zeros((3, 4 + 2 * KEYPOINTS))
    rows[0, :4] = [100, 100, 40, 40]
    rows[1, :4] = [104, 100, 40, 40]  # overlaps the first: merged into it
    rows[2, :4] = [300, 300, 40, 40]  # another hand
    scores = np.array([0.9, 0.6, 0.8])
    merged = weighted_nms(scores, rows, threshold=0.3)
    assert [score for score, _ in merged] == pytest.approx([0.9, 0.8])
    assert merged[0][1][0] == pytest.approx((0.9 * 100 + 0.6 * 104) / 1.5)
    assert merged[1][1][0] == pytest.approx(300)


def test_weighted_nms_of_nothing_is_nothing():
    assert weighted_nms(np.zeros(0), np.zeros((0, 18)), 0.3) == []


def test_letterbox_centres_a_landscape_frame_and_maps_back():
    box = Letterbox.fit(640, 480)
    assert box.scale == pytest.approx(0.3) and box.pad_x == 0 and box.pad_y == pytest.approx(24)
    image = box.image(np.full((480, 640, 3), 255, np.uint8))
    assert image.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    assert image[:23].max() == 0 and image[25:167].min() == 255 and image[169:].max() == 0
    row = np.array([[96.0, 96.0, 30.0, 60.0, 0.0, 24.0]])  # centre, size, one keypoint
    assert box.to_image(row)[0] == pytest.approx([320, 240, 100, 200, 0, 0])


def test_the_real_detector_finds_the_pasted_hand_where_it_is(palms, scene):
    for x, y in ((40, 100), (360, 200)):
        found = palms.detect(scene((x, y)), "bgr")
        assert found, f"no palm found with the hand at {(x, y)}"
        cx, cy = found[0].box[:2]
        assert x < cx < x + 256 and y < cy < y + 256
        assert found[0].score >= 0.5


def test_the_real_detector_finds_nothing_on_a_plain_wall(palms, scene):
    assert palms.detect(scene(None), "bgr") == []
