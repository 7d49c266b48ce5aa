"""Data loading and the contiguous-block split."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.dataset import block_split, load_dataset
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


def test_small_class_does_not_crash(tmp_path):
    data = load_dataset(_npz(tmp_path / "d.npz", per_class=50))
    split = block_split(data.labels, data.classes)
    assert len(split.train) + len(split.val) + len(split.test) <= len(data)


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
