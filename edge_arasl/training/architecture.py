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

import numpy as np

from edge_arasl.preprocess import INPUT_SIZE

#: Output channels of each stage after the stem; each stage starts with a stride-2 convolution.
STAGES: tuple[int, ...] = (32, 64, 128)
#: Recorded in the model's metadata.
NAME = "arasl_cnn"


def build_model(num_classes: int, input_size: int = INPUT_SIZE, dropout: float = 0.25) -> Any:
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


def inference_model(model: Any) -> Any:
    """The same function with the full-resolution stem computed on 2x2 pixel blocks, for int8.

    XNNPACK's int8 convolution costs about the same per output pixel whether it makes 16
    channels or 64, so on the x86 development machine the stem (4,096 pixels, 16 channels)
    took over half of the model's time (models/MODEL_CARD.md, Speed). Here the image goes
    through space-to-depth (32x32x4), one 3x3 convolution makes the 16 stem channels of all
    four pixels of each block (64 channels, the stem's kernel placed at the four offsets), and
    depth-to-space restores the 64x64x16 map the next layer expects. Same weights, same
    arithmetic up to int8 rounding; only the exported ``.tflite`` uses this form, the trained
    ``.keras`` model keeps the plain one. Any other network (an older ``.keras`` given to
    ``--init``) is returned as it is: the rebuild below assumes this one's layers.
    """
    if model.name != NAME:
        return model
    import keras
    import tensorflow as tf
    from keras import layers

    stem, bn = model.get_layer("stem"), model.get_layer("stem_bn")
    kernel = stem.get_weights()[0]  # (3, 3, 1, filters)
    filters = kernel.shape[-1]
    blocked = np.zeros((3, 3, 4, 4 * filters), dtype=kernel.dtype)
    for a, b, ia, ib, by, bx in np.ndindex(2, 2, 2, 2, 3, 3):
        # output pixel (a, b) of a block reads input pixel (ia, ib) of the block at (by, bx)-1
        dy, dx = 2 * (by - 1) + ia - a, 2 * (bx - 1) + ib - b
        if abs(dy) <= 1 and abs(dx) <= 1:
            out = (2 * a + b) * filters
            blocked[by, bx, 2 * ia + ib, out : out + filters] = kernel[dy + 1, dx + 1, 0]

    inputs = keras.Input(model.input.shape[1:], name="pixels")
    x = layers.Lambda(lambda t: tf.nn.space_to_depth(t, 2), name="stem_blocks")(inputs)
    conv = layers.Conv2D(4 * filters, 3, padding="same", use_bias=False, name="stem")
    x = conv(x)
    conv.set_weights([blocked])
    norm = layers.BatchNormalization(epsilon=bn.epsilon, name="stem_bn")
    x = norm(x)
    norm.set_weights([np.tile(w, 4) for w in bn.get_weights()])
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.Lambda(lambda t: tf.nn.depth_to_space(t, 2), name="stem_pixels")(x)
    names = [layer.name for layer in model.layers]
    for layer in model.layers[names.index("stem_relu") + 1 :]:
        x = layer(x)  # the trained layers themselves: shared weights
    return keras.Model(inputs, x, name=model.name)
