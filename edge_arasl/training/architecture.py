"""The network: a small plain CNN for 64x64 grayscale hands.

A 3x3 convolution at full resolution keeps the thin finger edges, then three stages each halve
the resolution with a strided 3x3 convolution and refine with another (32, 64 and 128
channels, batch norm and ReLU after every convolution), and global average pooling feeds the
classifier. About 0.30 M parameters and 43 M multiply-accumulates, against the seed's
263 k / 60 M. Plain convolutions were chosen over depthwise-separable blocks with half the
MACs: within the int8 latency budget they train faster in TensorFlow on CPU (80 s an epoch
against 106 s) and generalised better to unseen recording sessions (models/MODEL_CARD.md).
They quantise well to int8 (per-channel weights, batch norm folded by the converter).
"""

from __future__ import annotations

from typing import Any

#: Output channels of each stage after the stem; each stage starts with a stride-2 convolution.
STAGES: tuple[int, ...] = (32, 64, 128)
#: Recorded in the model's metadata.
NAME = "arasl_cnn"


def build_model(num_classes: int, input_size: int = 64, dropout: float = 0.25) -> Any:
    """Keras model taking float pixels in 0..1, shape (size, size, 1); softmax output."""
    import keras
    from keras import layers

    def conv_bn(x: Any, filters: int, stride: int, name: str) -> Any:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=name)(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    inputs = keras.Input((input_size, input_size, 1), name="pixels")
    x = conv_bn(inputs, 16, 1, "stem")
    for i, filters in enumerate(STAGES, start=1):
        x = conv_bn(x, filters, 2, f"stage{i}_down")
        x = conv_bn(x, filters, 1, f"stage{i}_conv")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name=NAME)


def count_macs(model: Any) -> int:
    """Multiply-accumulates of one forward pass (convolutions and dense layers)."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, h, w, c = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)
