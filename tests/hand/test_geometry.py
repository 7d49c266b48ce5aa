"""Rotated crops: the affine map, its rotation and scale, and the MediaPipe framing rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_arasl.hand.geometry import (
    RotatedRect,
    landmark_rect,
    palm_rect,
    square_box,
    upright_angle,
)


def test_an_upright_rect_maps_its_corners_to_the_box():
    rect = RotatedRect(100, 50, 40, 20)
    m = rect.to_frame(10)
    assert m @ [0, 0, 1] == pytest.approx([80, 40])
    assert m @ [10, 10, 1] == pytest.approx([120, 60])
    assert rect.corners() == pytest.approx(np.array([[80, 40], [120, 40], [120, 60], [80, 60]]))


def test_a_rect_turned_90_degrees_reads_the_frame_sideways():
    image = np.zeros((100, 100), np.uint8)
    image[10:20, 45:55] = 255  # a blob above the centre
    # angle +90 deg: the crop's "up" is the frame's right (a hand pointing right is read
    # upright), so what is above the centre in the frame is on the crop's left
    crop = RotatedRect(50, 50, 100, 100, math.pi / 2).crop(image, 100)
    ys, xs = np.nonzero(crop > 128)
    assert xs.mean() == pytest.approx(14.5, abs=1.5) and ys.mean() == pytest.approx(49.5, abs=1.5)


def test_upright_angle_turns_the_hand_to_point_up():
    wrist = np.array([0.0, 0.0])
    assert upright_angle(wrist, np.array([0.0, -10.0])) == pytest.approx(0)  # already up
    assert upright_angle(wrist, np.array([10.0, 0.0])) == pytest.approx(math.pi / 2)  # right
    assert upright_angle(wrist, np.array([0.0, 10.0])) == pytest.approx(math.pi)  # down


def test_scaled_squares_the_longer_side_and_shifts_toward_the_fingers():
    up = RotatedRect(100, 100, 20, 10).scaled(2.0, shift_y=-0.5)
    assert (up.cx, up.cy, up.width, up.height) == pytest.approx((100, 95, 40, 40))
    # pointing right (angle 90 deg): toward the fingers is +x
    right = RotatedRect(100, 100, 20, 10, math.pi / 2).scaled(1.0, shift_y=-0.5)
    assert (right.cx, right.cy) == pytest.approx((105, 100))


def test_palm_rect_is_2_6_palms_moved_half_a_palm_toward_the_fingers():
    box = np.array([200.0, 200.0, 50.0, 50.0])
    keypoints = np.zeros((7, 2))
    keypoints[0] = [200, 230]  # wrist below the centre
    keypoints[2] = [200, 180]  # middle knuckle above: the hand points up
    rect = palm_rect(box, keypoints, 2.6, -0.5)
    assert rect.angle == pytest.approx(0)
    assert (rect.cx, rect.cy, rect.width) == pytest.approx((200, 175, 130))


def test_landmark_rect_follows_a_rotated_hand():
    # an upright "hand": wrist at the bottom, knuckles in a row above, fingers higher
    points = np.zeros((21, 3))
    points[0, :2] = [0, 40]
    for k, x in zip((5, 9, 13, 17), (-15, 0, 15, 25), strict=True):
        points[k, :2] = [x, 0]
        points[k + 1, :2] = [x, -20]
    for k in (1, 2, 3):
        points[k, :2] = [-20, 30 - 10 * k]
    upright = landmark_rect(points, 2.0, 0.0)
    assert upright.angle == pytest.approx(0, abs=1e-9)
    turned = points.copy()
    turned[:, :2] = points[:, :2] @ np.array([[0, 1], [-1, 0]])  # rotate 90 deg clockwise
    rect = landmark_rect(turned, 2.0, 0.0)
    assert math.remainder(rect.angle - math.pi / 2, math.tau) == pytest.approx(0, abs=1e-9)
    assert rect.width == pytest.approx(upright.width)


def test_square_box_is_centred_and_scaled():
    points = np.array([[10.0, 20.0], [30.0, 60.0]])
    assert square_box(points, 1.5) == (-10, 10, 60, 60)
