"""Train, quantise and evaluate the classifier: ``edge-arasl train --data PATH --out DIR``.

Steps: load the data, split it in contiguous blocks (:func:`edge_arasl.dataset.block_split`,
or the blocks of a split file such as a cross-validation fold's), train the network on freshly
augmented copies each epoch plus synthetic ``none`` images (a cosine learning-rate decay over
``epochs``), then ``swa_epochs`` more at a tenth of the learning rate whose weights are
averaged (:mod:`edge_arasl.training.averaging`; with none, the epoch best on validation is
kept), convert to a full-integer int8 ``.tflite``, and evaluate float and int8 on the held-out
test blocks. Everything is seeded. Every epoch is checkpointed, so a killed run resumes
(:mod:`edge_arasl.training.checkpoint`); a run on a split file also writes
``fold_metrics.json`` (:mod:`edge_arasl.training.crossval`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_arasl.classifier import VIEWS, Classifier
from edge_arasl.dataset import (
    Dataset,
    Split,
    block_split,
    load_dataset,
    model_labels,
    split_from_file,
)
from edge_arasl.errors import UserError
from edge_arasl.labels import MODEL_CLASSES, NONE_CLASS, SIGN_CLASSES
from edge_arasl.preprocess import add_margin, margin_problem, to_unit_range
from edge_arasl.training import import_tf
from edge_arasl.training.architecture import build_model, count_macs
from edge_arasl.training.augment import augmented_epoch, synth_none
from edge_arasl.training.averaging import WeightAverage, refresh_batch_norm
from edge_arasl.training.checkpoint import Checkpoint, Resumed
from edge_arasl.training.crossval import fold_metrics, split_file_id
from edge_arasl.training.export import (
    convert_int8,
    previous_training,
    write_metadata,
    write_outputs,
)
from edge_arasl.training.files import MODEL_NAME, dump_compact
from edge_arasl.training.options import TrainOptions

#: Images the batch-norm statistics of the averaged weights are measured on.
BATCH_NORM_IMAGES = 12800
#: Training images the int8 converter calibrates its activation ranges on.
CALIBRATION_IMAGES = 400


def _dataset(tf: Any, x: np.ndarray, y: np.ndarray, batch: int) -> Any:
    """A tf.data pipeline with autotune off (it otherwise stalls ~40 s after each epoch)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    x = to_unit_range(x[..., None])
    y = np.eye(len(MODEL_CLASSES), dtype=np.float32)[y]
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).with_options(options)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def train(opts: TrainOptions) -> dict[str, Any]:
    """Run the whole pipeline; writes the model and its figures into ``opts.out``."""
    _check_options(opts)
    init_training = _init_training(opts)
    tf = import_tf()
    import keras

    keras.utils.set_random_seed(opts.seed if opts.init_seed is None else opts.init_seed)
    epochs = _Epochs.prepare(opts, tf)
    checkpoint = Checkpoint(opts)
    resumed = checkpoint.resume()
    model = _initial_model(opts) if resumed is None else resumed.model
    if resumed is not None:
        _progress(f"resuming from {checkpoint.folder} after epoch {resumed.epochs_done}")
    average, finished = _train_epochs(opts, model, epochs, checkpoint, resumed)
    val_acc = _final_weights(model, average, epochs)
    metrics = _export(opts, tf, model, epochs, val_acc, init_training)
    if finished:  # an interrupted run keeps it, to be resumed
        checkpoint.remove()
    return metrics


def _check_options(opts: TrainOptions) -> None:
    """Refuse what cannot work before loading TensorFlow and the data."""
    if not 0 <= opts.swa_strength <= 1:
        raise UserError(f"--swa-strength {opts.swa_strength:g}: must be between 0 and 1")
    if not 0 <= opts.none_clutter <= 1:
        raise UserError(f"--none-clutter {opts.none_clutter:g}: must be between 0 and 1")
    if opts.train_on_val and not opts.swa_epochs:
        raise UserError(
            "--train-on-val needs --swa-epochs: without validation blocks there is no best "
            "epoch to keep"
        )
    if problem := margin_problem(opts.margin):
        raise UserError(f"--margin {problem}")


