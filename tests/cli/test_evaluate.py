"""``edge-arasl evaluate`` on data sets made in the test from the committed samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_arasl.classifier import Classifier
from edge_arasl.cli import main
from edge_arasl.cli.evaluate import predict

#: A subset of the classes, deliberately not in the model's order.
SUBSET = ("toot", "al", "ain", "la")

WITHOUT_TENSORFLOW = (
    "import sys; sys.modules['tensorflow'] = sys.modules['keras'] = None; "
    "from edge_arasl.cli import main; code = main(sys.argv[1:]); "
    "assert sys.modules['tensorflow'] is None; sys.exit(code)"
)


@pytest.fixture
def subset(sample_files: list[tuple[str, Path]]) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels (indices into SUBSET) of the samples of the SUBSET classes."""
    rows = [(SUBSET.index(c), p) for c, p in sample_files if c in SUBSET]
    images = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for _, p in rows])
    return images, np.array([label for label, _ in rows])


@pytest.fixture
def subset_npz(tmp_path: Path, subset: tuple[np.ndarray, np.ndarray]) -> Path:
    images, labels = subset
    path = tmp_path / "subset.npz"
    np.savez(path, images=images, labels=labels, classes=np.array(SUBSET))
    return path


def expected_recall(classifier: Classifier, subset: tuple[np.ndarray, np.ndarray]) -> dict:
    """Per class, the fraction of its images the classifier itself calls right."""
    images, labels = subset
    predicted = [classifier.classify(image).class_id for image in images]
    return {
        name: float(
            np.mean([p == name for p, lab in zip(predicted, labels, strict=True) if lab == i])
        )
        for i, name in enumerate(SUBSET)
    }


def test_json_report_on_a_subset_of_classes(
    capfd: pytest.CaptureFixture[str],
    classifier: Classifier,
    subset: tuple[np.ndarray, np.ndarray],
    subset_npz: Path,
) -> None:
    assert main(["evaluate", "--data", str(subset_npz), "--json"]) == 0
    out, err = capfd.readouterr()
    assert err == ""  # not a TTY: no progress line
    report = json.loads(out)
    images, labels = subset
    assert report["n"] == len(images)
    # Matched by name: a label-index mix-up would score each class against the wrong one.
    recall = expected_recall(classifier, subset)
    for name in SUBSET:
        metrics = report["per_class"][name]
        assert set(metrics) >= {"precision", "recall", "f1", "n"}
        assert metrics["n"] == int((labels == SUBSET.index(name)).sum())
        assert metrics["recall"] == pytest.approx(recall[name], abs=1e-4)
    hits = sum(recall[name] * report["per_class"][name]["n"] for name in SUBSET)
    assert report["accuracy"] == pytest.approx(hits / len(images), abs=1e-4)
    assert 0 <= report["accuracy"] <= 1
    # Classes outside the subset appear only when something was wrongly predicted as them.
    for name, metrics in report["per_class"].items():
        if name not in SUBSET:
            assert metrics["n"] == 0 and metrics["precision"] == 0


def test_class_folder_tree_of_big_colour_images(
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    subset: tuple[np.ndarray, np.ndarray],
    subset_npz: Path,
) -> None:
    images, labels = subset
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = tmp_path / "tree" / SUBSET[label]
        folder.mkdir(parents=True, exist_ok=True)
        big = cv2.resize(image, (192, 192), interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(folder / f"{i}.png"), cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    assert main(["evaluate", "--data", str(tmp_path / "tree"), "--json"]) == 0
    from_tree = json.loads(capfd.readouterr().out)
    assert main(["evaluate", "--data", str(subset_npz), "--json"]) == 0
    from_npz = json.loads(capfd.readouterr().out)
    assert from_tree["n"] == len(images)
    assert from_tree["per_class"] == from_npz["per_class"]  # same pixels after area resizing


def test_readable_table(capfd: pytest.CaptureFixture[str], subset_npz: Path) -> None:
    assert main(["evaluate", "--data", str(subset_npz)]) == 0
    lines = capfd.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines}
    assert rows["toot"][1] == "\u0629"  # class, Arabic text, n, precision, recall, f1
    assert rows["la"][1] == "\u0644\u0627"
    assert int(rows["la"][2]) > 0
    assert lines[-1].startswith("accuracy ")


def test_progress_is_shown_when_asked(
    capsys: pytest.CaptureFixture[str],
    classifier: Classifier,
    subset: tuple[np.ndarray, np.ndarray],
) -> None:
    predictions = predict(classifier, subset[0], show_progress=True)
    assert len(predictions) == len(subset[0])
    assert f"evaluating {len(subset[0])}/{len(subset[0])}" in capsys.readouterr().err


