"""Full-integer int8 conversion, int8 evaluation, and the files a trained model ships with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from edge_arasl.dataset import Dataset, Split, block_rows, split_to_json
from edge_arasl.evaluation import evaluate_predictions
from edge_arasl.labels import MODEL_CLASSES, SIGN_CLASSES
from edge_arasl.preprocess import INPUT_SIZE, PIXEL_MAX, to_unit_range
from edge_arasl.training.architecture import NAME as ARCHITECTURE
from edge_arasl.training.architecture import inference_model
from edge_arasl.training.crossval import split_file_id
from edge_arasl.training.files import MODEL_NAME, dump_json
from edge_arasl.training.options import TrainOptions


def convert_int8(tf: Any, model: Any, representative: np.ndarray) -> bytes:
    """Int8 weights and activations, int8 input (:func:`to_unit_range` quantised), int8 output.

    The network is converted in its faster inference form (:func:`inference_model`).
    """

    def samples() -> Any:
        for image in representative:
            yield [to_unit_range(image[None, :, :, None])]

    converter = tf.lite.TFLiteConverter.from_keras_model(inference_model(model))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def confusion_png(confusion: np.ndarray, classes: list[str], path: Path) -> None:
    """Row-normalised confusion matrix (true rows, predicted columns) as a labelled heatmap."""
    n, cell, margin = len(classes), 18, 52
    rows = confusion.sum(1, keepdims=True).clip(min=1)
    shade = (255 * (1 - confusion / rows)).astype(np.uint8)
    heat = cv2.resize(shade, (n * cell, n * cell), interpolation=cv2.INTER_NEAREST)
    canvas = Image.new("L", (margin + n * cell, margin + n * cell), 255)
    canvas.paste(Image.fromarray(heat), (margin, margin))
    draw = ImageDraw.Draw(canvas)
    for i, name in enumerate(classes):
        draw.text((2, margin + i * cell + 4), name[:7], fill=0)
        label = Image.new("L", (margin - 4, cell), 255)
        ImageDraw.Draw(label).text((2, 4), name[:7], fill=0)
        canvas.paste(label.rotate(90, expand=True), (margin + i * cell, 2))
    for k in range(n + 1):
        draw.line([(margin, margin + k * cell), (margin + n * cell, margin + k * cell)], fill=200)
        draw.line([(margin + k * cell, margin), (margin + k * cell, margin + n * cell)], fill=200)
    canvas.save(path)


def save_samples(data: Dataset, split: Split, out: Path, per_class: int) -> int:
    """Copy a few held-out test images per class (spread over its blocks) as PNGs."""
    count = 0
    for name in SIGN_CLASSES:
        rows = block_rows([b for b in split.test_blocks if b[0] == name])
        if len(rows) == 0:
            continue
        picks = rows[np.linspace(0, len(rows) - 1, per_class).round().astype(int)]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for row in picks:
            Image.fromarray(data.images[row]).save(folder / f"{int(row)}.png", optimize=True)
            count += 1
    return count


def write_metadata(
    opts: TrainOptions, *, params: int, macs: int, init_training: dict[str, Any] | str | None
) -> None:
    """The JSON beside the model that the runtime reads (classes, input format).

    ``init_training`` is :func:`previous_training` of ``opts.init``: the starting model's own
    training, so a two-stage recipe reads whole; ``split`` identifies the split file, if any
    (:func:`~edge_arasl.training.crossval.split_file_id`).
    """
    metadata = {
        "format": 1,
        "model": f"{MODEL_NAME}.tflite",
        "classes": list(MODEL_CLASSES),
        "input": {
            "size": INPUT_SIZE,
            "color": "gray",
            "scale": 1 / PIXEL_MAX,
            "resize": "area",
            "margin": opts.margin,
        },
        "architecture": ARCHITECTURE,
        "params": params,
        "macs": macs,
        "training": {
            "epochs": opts.epochs,
            "swa_epochs": opts.swa_epochs,
            "swa_strength": opts.swa_strength,
            "train_on_val": opts.train_on_val,
            "seed": opts.seed,
            "init_seed": opts.init_seed,
            "batch_size": opts.batch_size,
            "init": init_training,
            "split": split_file_id(opts.split),
        },
    }
    dump_json(opts.out / f"{MODEL_NAME}.json", metadata)


def previous_training(init: Path | None) -> dict[str, Any] | str | None:
    """How the model that training starts from was trained.

    That is the ``training`` entry of the metadata a previous run wrote beside it; None when
    training started from scratch, ``"unknown"`` when the starting model has no metadata.
    """
    if init is None:
        return None
    try:
        return json.loads((init.parent / f"{MODEL_NAME}.json").read_text("utf-8"))["training"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"


def write_outputs(
    *,
    opts: TrainOptions,
    data: Dataset,
    split: Split,
    float_pred: np.ndarray,
    int8_pred: np.ndarray,
    y_test: np.ndarray,
    params: int,
    macs: int,
    val_accuracy: float | None,
) -> dict[str, Any]:
    """The split, the figures and the held-out samples."""
    out = opts.out
    float_report = evaluate_predictions(y_test, float_pred, list(MODEL_CLASSES))
    int8_report = evaluate_predictions(y_test, int8_pred, list(MODEL_CLASSES))
    size = (out / f"{MODEL_NAME}.tflite").stat().st_size
    dump_json(out / "split.json", split_to_json(split, data))
    metrics = {
        "test_rows": len(y_test),
        "val_accuracy": None if val_accuracy is None else round(val_accuracy, 4),
        "float": float_report.to_dict(),
        "int8": int8_report.to_dict(),
        "model_bytes": size,
        "params": params,
        "macs": macs,
    }
    dump_json(out / "metrics.json", metrics)
    confusion_png(int8_report.confusion, list(MODEL_CLASSES), out / "confusion.png")
    n_samples = save_samples(data, split, out / "samples", opts.samples_per_class)
    print(
        f"test: float {float_report.accuracy:.4f}, int8 {int8_report.accuracy:.4f} on "
        f"{len(y_test)} held-out images; model {size / 1024:.0f} KiB, {params} params, "
        f"{macs / 1e6:.1f} M MACs; {n_samples} samples saved"
    )
    return metrics
