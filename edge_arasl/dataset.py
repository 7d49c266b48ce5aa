"""ArASL-style data: loading, and the contiguous-block split that keeps recordings apart.

Two layouts are read: the packed ``.npz`` (``images`` (N,64,64) uint8, ``labels``, ``classes``)
and the original archive's tree of class folders (``<class>/<image>``, any size or colour).

Neighbouring rows of one class are near-identical frames of one recording, so a random split
leaks near-copies of test images into training. :func:`block_split` instead cuts each class in
row order into blocks and assigns whole blocks, dropping a guard band at every block edge;
:func:`kfold_splits` deals the same blocks into K cross-validation folds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.preprocess import INPUT_SIZE, prepare, read_image_file
from edge_arasl.sources.images import IMAGE_SUFFIXES, natural_key

#: Rows of a class per block: about one recording session (neighbouring frames are near-copies).
BLOCK_ROWS = 80
#: Rows dropped at each edge of a held-out block and from the training rows next to it.
GUARD_ROWS = 4

#: Blocks a class needs at least: a validation and a test block between two training blocks.
MIN_BLOCKS = 4

#: A block of consecutive rows of one class: (class name, first row, last row).
Block = tuple[str, int, int]


@dataclass(frozen=True)
class Dataset:
    images: np.ndarray  # (N, INPUT_SIZE, INPUT_SIZE) uint8
    labels: np.ndarray  # (N,) int, index into classes
    classes: tuple[str, ...]
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def load_dataset(path: str | Path) -> Dataset:
    """Read an ``.npz`` in the shared data format or a folder of class sub-folders."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or directory")
    if path.is_dir():
        return _load_folder(path)
    return _load_npz(path)