def test_class_unknown_to_the_model_is_one_line_error(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, subset: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = subset
    path = tmp_path / "odd.npz"
    np.savez(path, images=images, labels=labels, classes=np.array(["toot", "al", "ain", "blank"]))
    assert main(["evaluate", "--data", str(path)]) == 2
    out, err = capfd.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and "'blank'" in err and "odd.npz" in err


@pytest.mark.parametrize("case", ["missing", "not-npz", "empty-folder"])
def test_unusable_data_is_one_line_error(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    path = tmp_path / "data.npz"
    if case == "not-npz":
        path.write_bytes(b"not a zip file")
    elif case == "empty-folder":
        path = tmp_path / "folder"
        path.mkdir()
    assert main(["evaluate", "--data", str(path)]) == 2
    err = capfd.readouterr().err
    assert len(err.splitlines()) == 1 and str(path) in err and "Traceback" not in err


def test_works_without_tensorflow(subset_npz: Path, subset: tuple[np.ndarray, np.ndarray]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_TENSORFLOW, "evaluate", "--data", str(subset_npz), "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["n"] == len(subset[0])


def test_margin_and_validation_blocks_of_a_split(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, sample_files: list[tuple[str, Path]]
) -> None:
    """``--split --blocks val`` picks those rows; ``--margin`` frames them as asked."""
    classes = sorted({c for c, _ in sample_files})
    images = np.stack([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for _, p in sample_files])
    labels = np.array([classes.index(c) for c, _ in sample_files])
    data = tmp_path / "data.npz"
    np.savez(data, images=images, labels=labels, classes=np.array(classes))
    first = {c: labels.tolist().index(classes.index(c)) for c in classes}
    blocks = {
        "test_blocks": [["ain", first["ain"], first["ain"] + 4]],
        "val_blocks": [[c, first[c], first[c] + 4] for c in ("gaaf", "ghain", "ha", "nun")],
    }
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"rows": len(images), **blocks}), encoding="utf-8")
    val_images = np.concatenate([images[a : b + 1] for _, a, b in blocks["val_blocks"]])
    val_labels = np.repeat([classes.index(c) for c in ("gaaf", "ghain", "ha", "nun")], 5)
    for margin in (0, 5):
        framed = Classifier(margin=margin)
        predicted = [framed.classes[framed.probabilities_prepared(i).argmax()] for i in val_images]
        truth = [classes[label] for label in val_labels]
        expected = np.mean([p == t for p, t in zip(predicted, truth, strict=True)])
        cmd = ["evaluate", "--data", str(data), "--split", str(split), "--blocks", "val"]
        assert main([*cmd, "--margin", str(margin), "--json"]) == 0
        report = json.loads(capfd.readouterr().out)
        assert report["n"] == 20 and report["margin"] == margin
        assert report["accuracy"] == pytest.approx(expected)
        assert set(name for name, m in report["per_class"].items() if m["n"]) == {
            "gaaf",
            "ghain",
            "ha",
            "nun",
        }
        assert [(b["class"], b["first"], b["n"]) for b in report["blocks"]] == [
            (c, a, 5) for c, a, _ in blocks["val_blocks"]
        ]
        low, high = report["accuracy_interval"]
        assert low <= report["accuracy"] <= high
        hits = [p == t for p, t in zip(predicted, truth, strict=True)]
        assert [b["accuracy"] for b in report["blocks"]] == pytest.approx(
            [np.mean(hits[i : i + 5]) for i in range(0, 20, 5)], abs=1e-4
        )
    assert main(["evaluate", "--data", str(data), "--split", str(split)]) == 0
    text = capfd.readouterr().out
    assert "worst of 1 blocks" in text and f"ain      {first['ain']}-{first['ain'] + 4}" in text


def test_block_outside_the_data_is_one_line_error(
    capfd: pytest.CaptureFixture[str], subset_npz: Path, subset: tuple[np.ndarray, np.ndarray]
) -> None:
    split = subset_npz.with_name("split.json")
    rows = len(subset[0])
    split.write_text(json.dumps({"rows": rows, "test_blocks": [["ain", 0, rows]]}))
    assert main(["evaluate", "--data", str(subset_npz), "--split", str(split)]) == 2
    err = capfd.readouterr().err
    assert f"split.json: block ain 0-{rows} is outside the data" in err
    assert "Traceback" not in err


def test_margin_out_of_range_is_one_line_error(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--data", "whatever.npz", "--margin", "20"]) == 2
    err = capfd.readouterr().err
    assert "margin must be an integer from 0 to 15 pixels, not 20" in err
    assert "Traceback" not in err


def test_a_cross_validation_fold_file_is_read_like_any_split(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, sample_files: list[tuple[str, Path]]
) -> None:
    """models/folds/foldK.json (extra train and reserve blocks) gives the fold's test rows."""
    from edge_arasl.dataset import kfold_splits, load_dataset, split_to_json

    names = ("ain", "al", "la")
    pictures = {c: cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for c, p in sample_files}
    images = np.stack([pictures[c] for c in names for _ in range(600)])
    path = tmp_path / "data.npz"
    np.savez(path, images=images, labels=np.repeat(np.arange(3), 600), classes=np.array(names))
    data = load_dataset(path)
    fold = kfold_splits(data.labels, data.classes, k=5, reserve_per_class=2)[3]
    split = tmp_path / "fold3.json"
    split.write_text(json.dumps({"fold": 3, **split_to_json(fold, data)}), encoding="utf-8")
    assert main(["evaluate", "--data", str(path), "--split", str(split), "--json"]) == 0
    report = json.loads(capfd.readouterr().out)
    assert report["n"] == len(fold.test)
    assert [(b["class"], b["first"], b["last"]) for b in report["blocks"]] == fold.test_blocks


def test_views_option_scores_the_averaged_views(
    capfd: pytest.CaptureFixture[str],
    subset: tuple[np.ndarray, np.ndarray],
    subset_npz: Path,
) -> None:
    """``--views scales`` scores what ``Classifier(views="scales")`` reads, and says so."""
    images, labels = subset
    views = Classifier(views="scales")
    hits = [
        views.classes[views.probabilities_prepared(image).argmax()] == SUBSET[label]
        for image, label in zip(images, labels, strict=True)
    ]
    assert main(["evaluate", "--data", str(subset_npz), "--views", "scales", "--json"]) == 0
    report = json.loads(capfd.readouterr().out)
    assert report["views"] == "scales"
    assert report["accuracy"] == pytest.approx(np.mean(hits), abs=1e-4)
    assert main(["evaluate", "--data", str(subset_npz), "--json"]) == 0
    assert json.loads(capfd.readouterr().out)["views"] == "one"
