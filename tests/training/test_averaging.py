"""Weight averaging and the batch-norm refresh that must follow it."""

import numpy as np
import pytest

from edge_arasl.training.averaging import WeightAverage, refresh_batch_norm


def test_weight_average_is_the_elementwise_mean_of_each_weight():
    average = WeightAverage()
    average.add([np.array([1.0, 2.0]), np.array([[10.0]])])
    average.add([np.array([3.0, 6.0]), np.array([[20.0]])])
    average.add([np.array([5.0, 1.0]), np.array([[0.0]])])
    mean = average.mean()
    assert average.count == 3
    np.testing.assert_allclose(mean[0], [3.0, 3.0])
    np.testing.assert_allclose(mean[1], [[10.0]])
    assert mean[0].dtype == np.float32


def test_weight_average_does_not_alias_the_first_weights():
    first = [np.array([1.0, 1.0], np.float32)]
    average = WeightAverage()
    average.add(first)
    average.add([np.array([3.0, 3.0], np.float32)])
    np.testing.assert_array_equal(first[0], [1.0, 1.0])


def test_weight_average_without_weights_is_an_error():
    with pytest.raises(ValueError):
        WeightAverage().mean()


def test_refresh_batch_norm_measures_the_data_and_restores_momentum():
    keras = pytest.importorskip("keras", reason="needs the train extra (make test installs it)")
    inputs = keras.Input((4,))
    norm = keras.layers.BatchNormalization()
    model = keras.Model(inputs, norm(inputs))
    rng = np.random.default_rng(0)
    data = rng.normal(5.0, 2.0, (2000, 4)).astype(np.float32)

    refresh_batch_norm(model, data, batch_size=100)

    np.testing.assert_allclose(np.asarray(norm.moving_mean), data.mean(0), atol=0.05)
    np.testing.assert_allclose(np.asarray(norm.moving_variance), data.var(0), rtol=0.05)
    assert norm.momentum == pytest.approx(0.99)
