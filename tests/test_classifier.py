"""The classifier on the real shipped int8 model: accuracy, quantisation, backends, errors."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import typing
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.classifier import (
    DEFAULT_MODEL_PATH,
    VIEWS,
    Classifier,
    ClassifierSettings,
    Prediction,
    Views,
)
from edge_arasl.errors import UserError
from edge_arasl.labels import ARABIC, MODEL_CLASSES
from edge_arasl.preprocess import PIXEL_MAX, add_margin, to_unit_range
from edge_arasl.runtime import interpreter_class

HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None


def read_gray(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


@pytest.fixture
def model_copy(tmp_path: Path, shipped_model: Path) -> Path:
    """The shipped model and its metadata copied where a test may spoil them."""
    target = tmp_path / "model.tflite"
    shutil.copy(shipped_model, target)
    shutil.copy(shipped_model.with_suffix(".json"), target.with_suffix(".json"))
    return target


def write_metadata(model: Path, **changes: object) -> None:
    path = model.with_suffix(".json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


# --- the shipped model ---------------------------------------------------------------------


def test_default_model_is_the_shipped_one(classifier: Classifier) -> None:
    assert DEFAULT_MODEL_PATH.name == "arasl_int8.tflite"
    assert classifier.model_path == DEFAULT_MODEL_PATH
    assert classifier.classes == MODEL_CLASSES
    assert classifier.input_size == 64
    assert classifier.input_margin == 1  # chosen on the validation blocks (MODEL_CARD.md)


def _sample_accuracy(classifier: Classifier, sample_files: list[tuple[str, Path]]) -> tuple:
    wrong = []
    for class_id, path in sample_files:
        prediction = classifier.classify(read_gray(path))
        if prediction.class_id != class_id:
            wrong.append(f"{path.parent.name}/{path.name}->{prediction.class_id}")
    return 1 - len(wrong) / len(sample_files), ", ".join(wrong)


def test_committed_samples_are_classified_correctly(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    """At least 95% of the held-out samples (152 of 160 measured for the shipped model)."""
    accuracy, wrong = _sample_accuracy(classifier, sample_files)
    assert accuracy >= 0.95, f"{accuracy:.3f} correct; wrong: {wrong}"


def test_prediction_carries_text_confidence_and_probabilities(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    prediction = classifier.classify(read_gray(sample_files[0][1]))
    assert isinstance(prediction, Prediction)
    assert prediction.text == ARABIC[prediction.class_id]
    probs = prediction.probabilities
    assert probs.dtype == np.float32 and probs.shape == (len(MODEL_CLASSES),)
    assert (probs >= 0).all() and probs.sum() == pytest.approx(1, abs=0.05)
    assert prediction.confidence == pytest.approx(float(probs.max()))
    assert MODEL_CLASSES[int(probs.argmax())] == prediction.class_id


def test_big_colour_crops_give_the_same_result_as_the_64px_gray_image(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    for _, path in sample_files[::16]:
        gray = read_gray(path)
        # 4x bigger, as a camera crop would be; area resizing brings back the same pixels.
        big = cv2.resize(gray, (256, 256), interpolation=cv2.INTER_NEAREST)
        bgr = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)
        rgba = cv2.cvtColor(big, cv2.COLOR_GRAY2RGBA)
        expected = classifier.probabilities_prepared(gray)
        np.testing.assert_array_equal(classifier.probabilities(bgr), expected)
        np.testing.assert_array_equal(classifier.probabilities(rgba, color="rgb"), expected)
        np.testing.assert_array_equal(classifier.probabilities(big[:, :, None]), expected)


def test_input_is_quantised_with_the_tensor_parameters(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    """Same output as the int8 interpreter fed by hand: q = round(pixel/255/scale) + zero.

    Fed the image framed with the model's margin, as the classifier does.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(DEFAULT_MODEL_PATH))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    in_scale, in_zero = inp["quantization"]
    out_scale, out_zero = out["quantization"]
    for _, path in sample_files[::10]:
        gray = read_gray(path)
        framed = add_margin(gray, classifier.input_margin)
        q = np.clip(np.round(framed / 255.0 / in_scale + in_zero), -128, 127).astype(np.int8)
        interpreter.set_tensor(inp["index"], q[None, :, :, None])
        interpreter.invoke()
        raw = interpreter.get_tensor(out["index"])[0].astype(np.float32)
        expected = (raw - out_zero) * out_scale
        np.testing.assert_allclose(classifier.probabilities_prepared(gray), expected, atol=1e-6)


