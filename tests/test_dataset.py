"""Data loading and the contiguous-block split."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.dataset import (
    Split,
    block_rows,
    block_split,
    kfold_splits,
    load_dataset,
    split_from_file,
)
from edge_arasl.errors import UserError


def _npz(path: Path, per_class: int = 400, classes=("aleff", "bb", "meem")) -> Path:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (per_class * len(classes), 64, 64), dtype=np.uint8)
    labels = np.repeat(np.arange(len(classes)), per_class).astype(np.int16)
    np.savez_compressed(path, images=images, labels=labels, classes=np.array(classes))
    return path


def test_block_split_keeps_blocks_contiguous_and_apart(tmp_path):
    data = load_dataset(_npz(tmp_path / "d.npz"))
    split = block_split(data.labels, data.classes, block=80, guard=4, seed=1)
    parts = [set(split.train), set(split.val), set(split.test)]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    for name, first, last in split.test_blocks + split.val_blocks:
        rows = np.arange(first, last + 1)
        assert np.all(data.labels[rows] == data.classes.index(name))
        # guard band: no training row within 4 rows of a held-out block
        near = set(range(first - 8, last + 9))
        assert not near & parts[0], f"training rows next to held-out block {name} {first}"
    assert len(split.test) > 0 and len(split.val) > 0
    assert len(split.train) > 0.5 * len(data)  # 2 of 5 blocks held out per class here


def test_block_split_is_seeded(tmp_path):
    data = load_dataset(_npz(tmp_path / "d.npz"))
    a = block_split(data.labels, data.classes, seed=3)
    b = block_split(data.labels, data.classes, seed=3)
    c = block_split(data.labels, data.classes, seed=4)
    assert a.test_blocks == b.test_blocks
    assert a.test_blocks != c.test_blocks


@pytest.mark.parametrize("per_class", [36, 50, 170, 240, 241, 320, 400, 555])
def test_every_part_gets_contiguous_blocks_of_every_class(per_class):
    """Small classes too: each part non-empty per class, the parts disjoint, blocks whole."""
    labels = np.repeat(np.arange(3), per_class)
    split = block_split(labels, ("aleff", "bb", "meem"), guard=4, seed=per_class)
    _assert_apart(split, labels, guard=4)
    for part in ("train", "val", "test"):
        rows, blocks = getattr(split, part), getattr(split, f"{part}_blocks")
        assert set(labels[rows].tolist()) == {0, 1, 2}, f"{part} misses a class"
        assert np.array_equal(rows, block_rows(blocks)), f"{part} rows are not its blocks"
        assert all(np.ptp(labels[first : last + 1]) == 0 for _, first, last in blocks)
    # Covering: the only rows in no part are guard rows, 4 a side of each held-out block.
    unused = len(labels) - len(split.train) - len(split.val) - len(split.test)
    assert 0 < unused <= 4 * 4 * (len(split.val_blocks) + len(split.test_blocks))


def test_a_class_too_small_for_its_blocks_is_refused():
    labels = np.repeat(np.arange(2), [400, 35])
    with pytest.raises(UserError, match="class bb: 35 rows, too few to split"):
        block_split(labels, ("aleff", "bb"), guard=4)


def test_block_split_is_unchanged_by_the_shared_block_code():
    """Pinned: the shipped split (models/split.json) must stay reproducible from its seed."""
    labels = np.repeat(np.arange(3), [400, 555, 1201])
    split = block_split(labels, ("aleff", "bb", "meem"), seed=1)
    assert split.test_blocks == [
        ("aleff", 84, 155),
        ("bb", 724, 795),
        ("meem", 1119, 1190),
        ("meem", 1839, 1910),
    ]
    assert split.val_blocks == [
        ("aleff", 164, 235),
        ("bb", 484, 555),
        ("meem", 1039, 1110),
        ("meem", 1519, 1590),
    ]
    assert (len(split.train), len(split.val), len(split.test)) == (1468, 288, 288)


def _assert_apart(split: Split, labels: np.ndarray, guard: int) -> None:
    """Parts disjoint, blocks contiguous and of one class, no training row near a held-out one."""
    parts = [set(split.train.tolist()), set(split.val.tolist()), set(split.test.tolist())]
    assert sum(map(len, parts)) == len(set().union(*parts))
    held = np.zeros(len(labels), bool)
    for name_blocks, rows in ((split.val_blocks, split.val), (split.test_blocks, split.test)):
        assert sum(last - first + 1 for _, first, last in name_blocks) == len(rows)
    for _, first, last in split.val_blocks + split.test_blocks + split.reserve_blocks:
        held[first : last + 1] = True
        assert len(set(labels[first : last + 1].tolist())) == 1
    for label in np.unique(labels):  # another class's rows may touch a block: not a near-copy
        mine = labels == label
        near = np.convolve(held & mine, np.ones(4 * guard + 1), mode="same") > 0  # 2 guards
        assert not (near & mine)[split.train].any(), "training rows next to a held-out block"


CLASS_SIZES = [1046, 1201, 1723, 900]  # tails of 6, 1, 43 and 20 rows


def _folds(**kwargs):
    labels = np.repeat(np.arange(len(CLASS_SIZES)), CLASS_SIZES)
    classes = ("aleff", "bb", "meem", "waw")
    return labels, classes, kfold_splits(labels, classes, **kwargs)


def test_kfold_test_blocks_and_reserve_partition_every_block_once():
    labels, classes, folds = _folds(k=5, guard=4, reserve_per_class=2, seed=0)
    owner = np.full(len(labels), -1)
    guard = 4
    for fold, split in enumerate(folds):
        for _, first, last in split.test_blocks:
            assert (owner[first - guard : last + guard + 1] == -1).all(), "block in two folds"
            owner[first - guard : last + guard + 1] = fold
    reserve = folds[0].reserve_blocks
    for _, first, last in reserve:
        owner[first - guard : last + guard + 1] = 5
    assert (owner >= 0).all(), "a row in no fold's test block and not in the reserve"
    assert [b[0] for b in reserve] == [c for c in classes for _ in range(2)]
    sizes = [len(s.test_blocks) for s in folds]
    assert max(sizes) - min(sizes) <= 1  # the deal continues across classes
    # the tails of 6, 1 and 20 rows joined their block; 43 rows stay a block
    assert sum(sizes) + len(reserve) == 13 + 15 + 22 + 11


def test_kfold_every_fold_tests_every_class_and_keeps_reserve_and_guards_out():
    labels, classes, folds = _folds(k=5, guard=4, reserve_per_class=2, seed=3)
    reserve_rows = {r for _, a, b in folds[0].reserve_blocks for r in range(a, b + 1)}
    for split in folds:
        assert split.reserve_blocks == folds[0].reserve_blocks
        assert {b[0] for b in split.test_blocks} == set(classes)
        assert {b[0] for b in split.val_blocks} == set(classes)
        _assert_apart(split, labels, guard=4)
        used = set(split.train.tolist()) | set(split.val.tolist()) | set(split.test.tolist())
        assert not used & reserve_rows
        assert split.train_blocks and sum(b - a + 1 for _, a, b in split.train_blocks) == len(
            split.train
        )
    assert kfold_splits(labels, classes, seed=3)[2].test_blocks == folds[2].test_blocks
    assert kfold_splits(labels, classes, seed=4)[2].test_blocks != folds[2].test_blocks


def test_kfold_final_split_tests_the_reserve_and_trains_on_every_other_block():
    labels, classes, folds = _folds(k=5, guard=4, reserve_per_class=2, seed=0)
    *same, final = kfold_splits(labels, classes, k=5, guard=4, seed=0, final=True)
    assert [s.test_blocks for s in same] == [s.test_blocks for s in folds]
    assert [s.val_blocks for s in same] == [s.val_blocks for s in folds]
    assert final.test_blocks == folds[0].reserve_blocks
    assert {b[0] for b in final.val_blocks} == set(classes)
    _assert_apart(final, labels, guard=4)
    dropped = np.zeros(len(labels), dtype=bool)
    for name, first, last in final.val_blocks + final.test_blocks:
        mine = labels == classes.index(name)  # a block's own guards, then its neighbours'
        dropped[max(first - 8, 0) : last + 9] |= mine[max(first - 8, 0) : last + 9]
    assert np.array_equal(np.flatnonzero(~dropped), final.train)  # the rest all trains


def test_kfold_refuses_a_class_with_too_few_blocks():
    labels = np.repeat(np.arange(2), [800, 400])
    with pytest.raises(UserError, match="class bb: 5 blocks, too few for 5 folds"):
        kfold_splits(labels, ("aleff", "bb"), k=5, reserve_per_class=2)


def test_split_from_file_gives_exactly_the_listed_blocks(tmp_path):
    import json

    from edge_arasl.dataset import split_to_json

    data = load_dataset(_npz(tmp_path / "d.npz", per_class=720))
    split = kfold_splits(data.labels, data.classes, k=3, reserve_per_class=1)[1]
    path = tmp_path / "fold1.json"
    entry = split_to_json(split, data)
    path.write_text(json.dumps(entry))
    again = split_from_file(data, path)
    for part in ("train", "val", "test"):
        assert np.array_equal(getattr(again, part), getattr(split, part)), part
    assert again.test_blocks == split.test_blocks and again.val_blocks == split.val_blocks

    path.write_text(json.dumps({**entry, "val_blocks": entry["val_blocks"] + entry["test_blocks"]}))
    with pytest.raises(UserError, match="listed twice"):
        split_from_file(data, path)
    del entry["train_blocks"]
    path.write_text(json.dumps(entry))
    with pytest.raises(UserError, match="not a split file with train blocks"):
        split_from_file(data, path)


FOLDS_DIR = Path(__file__).parent.parent / "models" / "folds"


def test_committed_fold_files_partition_the_blocks_and_keep_the_reserve_out():
    """The fold lists in models/folds, checked without the data set they were cut from."""
    import json

    folds = [json.loads((FOLDS_DIR / f"fold{k}.json").read_text()) for k in range(5)]
    reserve = json.loads((FOLDS_DIR / "reserve.json").read_text())["test_blocks"]
    rows = folds[0]["rows"]
    tested = np.zeros(rows, int)
    for fold in folds:
        assert fold["rows"] == rows and fold["reserve_blocks"] == reserve
        part = np.full(rows, -1)
        for code, key in enumerate(("train_blocks", "val_blocks", "test_blocks", "reserve_blocks")):
            for _, first, last in fold[key]:
                assert (part[first : last + 1] == -1).all(), f"{key} overlaps another part"
                part[first : last + 1] = code
        held = part >= 1
        near = np.convolve(held, np.ones(9), mode="same") > 0
        assert not (near & (part == 0)).any(), "training rows within 4 rows of a held-out one"
        assert {b[0] for b in fold["test_blocks"]} == {b[0] for b in fold["train_blocks"]}
        for _, first, last in fold["test_blocks"]:
            tested[first : last + 1] += 1
    assert tested.max() == 1, "a row in two folds' test blocks"
    assert len(reserve) == 64 and len({b[0] for b in reserve}) == 32


def test_folder_layout_is_read_in_natural_order(tmp_path):
    for name in ("bb", "aleff"):
        (tmp_path / name).mkdir()
        for i in (10, 2, 1):
            image = np.full((128, 96, 3), i * 10, np.uint8)
            cv2.imwrite(str(tmp_path / name / f"{name.upper()} ({i}).JPG"), image)
    data = load_dataset(tmp_path)
    assert data.classes == ("aleff", "bb")
    assert data.images.shape == (6, 64, 64)
    assert [int(v) for v in data.images[:3, 0, 0]] == [10, 20, 100]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing.npz", "no such file"),
        (lambda p: (p / "bad.npz").write_bytes(b"not a zip") and p / "bad.npz", "not a readable"),
        (lambda p: p, "no class sub-folders"),
    ],
)
def test_bad_data_gives_one_line_error(tmp_path, make, message):
    with pytest.raises(UserError, match=message):
        load_dataset(make(tmp_path))


def test_npz_missing_arrays(tmp_path):
    np.savez(tmp_path / "x.npz", images=np.zeros((1, 64, 64), np.uint8))
    with pytest.raises(UserError, match="missing array"):
        load_dataset(tmp_path / "x.npz")


def test_held_out_selects_the_listed_test_blocks(tmp_path):
    import json

    from edge_arasl.dataset import held_out, held_out_blocks

    data = load_dataset(_npz(tmp_path / "d.npz"))
    split = block_split(data.labels, data.classes, seed=2)
    split_file = tmp_path / "split.json"
    blocks = [list(b) for b in split.test_blocks]
    split_file.write_text(json.dumps({"rows": len(data), "test_blocks": blocks}))
    part = held_out(data, held_out_blocks(data, split_file))
    assert len(part) == len(split.test)
    assert np.array_equal(part.images, data.images[np.sort(split.test)])

    split_file.write_text(json.dumps({"rows": len(data) + 1, "test_blocks": blocks}))
    with pytest.raises(UserError, match="made for a data file of"):
        held_out_blocks(data, split_file)
