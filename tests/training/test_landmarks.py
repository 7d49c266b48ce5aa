"""The split's training rows, jitter, fusion-weight choice and a tiny MLP run.

No data set needed: the committed samples stand in for images, synthetic vectors for features.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge_arasl.cli import main
from edge_arasl.dataset import Dataset, block_split, split_to_json
from edge_arasl.errors import UserError
from edge_arasl.labels import MODEL_CLASSES, SIGN_CLASSES
from edge_arasl.training import landmark_cache
from edge_arasl.training import landmarks as lm

#: The fold files and the shipped model's split (models/folds/final.json).
FOLDS = Path(landmark_cache.LANDMARK_MODEL_PATH).parent / "folds"
#: Rows of each class in the packed ArASL file (its README), in class order.
ARASL_COUNTS = (
    1723, 1201, 1338, 1394, 1303, 1370, 1343, 1556, 1376, 1588, 1280, 1198, 1222, 1378, 1272,
    1424, 1434, 1372, 1453, 1330, 1492, 1319, 1177, 1400, 1439, 1362, 1261, 1392, 1057, 1376,
    1150, 1046,
)  # fmt: skip


def test_augmentation_jitters_around_the_wrist_and_zero_strength_is_none():
    x = np.random.default_rng(1).normal(0, 1, (50, lm.FEATURES)).astype(np.float32)
    x[:, :3] = 0
    rng = np.random.default_rng(2)
    jittered = lm.augment(x, rng)
    assert jittered.shape == x.shape and np.all(jittered[:, :3] == 0)
    assert 0 < np.abs(jittered - x).mean() < 0.5
    np.testing.assert_allclose(lm.augment(x, rng, strength=0.0), x, atol=1e-6)


def _arasl_like() -> tuple[Dataset, np.ndarray]:
    labels = np.repeat(np.arange(len(SIGN_CLASSES)), ARASL_COUNTS)
    return Dataset(np.zeros((len(labels), 1, 1), np.uint8), labels, SIGN_CLASSES, "x"), labels


def test_a_split_file_that_lists_its_training_blocks_is_read_as_it_is():
    data, labels = _arasl_like()
    final = FOLDS / "final.json"
    split = lm.shipped_split(data, labels, final)
    listed = json.loads(final.read_text())
    assert len(split.train) == listed["train_rows"]
    assert split.test_blocks == [tuple(b) for b in listed["test_blocks"]]
    assert split.train_blocks == [tuple(b) for b in listed["train_blocks"]]


def test_an_older_split_file_is_the_seed_0_block_split_and_its_training_rows_avoid_it(
    tmp_path: Path,
):
    data, labels = _arasl_like()
    entry = split_to_json(block_split(labels, MODEL_CLASSES, seed=0), data)
    del entry["train_blocks"]  # as the files written before fold files existed
    older = tmp_path / "older.json"
    older.write_text(json.dumps(entry))
    split = lm.shipped_split(data, labels, older)
    assert len(split.train) == entry["train_rows"]
    for name, first, last in split.val_blocks + split.test_blocks:  # nor its guard rows
        near = split.train[(split.train >= first - 8) & (split.train <= last + 8)]
        assert not np.any(labels[near] == SIGN_CLASSES.index(name)), (name, first, near)
    fold_a, fold_b = lm.block_folds(split)
    assert sorted(np.concatenate([fold_a, fold_b]).tolist()) == sorted(split.test.tolist())
    assert abs(len(fold_a) - len(fold_b)) < 0.2 * len(split.test)
    other = dict(entry, test_blocks=entry["test_blocks"][1:])
    (tmp_path / "split.json").write_text(json.dumps(other))
    with pytest.raises(UserError, match="not the seed-0 block split"):
        lm.shipped_split(data, labels, tmp_path / "split.json")


def test_the_fusion_weight_is_the_one_that_reads_the_validation_rows_best():
    rng = np.random.default_rng(3)
    y = rng.integers(0, len(SIGN_CLASSES), 200)
    cnn = np.full((200, len(MODEL_CLASSES)), 0.01, np.float32)
    cnn[np.arange(200), y] = 0.5
    wrong = np.arange(200) < 40  # the CNN narrowly prefers another sign on these rows
    cnn[wrong, (y[wrong] + 1) % len(SIGN_CLASSES)] = 0.6
    landmarks = np.full((200, len(SIGN_CLASSES)), 0.02, np.float32)
    landmarks[np.arange(200), y] = 0.4
    found = np.ones(200, bool)
    weight, curve = lm.choose_weight(cnn, landmarks, found, y)
    assert curve["0"] == pytest.approx(0.8) and curve[f"{weight:g}"] == 1.0
    assert 0 < weight < 1
    assert lm.fused_accuracy(0.5, cnn, landmarks, ~found, y) == pytest.approx(0.8)


def test_a_tiny_training_run_exports_a_model_the_runtime_loads(tmp_path: Path):
    tf = pytest.importorskip("tensorflow", reason="needs the train extra (make test installs it)")
    from edge_arasl.landmark_classifier import FEATURE_NAME, FEATURE_VERSION, LandmarkClassifier

    rng = np.random.default_rng(4)
    centres = rng.normal(0, 1, (3, lm.FEATURES)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    x = centres[y] + rng.normal(0, 0.1, (300, lm.FEATURES)).astype(np.float32)
    trained = lm.train_mlp(
        tf,
        (x[:240], y[:240]),
        (x[240:], y[240:]),
        epochs=12,
        seed=0,
        learning_rate=1e-2,
        progress=lambda _: None,
    )
    assert len(trained.curve) == 12 and 1 <= trained.best_epoch <= 12
    path = tmp_path / "mlp.tflite"
    path.write_bytes(lm.export_tflite(tf, trained.model))
    meta = {
        "classes": list(SIGN_CLASSES),
        "features": {"name": FEATURE_NAME, "version": FEATURE_VERSION, "mirror_left": True},
        "presence_threshold": 0.5,
        "fusion": {"weight": 0.3},
    }
    path.with_suffix(".json").write_text(json.dumps(meta))
    classifier = LandmarkClassifier(path)
    predicted = [int(classifier.probabilities_features(v).argmax()) for v in x[240:]]
    assert np.mean(np.array(predicted) == y[240:]) > 0.9
    assert classifier.fusion_weight == 0.3 and classifier.mirror_left


@pytest.mark.parametrize(
    ("extra", "named"), [([], "none.npz"), (["--warped-copies", "-1"], "--warped-copies -1")]
)
def test_train_landmarks_without_data_or_with_a_bad_setting_is_a_one_line_error(
    tmp_path: Path, capsys, extra: list[str], named: str
):
    code = main(["train-landmarks", "--data", str(tmp_path / "none.npz"), "--cache",
                 str(tmp_path / "c.npz"), "--out", str(tmp_path), *extra])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and named in err


def test_the_weight_choosing_cnn_is_read_like_the_fused_one_and_must_be_a_sign_cnn():
    images = np.full((2, 64, 64), 128, np.uint8)
    readings = lm._cnn_readings(None, images, "one")  # the shipped CNN
    assert readings.shape == (2, len(MODEL_CLASSES))
    np.testing.assert_allclose(readings.sum(1), 1, atol=0.02)
    with pytest.raises(UserError, match="landmarks_mlp"):  # not a sign CNN: named, refused
        lm._cnn_readings(FOLDS.parent / "landmarks_mlp.tflite", images, "one")


def test_the_cnn_is_read_with_the_views_the_runtime_will_average(
    sample_files: list[tuple[str, Path]],
) -> None:
    import cv2

    from edge_arasl.classifier import Classifier

    images = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for _, p in sample_files[::40]])
    readings = lm._cnn_readings(None, images, "scales")
    np.testing.assert_array_equal(readings, Classifier(views="scales").probabilities_batch(images))
    assert not np.array_equal(readings, lm._cnn_readings(None, images, "one"))