def test_two_threads_give_the_same_probabilities(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    two = Classifier(num_threads=2)
    assert two.num_threads == 2
    gray = read_gray(sample_files[5][1])
    np.testing.assert_array_equal(
        two.probabilities_prepared(gray), classifier.probabilities_prepared(gray)
    )


def test_probabilities_batch_matches_one_at_a_time(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    images = np.stack([read_gray(p) for _, p in sample_files[:7]])
    batch = classifier.probabilities_batch(images)
    assert batch.shape == (7, len(MODEL_CLASSES))
    for image, row in zip(images, batch, strict=True):
        np.testing.assert_array_equal(row, classifier.probabilities_prepared(image))


# --- backends ------------------------------------------------------------------------------


def test_default_backend_is_ai_edge_litert(classifier: Classifier) -> None:
    assert classifier.backend == "ai_edge_litert"
    assert interpreter_class()[0] == "ai_edge_litert"


def test_unknown_backend_is_named_in_the_error() -> None:
    with pytest.raises(UserError, match="unknown backend 'onnx'"):
        Classifier(backend="onnx")


def test_forcing_a_missing_backend_errors_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tflite_runtime", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    with pytest.raises(UserError, match=r"backend 'tflite_runtime' is not available.*pip install"):
        Classifier(backend="tflite_runtime")


def test_fallback_order_when_litert_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("ai_edge_litert.interpreter", "tflite_runtime.interpreter"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    if HAS_TENSORFLOW:
        assert interpreter_class()[0] == "tensorflow"
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    with pytest.raises(
        UserError, match=r"no TFLite interpreter installed.*pip install ai-edge-litert"
    ):
        interpreter_class()


@pytest.mark.skipif(not HAS_TENSORFLOW, reason="TensorFlow (the train extra) not installed")
def test_tensorflow_lite_backend_agrees_with_litert(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    tf_classifier = Classifier(backend="tensorflow")
    assert tf_classifier.backend == "tensorflow"
    for _, path in sample_files[::20]:
        gray = read_gray(path)
        expected = classifier.probabilities_prepared(gray)
        got = tf_classifier.probabilities_prepared(gray)
        assert got.argmax() == expected.argmax()
        np.testing.assert_allclose(got, expected, atol=2 / 256)  # kernels may round differently


# --- bad input -----------------------------------------------------------------------------


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.tflite: model file not found"):
        Classifier(tmp_path / "nope.tflite")


def test_file_that_is_not_a_flatbuffer(model_copy: Path) -> None:
    model_copy.write_bytes(b"this is not a model at all")
    with pytest.raises(UserError, match="not a TFLite model"):
        Classifier(model_copy)


def test_truncated_model(model_copy: Path) -> None:
    model_copy.write_bytes(model_copy.read_bytes()[:4096])  # right identifier, broken body
    with pytest.raises(UserError, match=r"model\.tflite: cannot load model"):
        Classifier(model_copy)


def test_missing_metadata(model_copy: Path) -> None:
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(UserError, match=r"model\.json: model metadata not found"):
        Classifier(model_copy)


def test_metadata_that_is_not_json(model_copy: Path) -> None:
    model_copy.with_suffix(".json").write_text('{"classes": [', encoding="utf-8")
    with pytest.raises(UserError, match=r"model\.json: invalid JSON"):
        Classifier(model_copy)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"classes": "ain"}, "'classes' must be a non-empty list"),
        ({"classes": [*MODEL_CLASSES[:-1], "ain"]}, "lists a class id twice"),
        ({"classes": [*MODEL_CLASSES[:-1], "blank"]}, "unknown class id.*'blank'"),
        ({"input": {"size": 64, "color": "rgb", "scale": 1 / 255}}, "'input.color'"),
        ({"input": {"size": 0, "color": "gray", "scale": 1 / 255}}, "'input.size'"),
        ({"input": {"size": 64, "color": "gray"}}, "'input.scale'"),
        ({"input": {"size": 96, "color": "gray", "scale": 1 / 255}}, "does not match"),
        ({"input": {"size": 64, "color": "gray", "scale": 1 / 255, "margin": -1}}, "input.margin"),
        ({"input": {"size": 64, "color": "gray", "scale": 1 / 255, "margin": 16}}, "0 to 15"),
        ({"input": {"size": 64, "color": "gray", "scale": 1 / 255, "margin": 2.5}}, "not 2.5"),
    ],
)
def test_invalid_metadata_is_named(model_copy: Path, changes: dict, message: str) -> None:
    write_metadata(model_copy, **changes)
    with pytest.raises(UserError, match=message):
        Classifier(model_copy)


