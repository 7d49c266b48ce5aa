"""The landmark classifier's training: an MLP on the cached landmarks of the ArASL images
(:mod:`edge_arasl.training.landmark_cache`), and the weight that fuses it with the CNN.

The MLP trains on the training blocks of the shipped split (never a random split: neighbouring
rows are near-identical frames); its epochs, the handedness mirroring and the fusion weight are
chosen on the validation blocks only, and the test blocks are only scored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.classifier import Classifier, ClassifierSettings
from edge_arasl.dataset import Dataset, Split, block_split, held_out_blocks, split_from_file
from edge_arasl.errors import UserError
from edge_arasl.fusion import Fusion
from edge_arasl.hand.features import FEATURES
from edge_arasl.hand.landmarks import LANDMARKS
from edge_arasl.labels import MODEL_CLASSES, SIGN_CLASSES
from edge_arasl.training import import_tf
from edge_arasl.training.landmark_cache import extract_copies, feature_matrix, training_rows


def shipped_split(data: Dataset, labels: np.ndarray, split_file: Path) -> Split:
    """The block split of ``split_file``, with its training rows.

    A file that lists its training blocks (``models/folds/*.json``, and the ``split.json`` of a
    model trained on one) is read as it is. An older file lists only its held-out blocks: its
    training rows are :func:`block_split`'s for seed 0, the seed it was made with, and its
    held-out blocks must be exactly the file's, or this refuses.
    """
    try:
        lists_training = "train_blocks" in json.loads(split_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{split_file}: not a split file ({exc})") from None
    if lists_training:
        return split_from_file(data, split_file)
    split = block_split(labels, MODEL_CLASSES, seed=0)
    for part, blocks in (("val", split.val_blocks), ("test", split.test_blocks)):
        if held_out_blocks(data, split_file, part) != blocks:
            raise UserError(f"{split_file}: its {part} blocks are not the seed-0 block split")
    return split


def augment(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Jittered copies of feature rows: the hand turned a little in the image plane (up to 10
    degrees), resized by up to 10% (the knuckle-based size varies with the pose) and each
    coordinate moved by noise of 0.02 hand sizes (the landmark model's own jitter)."""
    points = x.reshape(len(x), LANDMARKS, 3).copy()
    angle = np.radians(rng.uniform(-10, 10, len(x))) * strength
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    px, py = points[..., 0].copy(), points[..., 1].copy()
    points[..., 0], points[..., 1] = cos * px - sin * py, sin * px + cos * py
    points *= 1 + rng.uniform(-0.1, 0.1, (len(x), 1, 1)) * strength
    points += rng.normal(0, 0.02 * strength, points.shape)
    points[:, 0] = 0.0  # the wrist stays the origin
    return points.reshape(len(x), FEATURES).astype(np.float32)


#: Hidden layer widths. 256 -> 128 read 1.2 points more of the cross-validation folds' hands
#: than 128 -> 64, on validation and test blocks alike (models/MODEL_CARD.md, "The MLP's size").
HIDDEN = (256, 128)


def build_mlp(n_classes: int, hidden: tuple[int, ...] = HIDDEN, dropout: float = 0.2) -> Any:
    """63 -> hidden -> classes, ReLU, dropout: small enough to cost microseconds a frame."""
    import keras

    layers: list[Any] = [keras.Input((FEATURES,))]
    for width in hidden:
        layers += [keras.layers.Dense(width, activation="relu"), keras.layers.Dropout(dropout)]
    return keras.Sequential([*layers, keras.layers.Dense(n_classes, activation="softmax")])


@dataclass(frozen=True)
class Trained:
    """A trained MLP at its best validation epoch, and the validation accuracy of each epoch."""

    model: Any
    curve: list[float]
    best_epoch: int  # 1-based


def train_mlp(
    tf: Any,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int,
    seed: int,
    augmentation: float = 1.0,
    batch_size: int = 128,
    learning_rate: float = 2e-3,
    hidden: tuple[int, ...] = HIDDEN,
    progress: Callable[[str], None] = print,
) -> Trained:
    """Fresh jitter each epoch, cosine learning-rate decay; keeps the best epoch on ``val``."""
    import keras

    keras.utils.set_random_seed(seed)
    (x, y), (x_val, y_val) = train, val
    model = build_mlp(len(SIGN_CLASSES), hidden)
    steps = epochs * -(-len(x) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(),
    )
    options = tf.data.Options()
    options.autotune.enabled = False  # else tf.data stalls after each epoch
    rng = np.random.default_rng(seed)
    curve: list[float] = []
    best_weights = model.get_weights()
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        xe = augment(x[order], rng, augmentation) if augmentation > 0 else x[order]
        ds = tf.data.Dataset.from_tensor_slices((xe, y[order])).batch(batch_size)
        model.fit(ds.with_options(options), epochs=1, verbose=0)
        accuracy = float(np.mean(model.predict_on_batch(x_val).argmax(1) == y_val))
        if not curve or accuracy > max(curve):
            best_weights = model.get_weights()
        curve.append(accuracy)
        if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
            progress(f"epoch {epoch + 1}/{epochs}: val acc {accuracy:.4f} (best {max(curve):.4f})")
    model.set_weights(best_weights)
    return Trained(model, curve, int(np.argmax(curve)) + 1)


def export_tflite(tf: Any, model: Any) -> bytes:
    """Float32 TFLite (the network is 53k parameters: int8 would save nothing that matters)."""
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


#: Fusion weights tried on the validation blocks.
WEIGHT_GRID = tuple(round(w, 2) for w in np.linspace(0, 1, 21))


def fused_predictions(
    weight: float, cnn: np.ndarray, landmarks: np.ndarray, found: np.ndarray
) -> np.ndarray:
    """The fused prediction of each row (an index into MODEL_CLASSES); no hand: the CNN's."""
    fused = cnn.copy()
    if found.any():
        fused[found] = Fusion(MODEL_CLASSES, SIGN_CLASSES, weight)(cnn[found], landmarks[found])
    return fused.argmax(1)


def fused_accuracy(
    weight: float, cnn: np.ndarray, landmarks: np.ndarray, found: np.ndarray, y: np.ndarray
) -> float:
    """Accuracy of :func:`fused_predictions` against ``y``."""
    return float(np.mean(fused_predictions(weight, cnn, landmarks, found) == y))


def choose_weight(
    cnn: np.ndarray, landmarks: np.ndarray, found: np.ndarray, y: np.ndarray
) -> tuple[float, dict[str, float]]:
    """The grid weight with the best fused accuracy (the smallest among ties), and the curve."""
    curve = {f"{w:g}": fused_accuracy(w, cnn, landmarks, found, y) for w in WEIGHT_GRID}
    best = max(curve.values())
    return next(w for w in WEIGHT_GRID if curve[f"{w:g}"] == best), curve


def block_folds(split: Split) -> tuple[np.ndarray, np.ndarray]:
    """Test rows in two folds of whole blocks: each class's 1st, 3rd.. test block, and the rest.

    Fixed before any figure was seen; used to cross-fit the fusion weight on blocks that
    neither model trained on (the shipped CNN trained on the validation blocks too).
    """
    seen: dict[str, int] = {}
    folds: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for name, first, last in split.test_blocks:
        folds[seen.get(name, 0) % 2].append(np.arange(first, last + 1))
        seen[name] = seen.get(name, 0) + 1
    return np.concatenate(folds[0]), np.concatenate(folds[1])


def gain_interval(
    before: np.ndarray, after: np.ndarray, blocks: list[tuple[str, int, int]], seed: int = 0
) -> tuple[float, float]:
    """95% interval of the accuracy gain ``after - before`` (per-row correctness, rows of
    ``blocks`` in order), resampling whole blocks: near-copies within a block are not
    independent evidence."""
    sizes = np.array([last - first + 1 for _, first, last in blocks])
    ends = np.cumsum(sizes)
    gain = np.add.reduceat(after.astype(np.int64) - before, ends - sizes)
    picks = np.random.default_rng(seed).integers(0, len(blocks), (5000, len(blocks)))
    low, high = np.percentile(gain[picks].sum(1) / sizes[picks].sum(1), [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


@dataclass(frozen=True)
class LandmarkTrainOptions:
    """``edge-arasl train-landmarks`` settings (see its ``--help``)."""

    data: Path
    cache: Path
    out: Path
    split: Path
    cnn_model: Path | None = None
    choose_with: Path | None = None  # the CNN whose validation readings choose the weight
    epochs: int = 80
    seed: int = 0
    mirror: bool = False
    presence: float = 0.5
    augmentation: float = 1.0
    views: str = ClassifierSettings.views  # the CNN's test-time views ([classifier] views)
    #: Training also reads this many warped copies of the training images (landmark_cache).
    #: 0: two read better alone but fused worse on validation (MODEL_CARD, "The MLP's size").
    warped_copies: int = 0


def _cnn_readings(model: Path | None, images: np.ndarray, views: str) -> np.ndarray:
    """Class probabilities of every image by the sign CNN ``model`` (default: the shipped),
    averaged over its test-time ``views`` as the runtime averages them."""
    classifier = Classifier(model, views=views)
    if classifier.classes != MODEL_CLASSES:
        raise UserError(f"{classifier.model_path}: classes are not the 32 signs and none")
    return classifier.probabilities_batch(images)


def run(opts: LandmarkTrainOptions, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Extract (or reuse) landmarks, train, export, choose the fusion weight, score the test
    blocks; writes ``landmarks_mlp.tflite``, its ``.json`` and ``report.json`` into ``out``."""
    from edge_arasl.dataset import load_dataset, model_labels
    from edge_arasl.landmark_classifier import FEATURE_NAME, FEATURE_VERSION, LandmarkClassifier
    from edge_arasl.training.files import dump_json

    if not 0 < opts.presence < 1:
        raise UserError(f"--presence {opts.presence:g}: must be between 0 and 1")
    if opts.epochs < 1:
        raise UserError(f"--epochs {opts.epochs}: must be at least 1")
    if opts.warped_copies < 0:
        raise UserError(f"--warped-copies {opts.warped_copies}: must be at least 0")
    data = load_dataset(opts.data)
    labels = model_labels(data, MODEL_CLASSES)
    split = shipped_split(data, labels, opts.split)
    caches = extract_copies(data.images, opts.cache, opts.warped_copies, progress=progress)
    cache = caches[0]
    reads = [feature_matrix(c, opts.mirror, opts.presence) for c in caches]
    x, found = reads[0]
    train = training_rows(reads, split.train, labels)
    va = split.val[found[split.val]]
    total = len(split.train) * len(caches)
    progress(f"training on the {len(train[0])} of {total} training-row reads with a hand")
    tf = import_tf()
    trained = train_mlp(
        tf, train, (x[va], labels[va]), epochs=opts.epochs, seed=opts.seed,
        augmentation=opts.augmentation, progress=progress,
    )  # fmt: skip
    opts.out.mkdir(parents=True, exist_ok=True)
    model_path = opts.out / "landmarks_mlp.tflite"
    model_path.write_bytes(export_tflite(tf, trained.model))
    metadata: dict[str, Any] = {
        "format": 1,
        "model": model_path.name,
        "classes": list(SIGN_CLASSES),
        "features": {"name": FEATURE_NAME, "version": FEATURE_VERSION, "mirror_left": opts.mirror},
        "presence_threshold": opts.presence,
        "fusion": {"weight": 0.0},  # a placeholder until the weight is chosen below
        "training": {
            "epochs": opts.epochs, "best_epoch": trained.best_epoch, "seed": opts.seed,
            "augmentation": opts.augmentation, "warped_copies": opts.warped_copies,
            "rows": len(train[0]), "split": opts.split.name,
        },
    }  # fmt: skip
    dump_json(model_path.with_suffix(".json"), metadata)

    # Every figure from here is of the exported model, run as the runtime runs it.
    classifier = LandmarkClassifier(model_path)
    lm = np.zeros((len(data), len(SIGN_CLASSES)), np.float32)
    for row in np.flatnonzero(found):
        lm[row] = classifier.probabilities_features(x[row])
    cnn, val = _cnn_readings(opts.cnn_model, data.images, opts.views), split.val
    # A CNN that trained on the validation blocks (the recipe's stage 2 does) reads them almost
    # perfectly, so they cannot show what the landmarks add; its stage 1 did not train on them.
    chooser = (
        cnn
        if opts.choose_with is None
        else _cnn_readings(opts.choose_with, data.images, opts.views)
    )
    weight, val_curve = choose_weight(chooser[val], lm[val], found[val], labels[val])
    chosen_on = "validation blocks"
    if opts.choose_with is not None:
        chosen_on += f" read by {opts.choose_with.parent.name}/{opts.choose_with.name}"
    metadata["fusion"] = {
        "weight": weight, "chosen_on": chosen_on, "grid": 0.05, "cnn_views": opts.views
    }  # fmt: skip
    dump_json(model_path.with_suffix(".json"), metadata)

    def figures(rows: np.ndarray, w: float) -> dict[str, float]:
        hand, called_left = found[rows], cache.right[rows] < 0.5
        lm_right = lm[rows].argmax(1) == labels[rows]
        return {
            "rows": len(rows),
            "presence_rate": float(hand.mean()),
            "cnn": float(np.mean(cnn[rows].argmax(1) == labels[rows])),
            "cnn_on_hand_rows": float(np.mean(cnn[rows[hand]].argmax(1) == labels[rows[hand]])),
            "landmarks_on_hand_rows": float(lm_right[hand].mean()),
            "landmarks_no_hand_wrong": float(np.mean(lm_right & hand)),
            "landmarks_on_hand_rows_called_left": float(lm_right[hand & called_left].mean()),
            "fused": fused_accuracy(w, cnn[rows], lm[rows], hand, labels[rows]),
        }

    folds, cross = block_folds(split), []
    for own, other in (folds, folds[::-1]):  # each fold's weight chosen on the other fold only
        w_k, _ = choose_weight(cnn[other], lm[other], found[other], labels[other])
        cross.append((w_k, fused_accuracy(w_k, cnn[own], lm[own], found[own], labels[own])))
    test, y_test = split.test, labels[split.test]
    fused_right = fused_predictions(weight, cnn[test], lm[test], found[test]) == y_test
    gain = gain_interval(cnn[test].argmax(1) == y_test, fused_right, split.test_blocks)
    _, test_curve = choose_weight(cnn[test], lm[test], found[test], y_test)
    report = {
        "presence_rate_all_rows": float(found.mean()),
        "presence_rate_by_class": {
            c: round(float(found[labels == i].mean()), 4) for i, c in enumerate(SIGN_CLASSES)
        },
        "right_hand_share": float(np.mean(cache.right[found] >= 0.5)),
        "mirror_left": opts.mirror,
        "best_epoch": trained.best_epoch,
        "fusion_weight": weight,
        "fusion_chosen_on": chosen_on,
        "cnn_views": opts.views,
        "validation": figures(split.val, weight),
        "validation_fusion_curve": val_curve,
        "test": figures(split.test, weight),
        "test_fusion_gain_interval": gain,
        "test_fusion_curve_not_used_for_any_choice": test_curve,
        "test_cross_fitted": {
            "weights": [w for w, _ in cross],
            "fused": (cross[0][1] * len(folds[0]) + cross[1][1] * len(folds[1])) / len(split.test),
        },
    }
    dump_json(opts.out / "report.json", report)
    return report