@dataclass
class _Epochs:
    """What every epoch reads: the data, its split, the rows it trains on, the validation set."""

    opts: TrainOptions
    tf: Any
    data: Dataset
    labels: np.ndarray
    split: Split
    train_rows: np.ndarray
    val_ds: Any | None

    @classmethod
    def prepare(cls, opts: TrainOptions, tf: Any) -> _Epochs:
        """Load and split the data (:func:`block_split` or the split file's blocks)."""
        data = load_dataset(opts.data)
        labels = model_labels(data, MODEL_CLASSES)
        if opts.split is None:
            split = block_split(labels, MODEL_CLASSES, seed=opts.seed)
        else:
            split = split_from_file(data, opts.split)
        train_rows = _training_rows(opts, split)
        val_part = "validation blocks included" if opts.train_on_val else f"{len(split.val)} val"
        _progress(
            f"data: {len(data)} images, {len(train_rows)} train ({val_part}) / "
            f"{len(split.test)} test rows in contiguous blocks"
            + (f" of {opts.split}" if opts.split else "")
        )
        val_ds = None
        if not opts.train_on_val:
            val = _with_none(
                data.images[split.val], labels[split.val], opts.seed + 1, opts.none_clutter
            )
            val_ds = _dataset(tf, *val, 512)
        return cls(opts, tf, data, labels, split, train_rows, val_ds)

    @property
    def n_none(self) -> int:
        """Synthetic ``none`` images per epoch: as many as an average sign has."""
        return max(8, len(self.train_rows) // len(SIGN_CLASSES))

    @property
    def steps(self) -> int:
        """Optimizer steps per epoch (the cosine schedule's length is counted in them)."""
        return -(-(len(self.train_rows) + self.n_none) // self.opts.batch_size)

    def images(
        self, rows: np.ndarray, n_none: int, seed: int, strength: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Freshly augmented copies of ``rows`` plus ``n_none`` synthetic ``none`` images."""
        none_label = MODEL_CLASSES.index(NONE_CLASS)
        rows_images, rows_labels = self.data.images[rows], self.labels[rows]
        return augmented_epoch(
            rows_images, rows_labels, none_label, n_none, seed, strength, self.opts.none_clutter
        )

    def validate(self, model: Any) -> float | None:
        """Accuracy on the validation blocks (with ``none`` images); None without them."""
        return None if self.val_ds is None else float(model.evaluate(self.val_ds, verbose=0)[1])

    def run(self, model: Any, epoch: int, total: int) -> float | None:
        """Train ``model`` one epoch on that epoch's augmentation; its validation accuracy."""
        opts, start = self.opts, time.monotonic()
        strength = augmentation_strength(epoch, opts)
        x, y = self.images(self.train_rows, self.n_none, opts.seed * 1000 + epoch, strength)
        ds = _dataset(self.tf, x, y, opts.batch_size)
        history = model.fit(ds, epochs=1, shuffle=False, verbose=0)
        val_acc = self.validate(model)
        notes = ["averaged"] if epoch >= opts.epochs else []
        notes += [f"augmentation at {strength:g} strength"] if strength < 1 else []
        tag = f" ({', '.join(notes)})" if notes else ""
        _progress(
            f"epoch {epoch + 1}/{total}{tag}: "
            f"loss {history.history['loss'][-1]:.4f} val acc {_score(val_acc)} "
            f"{time.monotonic() - start:.0f} s"
        )
        return val_acc


def _final_weights(model: Any, average: WeightAverage, epochs: _Epochs) -> float | None:
    """Load the averaged weights (batch norm measured again) if any; the validation accuracy."""
    opts, rows = epochs.opts, epochs.train_rows
    if average.count:
        model.set_weights(average.mean())
        rng = np.random.default_rng(opts.seed)
        picked = rng.choice(rows, min(len(rows), BATCH_NORM_IMAGES), replace=False)
        x, _ = epochs.images(picked, len(picked) // len(SIGN_CLASSES), opts.seed, 1.0)
        refresh_batch_norm(model, to_unit_range(x[..., None]))
    val_acc = epochs.validate(model)
    what = f"average of the last {average.count} epochs" if average.count else "best epoch"
    _progress(f"{what}: val acc {_score(val_acc)}")
    return val_acc


def _export(
    opts: TrainOptions,
    tf: Any,
    model: Any,
    epochs: _Epochs,
    val_acc: float | None,
    init_training: dict[str, Any] | str | None,
) -> dict[str, Any]:
    """Save the float and int8 models with their metadata; test both, write the figures."""
    data, split = epochs.data, epochs.split
    opts.out.mkdir(parents=True, exist_ok=True)
    model.save(opts.out / "arasl_float.keras")
    x_test, y_test = data.images[split.test], epochs.labels[split.test]
    # Training sees the images as they are; tests and the runtime add the model's margin.
    test_ds = _dataset(tf, _framed(x_test, opts.margin), y_test, 512)
    float_pred = model.predict(test_ds, verbose=0).argmax(1)
    n_rep = min(CALIBRATION_IMAGES, len(epochs.train_rows))  # a --limit run may have fewer
    rep_rows = np.random.default_rng(opts.seed).choice(epochs.train_rows, n_rep, replace=False)
    tflite_bytes = convert_int8(tf, model, _framed(data.images[rep_rows], opts.margin))
    model_path = opts.out / f"{MODEL_NAME}.tflite"
    model_path.write_bytes(tflite_bytes)
    params, macs = int(model.count_params()), count_macs(model)
    write_metadata(opts, params=params, macs=macs, init_training=init_training)
    # The int8 figures come from the runtime's own classifier, exactly as users run the model
    # (it adds the margin itself).
    int8_pred = Classifier(model_path, num_threads=2).probabilities_batch(x_test).argmax(1)
    if opts.split is not None:
        views_pred = {  # what the runtime reads with its test-time views, for cross-validation
            views: Classifier(model_path, num_threads=2, views=views)
            .probabilities_batch(x_test)
            .argmax(1)
            for views, scales in VIEWS.items()
            if len(scales) > 1
        }
        dump_compact(
            opts.out / "fold_metrics.json",
            fold_metrics(
                opts, split, y_test, float_pred, int8_pred, val_acc, init_training, views_pred
            ),
        )
    return write_outputs(
        opts=opts,
        data=data,
        split=split,
        float_pred=float_pred,
        int8_pred=int8_pred,
        y_test=y_test,
        params=params,
        macs=macs,
        val_accuracy=val_acc,
    )


def augmentation_strength(epoch: int, opts: TrainOptions) -> float:
    """Full strength for the cosine epochs, ``opts.swa_strength`` for the averaged ones.

    The averaged epochs fine-tune at a small learning rate; closer to the clean images they
    read more of the unseen recording sessions right (models/MODEL_CARD.md: 94.20% at full
    strength, 94.67% at 0.5, 95.05% at 0.25 from one stage-1 model).
    """
    return opts.swa_strength if epoch >= opts.epochs else 1.0


def _training_rows(opts: TrainOptions, split: Split) -> np.ndarray:
    rows = np.sort(np.concatenate([split.train, split.val])) if opts.train_on_val else split.train
    return rows if opts.limit is None else rows[: opts.limit]


def _train_epochs(
    opts: TrainOptions,
    model: Any,
    epochs: _Epochs,
    checkpoint: Checkpoint,
    resumed: Resumed | None,
) -> tuple[WeightAverage, bool]:
    """The cosine epochs, then the averaged ones, from a checkpoint's next epoch if resumed.

    Ctrl-C ends training early but still exports (and returns False: not finished). Without
    averaged epochs the model is left at its best epoch on validation.
    """
    total = opts.epochs + opts.swa_epochs
    best_acc, best_weights = -1.0, model.get_weights()
    average, done = WeightAverage(), 0
    if resumed is not None:  # its model keeps its optimizer, schedule position included
        best_acc, best_weights = resumed.best_accuracy, resumed.best_weights
        average, done = resumed.average, resumed.epochs_done
    try:
        if opts.epochs and done == 0:
            _compile(model, _cosine_schedule(opts, opts.epochs * epochs.steps))
        for epoch in range(done, opts.epochs):
            val_acc = epochs.run(model, epoch, total)
            if val_acc is None or val_acc > best_acc:  # no validation: keep the latest
                best_weights = model.get_weights()
                best_acc = best_acc if val_acc is None else val_acc
            checkpoint.save(model, epoch + 1, best_acc, best_weights, average)
        if opts.swa_epochs and done <= opts.epochs:
            _compile(model, opts.learning_rate / 10)
        for epoch in range(max(done, opts.epochs), total):
            epochs.run(model, epoch, total)
            average.add(model.get_weights())
            checkpoint.save(model, epoch + 1, best_acc, best_weights, average)
    except KeyboardInterrupt:
        _progress("interrupted: exporting the weights trained so far")
        finished = False
    else:
        finished = True
    if not average.count:
        model.set_weights(best_weights)
    return average, finished


def _framed(images: np.ndarray, margin: int) -> np.ndarray:
    return np.stack([add_margin(image, margin) for image in images]) if margin else images


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _cosine_schedule(opts: TrainOptions, steps: int) -> Any:
    """A short warm-up to the learning rate, then a cosine decay to zero."""
    import keras

    return keras.optimizers.schedules.CosineDecay(
        opts.learning_rate / 10,
        steps,
        warmup_target=opts.learning_rate,
        warmup_steps=max(1, steps // 20),
    )


def _compile(model: Any, learning_rate: Any) -> None:
    """(Re)compile with a fresh optimizer: the averaged epochs start from clean Adam moments."""
    import keras

    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=1e-4),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
    )


def _init_training(opts: TrainOptions) -> dict[str, Any] | str | None:
    """How the starting model was trained; fine-tuning must keep the split it was trained on.

    The split depends on the seed or split file; with another one, some of this run's test
    blocks were that model's training data and the test figures would flatter it.
    """
    before = previous_training(opts.init)
    if not isinstance(before, dict):
        return before
    if opts.split is not None or before.get("split") is not None:
        if before.get("split") != split_file_id(opts.split):
            was = (before.get("split") or {}).get("file", f"--seed {before.get('seed')}")
            raise UserError(
                f"{opts.init}: trained on the split of {was}, not of "
                f"{opts.split or f'--seed {opts.seed}'}; fine-tune it on the same split"
            )
    elif before.get("seed", opts.seed) != opts.seed:
        raise UserError(
            f"{opts.init}: trained with --seed {before['seed']}, which splits the data "
            f"differently; fine-tune it with --seed {before['seed']}"
        )
    return before


def _initial_model(opts: TrainOptions) -> Any:
    if opts.init is None:
        return build_model(len(MODEL_CLASSES))
    import keras

    if not opts.init.is_file():
        raise UserError(f"{opts.init}: no such model file")
    model = keras.models.load_model(opts.init, compile=False)
    if model.output_shape[-1] != len(MODEL_CLASSES):
        raise UserError(
            f"{opts.init}: model has {model.output_shape[-1]} outputs, "
            f"expected {len(MODEL_CLASSES)}"
        )
    return model


def _with_none(
    images: np.ndarray, labels: np.ndarray, seed: int, clutter_share: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Validation images plus a share of synthetic ``none`` images (unaugmented signs)."""
    none_label = MODEL_CLASSES.index(NONE_CLASS)
    rng = np.random.default_rng(seed)
    n_none = max(8, len(images) // len(SIGN_CLASSES))
    none = np.stack([synth_none(images, rng, clutter_share) for _ in range(n_none)])
    return np.concatenate([images, none]), np.concatenate([labels, np.full(n_none, none_label)])