def test_a_model_with_a_margin_frames_every_input_so(
    model_copy: Path, shipped_model: Path, sample_files: list[tuple[str, Path]]
) -> None:
    """Prepared, raw-crop and batch paths all see the image shrunk with its edge repeated."""
    metadata = json.loads(shipped_model.with_suffix(".json").read_text(encoding="utf-8"))
    metadata["input"]["margin"] = 4
    write_metadata(model_copy, input=metadata["input"])
    framed_model = Classifier(model_copy)
    plain = Classifier(shipped_model, margin=0)
    assert framed_model.input_margin == 4 and plain.input_margin == 0
    grays = np.stack([read_gray(path) for _, path in sample_files[::16]])
    expected = np.stack([plain.probabilities_prepared(add_margin(g, 4)) for g in grays])
    np.testing.assert_array_equal(framed_model.probabilities_batch(grays), expected)
    big = cv2.resize(grays[0], (256, 256), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(framed_model.probabilities(big), expected[0])
    assert not np.array_equal(plain.probabilities_batch(grays), expected)


def _resized(gray: np.ndarray, scale: float) -> np.ndarray:
    """The image resized by ``scale`` about its centre, edges repeated: one test-time view."""
    matrix = cv2.getRotationMatrix2D((31.5, 31.5), 0, scale)
    return cv2.warpAffine(gray, matrix, (64, 64), borderMode=cv2.BORDER_REPLICATE)


def test_scale_views_average_the_crop_read_at_each_scale(
    classifier: Classifier, sample_files: list[tuple[str, Path]]
) -> None:
    """Every path (prepared, raw crop, batch) averages the same views, margin added to each."""
    views = Classifier(views="scales")
    assert views.views == "scales" and VIEWS["scales"][0] == 1.0 and len(VIEWS["scales"]) > 1
    grays = np.stack([read_gray(path) for _, path in sample_files[::20]])
    expected = np.stack(
        [
            np.mean([classifier.probabilities_prepared(_resized(g, s)) for s in VIEWS["scales"]], 0)
            for g in grays
        ]
    )
    np.testing.assert_allclose(views.probabilities_batch(grays), expected, atol=1e-6)
    big = cv2.resize(grays[0], (256, 256), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_allclose(views.probabilities(big), expected[0], atol=1e-6)
    assert np.allclose(expected.sum(1), 1, atol=0.1)  # int8 outputs: steps of 1/256
    assert not np.allclose(classifier.probabilities_batch(grays), expected, atol=1e-3)


def test_scale_views_read_the_committed_samples_as_well(
    sample_files: list[tuple[str, Path]],
) -> None:
    accuracy, wrong = _sample_accuracy(Classifier(views="scales"), sample_files)
    assert accuracy >= 0.95, f"{accuracy:.3f} correct; wrong: {wrong}"


def test_every_views_setting_has_its_scales_and_the_first_view_is_the_crop_itself() -> None:
    assert set(typing.get_args(Views)) == set(VIEWS)
    assert all(scales[0] == 1.0 for scales in VIEWS.values())
    assert ClassifierSettings().views in VIEWS


def test_unknown_views_are_named_in_the_error() -> None:
    with pytest.raises(UserError, match="views must be one of one, scales, not 'many'"):
        Classifier(views="many")


def test_class_count_must_match_the_model_output(model_copy: Path) -> None:
    write_metadata(model_copy, classes=list(MODEL_CLASSES[:-1]))  # 32 listed, 33 outputs
    with pytest.raises(UserError, match="lists 32 classes but the model outputs 33"):
        Classifier(model_copy)


def test_bad_thread_count() -> None:
    with pytest.raises(UserError, match="num_threads"):
        Classifier(num_threads=0)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((0, 0, 3), np.uint8), "image is empty"),
        (np.zeros((5,), np.uint8), r"unsupported image shape \(5,\)"),
        (np.zeros((8, 8, 7), np.uint8), r"unsupported image shape \(8, 8, 7\)"),
    ],
    ids=["empty", "1-d", "7-channel"],
)
def test_unusable_image(classifier: Classifier, image: np.ndarray, message: str) -> None:
    with pytest.raises(UserError, match=message):
        classifier.classify(image)


