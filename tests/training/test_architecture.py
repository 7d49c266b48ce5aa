"""The network and the form it is exported in."""

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="needs the train extra (make test installs it)")

from edge_arasl.training.architecture import build_model, count_macs, inference_model


def _trained_looking(model):
    """Random weights everywhere, batch-norm statistics included, so no layer is an identity."""
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    for layer in model.layers:
        if layer.name.endswith("_bn"):  # the moving variance (last) must stay positive
            *rest, variance = layer.get_weights()
            layer.set_weights([*rest, np.abs(variance) + 0.5])
    return model


def test_inference_form_computes_the_same_function():
    model = _trained_looking(build_model(33))
    images = np.random.default_rng(3).random((4, 64, 64, 1)).astype(np.float32)
    images[0, :, :32] = 0  # an edge inside the image, and the image border, both matter
    twin = inference_model(model)
    expected = model.predict(images, verbose=0)
    assert not np.allclose(expected, expected[:, :1])  # the outputs are not flat
    np.testing.assert_allclose(twin.predict(images, verbose=0), expected, atol=1e-5)
    assert [layer.name for layer in twin.layers][:2] == ["pixels", "stem_blocks"]


def test_other_networks_are_exported_as_they_are():
    import keras

    inputs = keras.Input((64, 64, 1))
    stem = keras.layers.Conv2D(16, 3, strides=2, name="stem")(inputs)  # not this network's stem
    other = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(stem), name="older_cnn")
    assert inference_model(other) is other


def test_macs_count_convolutions_and_the_classifier():
    model = build_model(33)
    stem = 64 * 64 * 16 * 9
    stages = sum(
        (64 // 2**i) ** 2 * c * 9 * (p + c)
        for i, (p, c) in enumerate([(16, 32), (32, 64), (64, 128)], start=1)
    )
    assert count_macs(model) == stem + stages + 128 * 33
