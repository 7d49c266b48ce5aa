"""Stochastic weight averaging (SWA): export the mean of the weights of the last epochs.

At the end of training, validation accuracy still swings by about a point from one epoch to
the next, a recording session at a time, so keeping the epoch that scored best on validation
partly keeps the luckiest one. The mean of the weights after several late epochs at a small
constant learning rate needs no such pick and tends to generalise better (Izmailov et al.,
"Averaging Weights Leads to Wider Optima and Better Generalization", 2018). Batch-norm
statistics do not average with the weights, so they are measured again afterwards.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class WeightAverage:
    """Running mean of a model's weight lists, one :meth:`add` per epoch."""

    def __init__(self) -> None:
        self._sum: list[np.ndarray] | None = None
        self.count = 0

    def add(self, weights: list[np.ndarray]) -> None:
        if self._sum is None:
            self._sum = [np.array(w, dtype=np.float64) for w in weights]
        else:
            for total, w in zip(self._sum, weights, strict=True):
                total += w
        self.count += 1

    def mean(self) -> list[np.ndarray]:
        if self._sum is None:
            raise ValueError("no weights added")
        return [(total / self.count).astype(np.float32) for total in self._sum]


def refresh_batch_norm(model: Any, images: np.ndarray, batch_size: int = 256) -> None:
    """Set every batch-norm layer's moving mean and variance to their average over ``images``.

    Each batch is run in training mode with the layer's momentum set to i/(i+1), which turns
    Keras's exponential moving average into a plain average of the batch statistics.
    """
    from keras import layers

    norms = [layer for layer in model.layers if isinstance(layer, layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    try:
        for i, start in enumerate(range(0, len(images), batch_size)):
            for layer in norms:
                layer.momentum = i / (i + 1)
            model(images[start : start + batch_size], training=True)
    finally:
        for layer, momentum in zip(norms, saved, strict=True):
            layer.momentum = momentum
