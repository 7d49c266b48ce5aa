"""The network: a small depthwise-separable CNN for 64x64 grayscale hands.

Two plain 3x3 convolutions keep the thin finger edges at full and half resolution, then
depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, batch norm, ReLU) widen to 256
channels at 8x8, with residual connections where shapes allow. About 0.15 M parameters and
25 M multiply-accumulates, against the seed's 263 k / 60 M; it quantises well to int8
(per-channel weights, batch norm folded by the converter).
"""

from __future__ import annotations

from typing import Any

#: (output channels, stride) of each depthwise-separable block.
BLOCKS: tuple[tuple[int, int], ...] = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1))


def build_model(num_classes: int, input_size: int = 64, dropout: float = 0.25) -> Any:
    """Keras model taking float pixels in 0..1, shape (size, size, 1); softmax output."""
    import keras
    from keras import layers

    def conv_bn(x: Any, filters: int, stride: int, name: str) -> Any:
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=name)(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    def separable(x: Any, filters: int, stride: int, name: str) -> Any:
        shortcut = x
        y = layers.DepthwiseConv2D(
            3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw"
        )(x)
        y = layers.BatchNormalization(name=f"{name}_dw_bn")(y)
        y = layers.ReLU(name=f"{name}_dw_relu")(y)
        y = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(y)
        y = layers.BatchNormalization(name=f"{name}_pw_bn")(y)
        if stride == 1 and shortcut.shape[-1] == filters:
            y = layers.Add(name=f"{name}_add")([shortcut, y])
        return layers.ReLU(name=f"{name}_relu")(y)

    inputs = keras.Input((input_size, input_size, 1), name="pixels")
    x = conv_bn(inputs, 16, 1, "stem1")
    x = conv_bn(x, 32, 2, "stem2")
    for i, (filters, stride) in enumerate(BLOCKS):
        x = separable(x, filters, stride, f"block{i + 1}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="arasl_dwsep")


def count_macs(model: Any) -> int:
    """Multiply-accumulates of one forward pass (convolutions and dense layers)."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c * kh * kw
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c = layer.output.shape
            kh, kw = layer.kernel_size
            total += h * w * c * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)
