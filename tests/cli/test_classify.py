"""``edge-arasl classify`` on the committed samples with the shipped model."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from hand_sample import HAND_SAMPLE

from edge_arasl.classifier import Classifier
from edge_arasl.cli import main
from edge_arasl.labels import ARABIC, MODEL_CLASSES

#: Runs the CLI with TensorFlow (and Keras) made unimportable, and checks it stayed so.
WITHOUT_TENSORFLOW = (
    "import sys; sys.modules['tensorflow'] = sys.modules['keras'] = None; "
    "from edge_arasl.cli import main; code = main(sys.argv[1:]); "
    "assert sys.modules['tensorflow'] is None; sys.exit(code)"
)


def run_without_tensorflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TENSORFLOW, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.fixture
def three_samples(sample_files: list[tuple[str, Path]]) -> list[Path]:
    """One sample each of three different classes, including two-letter ``la``."""
    by_class = {c: p for c, p in sample_files}
    return [by_class["la"], by_class["ta"], by_class["toot"]]


def expected_class(classifier: Classifier, path: Path) -> str:
    return classifier.classify(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)).class_id


def test_one_tab_separated_line_per_image(
    capfd: pytest.CaptureFixture[str], classifier: Classifier, three_samples: list[Path]
) -> None:
    assert main(["classify", *map(str, three_samples)]) == 0
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3
    for path, line in zip(three_samples, lines, strict=True):
        file, class_id, text, confidence = line.split("\t")
        assert file == str(path)
        assert class_id == expected_class(classifier, path)
        assert text == ARABIC[class_id]
        assert re.fullmatch(r"[01]\.\d{4}", confidence)
    assert err == ""  # no interpreter banner, no logs


def test_json_lines_have_the_documented_keys(
    capfd: pytest.CaptureFixture[str], classifier: Classifier, three_samples: list[Path]
) -> None:
    assert main(["classify", "--json", *map(str, three_samples)]) == 0
    out, _ = capfd.readouterr()
    assert "\\u" not in out  # Arabic printed as itself (ensure_ascii=False)
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 3
    for path, record in zip(three_samples, records, strict=True):
        assert set(record) == {"file", "class", "text", "confidence"}
        assert record["file"] == str(path)
        assert record["class"] == expected_class(classifier, path)
        assert record["text"] == ARABIC[record["class"]]
        assert 0 < record["confidence"] <= 1


def test_any_size_and_colour(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, three_samples: list[Path]
) -> None:
    gray = cv2.imread(str(three_samples[0]), cv2.IMREAD_GRAYSCALE)
    big = cv2.cvtColor(
        cv2.resize(gray, (320, 320), interpolation=cv2.INTER_NEAREST), cv2.COLOR_GRAY2BGR
    )
    cv2.imwrite(str(tmp_path / "big.jpg"), big, [cv2.IMWRITE_JPEG_QUALITY, 98])
    rgba = cv2.cvtColor(big, cv2.COLOR_BGR2BGRA)
    cv2.imwrite(str(tmp_path / "big.png"), rgba)
    assert (
        main(
            [
                "classify",
                str(three_samples[0]),
                str(tmp_path / "big.png"),
                str(tmp_path / "big.jpg"),
            ]
        )
        == 0
    )
    classes = [line.split("\t")[1] for line in capfd.readouterr().out.splitlines()]
    assert classes[0] == classes[1]  # lossless: the very same pixels after area resizing
    assert len(classes) == 3


@pytest.mark.parametrize("bad", ["garbage.png", "empty.png", "missing.png"])
def test_unreadable_image_is_reported_and_the_others_still_printed(
    capfd: pytest.CaptureFixture[str], tmp_path: Path, three_samples: list[Path], bad: str
) -> None:
    (tmp_path / "garbage.png").write_bytes(b"\x89PNG but not really")
    (tmp_path / "empty.png").write_bytes(b"")
    bad_path = tmp_path / bad
    args = [str(three_samples[0]), str(bad_path), str(three_samples[1])]
    assert main(["classify", *args]) != 0
    out, err = capfd.readouterr()
    assert [line.split("\t")[0] for line in out.splitlines()] == [args[0], args[2]]
    assert len(err.splitlines()) == 1
    assert err.startswith("edge-arasl: error: ") and str(bad_path) in err


def test_threads_and_backend_options(
    capfd: pytest.CaptureFixture[str], three_samples: list[Path]
) -> None:
    files = list(map(str, three_samples))
    assert main(["classify", *files]) == 0
    one_thread = capfd.readouterr().out
    assert main(["classify", "--threads", "2", "--backend", "ai_edge_litert", *files]) == 0
    assert capfd.readouterr().out == one_thread


def spoil_metadata(model: Path) -> None:
    meta = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    meta["classes"] = list(MODEL_CLASSES[:-1])
    model.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "model file not found"),
        ("not-a-model", "not a TFLite model"),
        ("no-metadata", "model metadata not found"),
        ("class-count", "lists 32 classes but the model outputs 33"),
    ],
)
def test_bad_model_is_one_line_error(
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    shipped_model: Path,
    three_samples: list[Path],
    case: str,
    message: str,
) -> None:
    model = tmp_path / "m.tflite"
    if case != "missing":
        shutil.copy(shipped_model, model)
        shutil.copy(shipped_model.with_suffix(".json"), model.with_suffix(".json"))
    if case == "not-a-model":
        model.write_bytes(np.random.default_rng(0).bytes(5000))
    elif case == "no-metadata":
        model.with_suffix(".json").unlink()
    elif case == "class-count":
        spoil_metadata(model)
    assert main(["classify", "--model", str(model), str(three_samples[0])]) == 2
    out, err = capfd.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and message in err and "m." in err


def test_bad_thread_count_is_one_line_error(
    capfd: pytest.CaptureFixture[str], three_samples: list[Path]
) -> None:
    assert main(["classify", "--threads", "0", str(three_samples[0])]) == 2
    assert capfd.readouterr().err.strip() == (
        "edge-arasl: error: num_threads must be a positive integer, not 0"
    )


def test_works_without_tensorflow(tmp_path: Path, three_samples: list[Path]) -> None:
    (tmp_path / "bad.png").write_bytes(b"nope")
    result = run_without_tensorflow(
        "classify", "--json", str(three_samples[0]), str(tmp_path / "bad.png")
    )
    assert result.returncode == 1
    record = json.loads(result.stdout)
    assert record["file"] == str(three_samples[0]) and record["class"] in MODEL_CLASSES
    assert result.stderr.splitlines() == [
        f"edge-arasl: error: {tmp_path / 'bad.png'}: not a readable image"
    ]


def test_hand_auto_finds_the_hand_in_a_photo_of_a_room(tmp_path, capfd):
    """A sample hand pasted into a larger wall photo: found, boxed, and read."""
    hand = cv2.resize(cv2.imread(str(HAND_SAMPLE), cv2.IMREAD_GRAYSCALE), (256, 256))
    photo = np.full((480, 640, 3), 170, np.uint8)
    photo[200:456, 360:616] = cv2.cvtColor(hand, cv2.COLOR_GRAY2BGR)
    empty = np.full((480, 640, 3), 170, np.uint8)
    cv2.imwrite(str(tmp_path / "room.png"), photo)
    cv2.imwrite(str(tmp_path / "empty.png"), empty)
    assert main(["classify", "--hand", "auto", "--json", str(tmp_path / "room.png"),
                 str(tmp_path / "empty.png")]) == 0  # fmt: skip
    found, nothing = (json.loads(line) for line in capfd.readouterr().out.splitlines())
    assert set(found) == {"file", "class", "text", "confidence", "hand", "box"}
    x, y, w, h = found["box"]
    assert 360 <= x + w / 2 <= 616 and 200 <= y + h / 2 <= 456
    assert found["class"] == HAND_SAMPLE.parent.name
    assert nothing["class"] == "none" and nothing["box"] is None and nothing["text"] == ""


def test_hand_fixed_reads_an_empty_image_as_no_sign(tmp_path, capfd):
    shelf = np.full((256, 256, 3), 200, np.uint8)
    cv2.rectangle(shelf, (20, 150), (236, 170), (60, 40, 20), -1)  # a shelf, no hand
    cv2.imwrite(str(tmp_path / "shelf.png"), shelf)
    assert main(["classify", "--hand", "fixed", str(tmp_path / "shelf.png")]) == 0
    assert capfd.readouterr().out.split("\t")[1] == "none"