def _load_npz(path: Path) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"images", "labels", "classes"} - set(data.files)
            if missing:
                raise UserError(f"{path}: missing array(s) {', '.join(sorted(missing))}")
            images, labels = data["images"], data["labels"].astype(np.int64)
            classes = tuple(str(c) for c in data["classes"])
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable .npz file ({exc})") from None
    if images.ndim != 3 or images.dtype != np.uint8:
        raise UserError(f"{path}: 'images' must be (N, H, W) uint8, got {images.shape}")
    if len(images) != len(labels):
        raise UserError(f"{path}: {len(images)} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
        raise UserError(f"{path}: labels out of range for {len(classes)} classes")
    if images.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        images = np.stack([prepare(im) for im in images]) if len(images) else images
    return Dataset(images, labels, classes, str(path))


def _load_folder(root: Path) -> Dataset:
    class_dirs = sorted(d for d in root.iterdir() if d.is_dir())
    if not class_dirs:
        raise UserError(f"{root}: no class sub-folders (expected <class>/<image files>)")
    images, labels, classes = [], [], []
    for class_dir in class_dirs:
        files = sorted(
            (f for f in class_dir.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES), key=natural_key
        )
        if not files:
            continue
        classes.append(class_dir.name.lower())
        for file in files:
            images.append(prepare(read_image_file(file)))
            labels.append(len(classes) - 1)
    if not images:
        raise UserError(f"{root}: no images found in its class sub-folders")
    return Dataset(np.stack(images), np.asarray(labels), tuple(classes), str(root))


def model_labels(data: Dataset, model_classes: tuple[str, ...]) -> np.ndarray:
    """The data's labels as indices into the model's classes, matched by class name."""
    unknown = [c for c in data.classes if c not in model_classes]
    if unknown:
        raise UserError(
            f"{data.source}: class(es) {', '.join(map(repr, unknown))} not among the "
            f"model's {len(model_classes)} classes"
        )
    index = np.array([model_classes.index(c) for c in data.classes], dtype=np.int64)
    return index[data.labels]


@dataclass(frozen=True)
class Split:
    """Row indices of each part, and its blocks as ``(class, first_row, last_row)``.

    ``train_blocks`` are the training rows' ranges (guard rows already dropped) and
    ``reserve_blocks`` blocks kept out of every part (:func:`kfold_splits`).
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    val_blocks: list[Block]
    test_blocks: list[Block]
    train_blocks: list[Block] = field(default_factory=list)
    reserve_blocks: list[Block] = field(default_factory=list)


#: The parts a block can be given; ``reserve`` blocks are held out of all of them.
PARTS = ("train", "val", "test", "reserve")


def _class_starts(n_rows: int, block: int, merge_tail: bool = False) -> list[int]:
    """First row (within the class) of each block; a short tail may join the block before it.

    :func:`block_split` never holds out the last block, so it keeps the tail apart (and its
    splits as they were); :func:`kfold_splits` tests every block, and a tail of a few rows
    would have nothing left once its guard rows are dropped.
    """
    starts = list(range(0, n_rows, block))
    if merge_tail and len(starts) > 1 and n_rows - starts[-1] < block // 2:
        starts.pop()
    return starts


def _assign(
    name: str,
    rows: np.ndarray,
    starts: list[int],
    role: dict[int, str],
    guard: int,
    rows_out: dict[str, list[np.ndarray]],
    blocks_out: dict[str, list[Block]],
) -> None:
    """Give each block of one class its part (``role``, default train), with guard bands.

    ``guard`` rows are dropped from both ends of every held-out block *and* from the training
    rows next to it, so no training image is a neighbouring frame of a held-out one.
    """
    ends = [*starts[1:], len(rows)]
    held_out = np.zeros(len(rows), dtype=bool)
    for b, (start, end) in enumerate(zip(starts, ends, strict=True)):
        held_out[start:end] = role.get(b, "train") != "train"
    near_held = np.convolve(held_out, np.ones(2 * guard + 1), mode="same") > 0
    for b, (start, end) in enumerate(zip(starts, ends, strict=True)):
        part, kind = rows[start:end], role.get(b, "train")
        # A training block stays contiguous: only its ends can be near a held-out block.
        part = part[~near_held[start:end]] if kind == "train" else part[guard : len(part) - guard]
        if len(part):
            rows_out[kind].append(part)
            blocks_out[kind].append((name, int(part[0]), int(part[-1])))


def _split(rows: dict[str, list[np.ndarray]], blocks: dict[str, list[Block]]) -> Split:
    return Split(
        _rows(rows["train"]),
        _rows(rows["val"]),
        _rows(rows["test"]),
        val_blocks=blocks["val"],
        test_blocks=blocks["test"],
        train_blocks=blocks["train"],
        reserve_blocks=blocks["reserve"],
    )


def block_split(
    labels: np.ndarray,
    classes: tuple[str, ...],
    block: int = BLOCK_ROWS,
    guard: int = GUARD_ROWS,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> Split:
    """Assign whole contiguous blocks of each class to train / val / test.

    Each class's rows (in recording order) are cut into blocks of ``block`` rows, or into
    :data:`MIN_BLOCKS` shorter ones when the class is too small for that many (so every part
    gets rows of every class). A seeded choice of blocks goes to test and to validation, with
    guard bands (:func:`_assign`).
    """
    rng = np.random.default_rng(seed)
    rows_out: dict[str, list[np.ndarray]] = {p: [] for p in PARTS}
    blocks_out: dict[str, list[Block]] = {p: [] for p in PARTS}
    for class_index, name in enumerate(classes):
        rows = np.flatnonzero(labels == class_index)
        if len(rows) == 0:
            continue
        starts = _class_starts(len(rows), _class_block(name, len(rows), block, guard))
        n_test = max(1, round(len(starts) * test_fraction))
        n_val = max(1, round(len(starts) * val_fraction))
        # Never the first or last block: their outer edges have no guard partner.
        inner = np.arange(1, len(starts) - 1) if len(starts) > 2 else np.arange(len(starts))
        chosen = rng.permutation(inner)[: n_test + n_val]
        role = {int(b): "test" for b in chosen[:n_test]}
        role.update({int(b): "val" for b in chosen[n_test:]})
        _assign(name, rows, starts, role, guard, rows_out, blocks_out)
    return _split(rows_out, blocks_out)


def _class_block(name: str, n_rows: int, block: int, guard: int) -> int:
    """``block``, or a shorter block that cuts a small class into :data:`MIN_BLOCKS` blocks."""
    if len(_class_starts(n_rows, block)) >= MIN_BLOCKS:
        return block
    if n_rows // MIN_BLOCKS <= 2 * guard:  # its held-out blocks would be all guard rows
        need = MIN_BLOCKS * (2 * guard + 1)
        raise UserError(f"class {name}: {n_rows} rows, too few to split (at least {need})")
    return n_rows // MIN_BLOCKS


def kfold_splits(
    labels: np.ndarray,
    classes: tuple[str, ...],
    k: int = 5,
    block: int = BLOCK_ROWS,
    guard: int = GUARD_ROWS,
    val_fraction: float = 0.1,
    reserve_per_class: int = 2,
    seed: int = 0,
    final: bool = False,
) -> list[Split]:
    """K splits whose test blocks partition every block of the data set but a reserve.

    Blocks are cut as in :func:`block_split` (a short tail joins the block before it). A seeded
    ``reserve_per_class`` inner blocks of each class are held out of every split (for the
    samples, demo and tests of a model trained on all the rest); the others are shuffled and
    dealt to the ``k`` folds in turn, continuing the deal across classes so folds stay even.
    Fold ``f`` tests its blocks, validates on ``val_fraction`` of each class's blocks drawn
    from the other folds, and trains on the rest, guard bands around every held-out block.

    With ``final``, a split for the shipped model follows the K folds: it tests on the reserve,
    validates on ``val_fraction`` of the other blocks and trains on all the rest (its draws
    come from their own generator, so the folds are the same with or without it).
    """
    rng = np.random.default_rng(seed)
    final_rng = np.random.default_rng([seed, k])
    n_splits = k + 1 if final else k
    rows_out: list[dict[str, list[np.ndarray]]] = [{p: [] for p in PARTS} for _ in range(n_splits)]
    blocks_out: list[dict[str, list[Block]]] = [{p: [] for p in PARTS} for _ in range(n_splits)]
    dealt = 0
    for class_index, name in enumerate(classes):
        rows = np.flatnonzero(labels == class_index)
        if len(rows) == 0:
            continue
        starts = _class_starts(len(rows), block, merge_tail=True)
        if len(starts) < max(k, 2) + reserve_per_class:
            raise UserError(
                f"class {name}: {len(starts)} blocks, too few for {k} folds and a reserve of "
                f"{reserve_per_class}"
            )
        inner = rng.permutation(np.arange(1, len(starts) - 1))  # as block_split, not the ends
        reserve = {int(b) for b in inner[:reserve_per_class]}
        others = rng.permutation([b for b in range(len(starts)) if b not in reserve])
        fold_of = {int(b): (dealt + i) % k for i, b in enumerate(others)}
        dealt += len(others)
        n_val = max(1, round(len(starts) * val_fraction))
        for f in range(k):
            role = {b: "reserve" for b in reserve}
            candidates = [b for b in others if fold_of[int(b)] != f]
            role.update({int(b): "val" for b in rng.permutation(candidates)[:n_val]})
            role.update({b: "test" for b, g in fold_of.items() if g == f})
            _assign(name, rows, starts, role, guard, rows_out[f], blocks_out[f])
        if final:
            role = {b: "test" for b in reserve}
            role.update({int(b): "val" for b in final_rng.permutation(others)[:n_val]})
            _assign(name, rows, starts, role, guard, rows_out[k], blocks_out[k])
    return [_split(r, b) for r, b in zip(rows_out, blocks_out, strict=True)]


def _rows(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, np.int64)


def held_out_blocks(data: Dataset, split_file: str | Path, part: str = "test") -> list[Block]:
    """The ``part`` blocks listed in a model's ``split.json``, checked against ``data``.

    This is how the model card's figures are reproduced on the full data file; the row count
    must match the file the split was made on.
    """
    split_file = Path(split_file)
    try:
        split = json.loads(split_file.read_text(encoding="utf-8"))
        listed = split[f"{part}_blocks"]
        blocks = [(str(name), int(first), int(last)) for name, first, last in listed]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{split_file}: not a split file with {part} blocks ({exc})") from None
    if split.get("rows") != len(data):
        raise UserError(
            f"{split_file}: made for a data file of {split.get('rows')} rows, "
            f"{data.source} has {len(data)}"
        )
    for name, first, last in blocks:
        if not 0 <= first <= last < len(data):
            raise UserError(f"{split_file}: block {name} {first}-{last} is outside the data")
        if data.classes[data.labels[first]] != name:
            raise UserError(f"{split_file}: row {first} is not of class {name!r} in {data.source}")
    return blocks


def split_from_file(data: Dataset, split_file: str | Path) -> Split:
    """The split a ``split.json`` lists, for training on exactly its blocks (``--split``).

    The file needs ``train_blocks`` (the fold files of :func:`kfold_splits` have them): rows
    in no listed block, such as a reserve or guard bands, are in no part. Test rows follow the
    order of ``test_blocks``, so per-block scores line up with them.
    """
    listed = {part: held_out_blocks(data, split_file, part) for part in ("train", "val", "test")}
    rows = {part: block_rows(blocks) for part, blocks in listed.items()}
    seen = np.concatenate(list(rows.values()))
    if len(np.unique(seen)) != len(seen):
        raise UserError(f"{split_file}: a row is listed twice (blocks overlap)")
    return Split(
        np.sort(rows["train"]),
        rows["val"],
        rows["test"],
        val_blocks=listed["val"],
        test_blocks=listed["test"],
        train_blocks=listed["train"],
    )


def split_to_json(split: Split, data: Dataset, method: str | None = None) -> dict[str, Any]:
    """The blocks as rows of the data file (what :func:`split_from_file` reads back).

    With its training and reserve blocks too when the split has them (fold files), so that
    ``train --split`` can train on exactly them. ``method`` says how the blocks were chosen
    (by default: :func:`block_split`'s blocks and guards).
    """
    default = f"contiguous blocks of {BLOCK_ROWS} rows per class, {GUARD_ROWS} guard rows dropped"
    result: dict[str, Any] = {
        "data": Path(data.source).name,
        "rows": len(data),
        "method": method or f"{default} each side",
        "test_blocks": [list(b) for b in split.test_blocks],
        "val_blocks": [list(b) for b in split.val_blocks],
        "test_rows": len(split.test),
        "val_rows": len(split.val),
        "train_rows": len(split.train),
    }
    if split.train_blocks:
        result["train_blocks"] = [list(b) for b in split.train_blocks]
    if split.reserve_blocks:
        result["reserve_blocks"] = [list(b) for b in split.reserve_blocks]
    return result


def block_rows(blocks: list[Block]) -> np.ndarray:
    """The rows of ``blocks``, block after block."""
    return _rows([np.arange(first, last + 1) for _, first, last in blocks])


def held_out(data: Dataset, blocks: list[Block]) -> Dataset:
    """Only the rows of ``blocks`` (from :func:`held_out_blocks`), block after block."""
    rows = block_rows(blocks)
    return Dataset(data.images[rows], data.labels[rows], data.classes, data.source)