def test_prepared_image_of_the_wrong_size(classifier: Classifier) -> None:
    with pytest.raises(UserError, match="64x64 uint8"):
        classifier.probabilities_prepared(np.zeros((32, 32), np.uint8))
    with pytest.raises(UserError, match="64x64 uint8"):
        classifier.probabilities_prepared(np.zeros((64, 64), np.float32))


# --- other model formats (converted here with TensorFlow) ----------------------------------


def convert_tiny_model(tmp_path: Path, io_type: str, softmax: bool) -> tuple[Path, object]:
    """A tiny 16x16 network as a .tflite with metadata; ``io_type``: float32, int8 or uint8."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(len(MODEL_CLASSES), activation="softmax" if softmax else None),
        ]
    )
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if io_type != "float32":
        rng = np.random.default_rng(0)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [rng.random((1, 16, 16, 1), dtype=np.float32)] for _ in range(32)
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = getattr(tf, io_type)
    path = tmp_path / f"tiny_{io_type}.tflite"
    path.write_bytes(converter.convert())
    metadata = {
        "classes": list(MODEL_CLASSES),
        "input": {"size": 16, "color": "gray", "scale": 1 / PIXEL_MAX},
    }
    path.with_suffix(".json").write_text(json.dumps(metadata), encoding="utf-8")
    return path, model


@pytest.mark.skipif(not HAS_TENSORFLOW, reason="TensorFlow (the train extra) not installed")
@pytest.mark.parametrize(
    ("io_type", "softmax", "atol"),
    [("float32", False, 1e-5), ("uint8", True, 0.02), ("int8", False, 0.02)],
)
def test_float_uint8_and_logit_models_give_probabilities(
    tmp_path: Path, io_type: str, softmax: bool, atol: float
) -> None:
    """Input quantised and output dequantised per tensor; softmax added only where missing."""
    path, model = convert_tiny_model(tmp_path, io_type, softmax)
    tiny = Classifier(path)
    rng = np.random.default_rng(1)
    for _ in range(3):
        image = rng.integers(0, 256, (16, 16), dtype=np.uint8)
        out = np.asarray(model(to_unit_range(image[None, :, :, None])))[0]
        expected = out if softmax else np.exp(out - out.max()) / np.exp(out - out.max()).sum()
        probs = tiny.probabilities_prepared(image)
        assert probs.sum() == pytest.approx(1, abs=0.05)
        np.testing.assert_allclose(probs, expected, atol=atol)
