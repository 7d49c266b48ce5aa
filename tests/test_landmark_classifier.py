"""The landmark features and the shipped landmark classifier, on real models and real LiteRT.

Landmarks of the committed held-out samples are read by the shipped MediaPipe landmark model
exactly as the training data was (the 64x64 image upscaled to the whole 224x224 crop).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.hand.features import features
from edge_arasl.hand.landmarks import HandLandmarks, LandmarkModel
from edge_arasl.labels import SIGN_CLASSES
from edge_arasl.landmark_classifier import DEFAULT_MODEL_PATH, LandmarkClassifier
from edge_arasl.training.landmark_cache import LANDMARK_MODEL_PATH, read_image

CROP = (112.0, 112.0, 224.0, 224.0)


def _hand(seed: int = 0) -> np.ndarray:
    """A plausible 21x3 right hand: wrist at the bottom, fingers up and spread."""
    rng = np.random.default_rng(seed)
    points = np.zeros((21, 3), np.float32)
    points[0] = (100, 200, 0)
    for finger in range(5):
        angle = math.radians(-50 + 25 * finger)
        for joint in range(4):
            r = 40 + 22 * joint
            points[1 + 4 * finger + joint] = (
                100 + r * math.sin(angle),
                200 - r * math.cos(angle),
                -3.0 * joint,
            )
    return points + rng.normal(0, 1.5, points.shape).astype(np.float32)


def test_features_do_not_change_with_the_hands_place_or_size():
    points = _hand()
    moved = points + np.array([37.0, -12.5, 4.0], np.float32)
    bigger = points * 2.5
    np.testing.assert_allclose(features(moved, left=False), features(points, left=False), atol=1e-5)
    np.testing.assert_allclose(
        features(bigger, left=False), features(points, left=False), atol=1e-5
    )


def test_a_mirrored_left_hand_has_the_right_hands_features():
    points = _hand(1)
    mirrored = points.copy()
    mirrored[:, 0] = 640 - mirrored[:, 0]  # the same hand seen as a left hand
    np.testing.assert_allclose(
        features(mirrored, left=True), features(points, left=False), atol=1e-5
    )
    assert not np.allclose(features(mirrored, left=False), features(points, left=False))


@pytest.fixture(scope="module")
def landmark_classifier() -> LandmarkClassifier:
    return LandmarkClassifier()


@pytest.fixture(scope="module")
def sample_hands(sample_files: list[tuple[str, Path]]) -> list[tuple[str, HandLandmarks]]:
    """``(class, landmarks)`` of every committed sample, read as the training data was."""
    from edge_arasl.hand.geometry import RotatedRect

    model = LandmarkModel(LANDMARK_MODEL_PATH)
    hands = []
    for name, path in sample_files:
        points, presence, right = read_image(model, cv2.imread(str(path), cv2.IMREAD_GRAYSCALE))
        hands.append((name, HandLandmarks(points, presence, right, RotatedRect(*CROP))))
    return hands


def test_the_shipped_model_loads_with_its_metadata(landmark_classifier: LandmarkClassifier):
    assert landmark_classifier.classes == SIGN_CLASSES
    assert 0 < landmark_classifier.presence_threshold < 1
    assert 0 <= landmark_classifier.fusion_weight <= 1
    probs = landmark_classifier.probabilities(_hand(), left=False)
    assert probs.shape == (len(SIGN_CLASSES),) and probs.dtype == np.float32
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)


def test_the_shipped_model_reads_most_held_out_samples_right(
    landmark_classifier: LandmarkClassifier, sample_hands: list[tuple[str, HandLandmarks]]
):
    """A hand in 144 of the 160 samples and 128 of those right, when measured."""
    results = [(name, landmark_classifier.read(hand)) for name, hand in sample_hands]
    found = [(name, p) for name, p in results if p is not None]
    right = [name for name, p in found if landmark_classifier.classes[int(p.argmax())] == name]
    assert len(found) >= 125, f"a hand in only {len(found)} of {len(results)} samples"
    assert len(right) >= 0.85 * len(found), f"{len(right)} of {len(found)} right"
    sheen = [p for name, p in found if name == "sheen"]
    assert sheen and all(landmark_classifier.classes[int(p.argmax())] == "sheen" for p in sheen)


def test_no_hand_or_a_degenerate_one_reads_as_none(landmark_classifier: LandmarkClassifier):
    from edge_arasl.hand.geometry import RotatedRect

    threshold = landmark_classifier.presence_threshold
    weak = HandLandmarks(_hand(), threshold / 2, 0.9, RotatedRect(*CROP))
    flat = HandLandmarks(np.zeros((21, 3), np.float32), 0.99, 0.9, RotatedRect(*CROP))
    assert landmark_classifier.read(None) is None
    assert landmark_classifier.read(weak) is None
    assert landmark_classifier.read(flat) is None


def _copy_model(tmp_path: Path) -> Path:
    path = tmp_path / "lm.tflite"
    shutil.copy(DEFAULT_MODEL_PATH, path)
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), path.with_suffix(".json"))
    return path


def _one_line_error(path: Path, match: str) -> None:
    with pytest.raises(UserError) as info:
        LandmarkClassifier(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert str(path.parent / path.stem) in message and match in message, message


def test_a_missing_model_file_is_a_one_line_error_naming_it(tmp_path: Path):
    _one_line_error(tmp_path / "absent.tflite", "not found")


def test_a_corrupt_model_file_is_a_one_line_error_naming_it(tmp_path: Path):
    path = _copy_model(tmp_path)
    path.write_bytes(b"\x00" * 4 + b"TFL3" + b"garbage" * 50)
    _one_line_error(path, "cannot load model")
    path.write_bytes(b"not a model at all")
    _one_line_error(path, "not a TFLite model")


def test_missing_or_bad_metadata_is_a_one_line_error_naming_it(tmp_path: Path):
    path = _copy_model(tmp_path)
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta_path.unlink()
    _one_line_error(path, "metadata not found")
    for key, value, match in [
        ("features", {**meta["features"], "version": 99}, "version 99"),
        ("classes", ["dal", "hamza"], "'hamza'"),
        ("fusion", {"weight": 1.5}, "fusion.weight"),
        ("fusion", {"weight": 0.2, "cnn_views": "many"}, "'fusion.cnn_views' must be one of"),
        ("presence_threshold", None, "presence_threshold"),
        ("classes", SIGN_CLASSES[:5], "lists 5 classes"),
    ]:
        meta_path.write_text(json.dumps({**meta, key: value}))
        _one_line_error(path, match)


def test_a_model_of_another_kind_is_a_one_line_error(tmp_path: Path):
    path = tmp_path / "cnn.tflite"
    shutil.copy(DEFAULT_MODEL_PATH.parent / "arasl_int8.tflite", path)
    shutil.copy(DEFAULT_MODEL_PATH.with_suffix(".json"), path.with_suffix(".json"))
    _one_line_error(path, "landmark features")
