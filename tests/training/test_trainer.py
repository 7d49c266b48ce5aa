"""A tiny real training run: data -> block split -> train -> int8 -> evaluate -> files."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="needs the train extra (make test installs it)")
from ai_edge_litert.interpreter import Interpreter

from edge_arasl.labels import MODEL_CLASSES


def _tiny_npz(path):
    """Three classes whose images differ clearly, so one short epoch learns something."""
    rng = np.random.default_rng(0)
    classes = ["aleff", "bb", "meem"]
    images, labels = [], []
    for k in range(len(classes)):
        for _ in range(320):
            image = np.full((64, 64), 210, np.float32)
            image[:, 8 + 18 * k : 22 + 18 * k] = 60
            images.append(np.clip(image + rng.normal(0, 8, image.shape), 0, 255))
            labels.append(k)
    np.savez_compressed(
        path,
        images=np.array(images, np.uint8),
        labels=np.array(labels, np.int16),
        classes=np.array(classes),
    )


def test_train_smoke_run_writes_a_working_int8_model(tmp_path):
    _tiny_npz(tmp_path / "tiny.npz")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "tiny.npz")]
    cmd += ["--out", str(out), "--epochs", "2", "--swa-epochs", "2", "--samples-per-class", "2"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "epoch 2/4:" in result.stderr
    assert "epoch 4/4 (averaged, augmentation at 0.25 strength)" in result.stderr
    assert "average of the last 2 epochs" in result.stderr

    meta = json.loads((out / "arasl_int8.json").read_text())
    assert meta["classes"] == list(MODEL_CLASSES)
    assert meta["training"]["init"] is None  # trained from scratch
    interpreter = Interpreter(model_path=str(out / "arasl_int8.tflite"))
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]
    assert inp["dtype"] == np.int8 and tuple(inp["shape"]) == (1, 64, 64, 1)
    assert interpreter.get_output_details()[0]["shape"][-1] == len(MODEL_CLASSES)

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["int8"]["n"] == metrics["test_rows"] > 0
    assert 0 <= metrics["int8"]["accuracy"] <= 1
    split = json.loads((out / "split.json").read_text())
    held_out = {r for _, a, b in split["test_blocks"] for r in range(a, b + 1)}
    saved = {int(p.stem) for p in (out / "samples").glob("*/*.png")}
    assert saved and saved <= held_out  # samples come only from the held-out test blocks
    assert (out / "confusion.png").stat().st_size > 1000


def test_train_without_data_is_a_one_line_error(tmp_path):
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "nope.npz")]
    result = subprocess.run([*cmd, "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "nope.npz: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_two_stage_recipe_trains_on_the_validation_blocks_and_records_both_stages(tmp_path):
    """``make model``'s recipe: a first run, then averaged epochs on train + validation."""
    _tiny_npz(tmp_path / "tiny.npz")
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "tiny.npz")]
    stage1 = [*cmd, "--out", str(tmp_path / "stage1"), "--epochs", "1", "--seed", "3"]
    stage1 += ["--init-seed", "7"]  # other initial weights, the same split as --seed 3
    result = subprocess.run(stage1, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "stage2"
    cmd += ["--out", str(out), "--init", str(tmp_path / "stage1" / "arasl_float.keras")]
    cmd += ["--epochs", "0", "--swa-epochs", "2", "--swa-strength", "0.5", "--train-on-val"]
    cmd += ["--margin", "3"]
    other_split = subprocess.run([*cmd, "--seed", "0"], capture_output=True, text=True)
    assert other_split.returncode == 2 and "Traceback" not in other_split.stderr
    assert "trained with --seed 3" in other_split.stderr and not out.exists()
    result = subprocess.run([*cmd, "--seed", "3"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "train (validation blocks included)" in result.stderr
    assert "epoch 2/2 (averaged, augmentation at 0.5 strength): " in result.stderr
    assert "average of the last 2 epochs: val acc -" in result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["val_accuracy"] is None
    meta = json.loads((out / "arasl_int8.json").read_text())
    assert meta["input"]["margin"] == 3  # the runtime will frame its input so
    assert json.loads((tmp_path / "stage1" / "arasl_int8.json").read_text())["input"]["margin"] == 0
    training = meta["training"]
    assert training["train_on_val"] is True and training["swa_epochs"] == 2
    assert training["swa_strength"] == 0.5 and training["init"]["swa_strength"] == 0.25
    assert training["init"]["epochs"] == 1 and training["init"]["seed"] == 3
    assert training["init"]["init_seed"] == 7 and training["init_seed"] is None
    assert training["init"]["init"] is None


def _tiny_runs(tmp_path, flag, values):
    """One quick training run per value of ``flag``, each in its own folder."""
    _tiny_npz(tmp_path / "tiny.npz")
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "tiny.npz")]
    cmd += ["--epochs", "1", "--limit", "64", "--samples-per-class", "1"]
    runs = {value: tmp_path / f"{flag.strip('-')}{value}" for value in values}
    for value, out in runs.items():
        result = subprocess.run(
            [*cmd, "--out", str(out), flag, value], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
    return runs


def test_init_seed_changes_the_initial_weights_not_the_split(tmp_path):
    import keras

    runs = _tiny_runs(tmp_path, "--init-seed", ("1", "2"))
    one, two = (keras.models.load_model(out / "arasl_float.keras") for out in runs.values())
    assert not np.allclose(
        one.get_layer("stem").get_weights()[0], two.get_layer("stem").get_weights()[0]
    )
    assert (runs["1"] / "split.json").read_text() == (runs["2"] / "split.json").read_text()


def test_margin_leaves_training_alone_and_reaches_the_runtime(tmp_path):
    """The same weights with and without --margin; only the metadata (and runtime) differ."""
    import keras

    runs = _tiny_runs(tmp_path, "--margin", ("0", "4"))
    plain, framed = (keras.models.load_model(out / "arasl_float.keras") for out in runs.values())
    for a, b in zip(plain.get_weights(), framed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    margins = [
        json.loads((out / "arasl_int8.json").read_text())["input"]["margin"]
        for out in runs.values()
    ]
    assert margins == [0, 4]


@pytest.mark.parametrize("margin", ["-1", "16"])
def test_margin_out_of_range_is_a_one_line_error(tmp_path, margin):
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "x.npz")]
    result = subprocess.run(
        [*cmd, "--out", str(tmp_path / "out"), "--margin", margin], capture_output=True, text=True
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"--margin must be an integer from 0 to 15 pixels, not {margin}" in result.stderr


def test_train_on_val_without_averaging_is_a_one_line_error(tmp_path):
    _tiny_npz(tmp_path / "tiny.npz")
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "tiny.npz")]
    cmd += ["--out", str(tmp_path / "out"), "--train-on-val", "--swa-epochs", "0"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert "--train-on-val needs --swa-epochs" in result.stderr
    assert "Traceback" not in result.stderr


def test_only_the_averaged_epochs_get_the_lighter_augmentation():
    from edge_arasl.training.options import TrainOptions
    from edge_arasl.training.trainer import augmentation_strength

    opts = TrainOptions(data=Path("d"), out=Path("o"), epochs=3, swa_epochs=2, swa_strength=0.4)
    assert [augmentation_strength(e, opts) for e in range(5)] == [1, 1, 1, 0.4, 0.4]
    stage2 = TrainOptions(data=Path("d"), out=Path("o"), epochs=0, swa_epochs=2, swa_strength=0)
    assert [augmentation_strength(e, stage2) for e in range(2)] == [0, 0]


@pytest.mark.parametrize("strength", ["-0.1", "1.5"])
def test_swa_strength_outside_0_to_1_is_a_one_line_error(tmp_path, strength):
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "d.npz")]
    cmd += ["--out", str(tmp_path / "out"), "--swa-epochs", "2", "--swa-strength", strength]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert f"--swa-strength {float(strength):g}: must be between 0 and 1" in result.stderr
    assert "Traceback" not in result.stderr


REPO = Path(__file__).resolve().parents[2]


def _fold_files(tmp_path):
    """Three cross-validation folds of the tiny data set, as ``models/folds`` holds them."""
    from edge_arasl.dataset import kfold_splits, load_dataset, model_labels, split_to_json
    from edge_arasl.training.files import dump_json

    _tiny_npz(tmp_path / "tiny.npz")
    data = load_dataset(tmp_path / "tiny.npz")
    folds = kfold_splits(model_labels(data, MODEL_CLASSES), MODEL_CLASSES, k=3, reserve_per_class=1)
    for k, split in enumerate(folds):
        dump_json(tmp_path / f"fold{k}.json", split_to_json(split, data))
    return folds


def test_train_on_a_fold_file_uses_exactly_its_blocks_and_records_the_fold(tmp_path):
    """``make fold``: both stages on the file's blocks; evaluate reproduces the fold's figure."""
    split = _fold_files(tmp_path)[1]
    listed = json.loads((tmp_path / "fold1.json").read_text())
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "tiny.npz")]
    stage1 = tmp_path / "stage1"
    args = ["--out", str(stage1), "--split", str(tmp_path / "fold1.json"), "--epochs", "1"]
    result = subprocess.run([*cmd, *args, "--seed", "5"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (
        f"data: 960 images, {len(split.train)} train ({len(split.val)} val) / "
        f"{len(split.test)} test rows in contiguous blocks of {tmp_path / 'fold1.json'}"
    ) in result.stderr
    written = json.loads((stage1 / "split.json").read_text())
    for key in ("test_blocks", "val_blocks", "train_blocks", "train_rows", "test_rows"):
        assert written[key] == listed[key], key
    fold = json.loads((stage1 / "fold_metrics.json").read_text())
    assert fold["split"]["file"] == "fold1.json" and fold["test_rows"] == len(split.test)
    assert [[b["class"], b["first"], b["last"]] for b in fold["blocks"]] == listed["test_blocks"]
    assert len(fold["predictions"]["int8"]) == len(fold["predictions"]["true"]) == len(split.test)
    assert (
        fold["int8"]["accuracy"]
        == json.loads((stage1 / "metrics.json").read_text())["int8"]["accuracy"]
    )
    evaluate = [
        sys.executable,
        "-m",
        "edge_arasl",
        "evaluate",
        "--data",
        str(tmp_path / "tiny.npz"),
    ]
    evaluate += ["--split", str(tmp_path / "fold1.json"), "--json"]
    evaluate += ["--model", str(stage1 / "arasl_int8.tflite")]
    result = subprocess.run(evaluate, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["accuracy"] == fold["int8"]["accuracy"]
    # ... and the figure read with the daemon's test-time views, recorded beside it
    result = subprocess.run([*evaluate, "--views", "scales"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["accuracy"] == fold["int8_views"]["scales"]["accuracy"]
    assert len(fold["predictions"]["int8_scales"]) == len(split.test)

    stage2 = ["--init", str(stage1 / "arasl_float.keras"), "--epochs", "0", "--swa-epochs", "1"]
    stage2 += ["--train-on-val", "--out", str(tmp_path / "stage2")]
    for other in (["--split", str(tmp_path / "fold0.json")], ["--seed", "5"]):
        result = subprocess.run([*cmd, *stage2, *other], capture_output=True, text=True)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "trained on the split of fold1.json" in result.stderr
    result = subprocess.run(
        [*cmd, *stage2, "--split", str(tmp_path / "fold1.json")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    training = json.loads((tmp_path / "stage2" / "arasl_int8.json").read_text())["training"]
    assert training["split"]["file"] == "fold1.json"
    assert training["init"]["split"] == training["split"] and training["init"]["seed"] == 5
    recipe = json.loads((tmp_path / "stage2" / "fold_metrics.json").read_text())["training"]
    assert recipe["stage1"]["epochs"] == 1 and recipe["swa_epochs"] == 1
    assert fold["training"]["stage1"] is None and fold["training"]["epochs"] == 1

    (tmp_path / "fold1_metrics.json").write_text((stage1 / "fold_metrics.json").read_text())
    report = [sys.executable, str(REPO / "benchmarks" / "cv_report.py"), "--folds", str(tmp_path)]
    result = subprocess.run([*report, "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    pooled = json.loads(result.stdout)
    assert pooled["folds"] == 1 and pooled["int8"]["mean"] == fold["int8"]["accuracy"]
    scales = pooled["int8_views"]["scales"]
    assert scales["mean"] == fold["int8_views"]["scales"]["accuracy"] and scales["folds"] == [1]
    assert pooled["out_of_fold_int8"]["n"] == len(split.test)
    result = subprocess.run(report, capture_output=True, text=True)
    assert result.returncode == 0 and "folds [1] of 5" in result.stdout
    assert "   1       1+0 " in result.stdout  # fold 1, one stage of 1 cosine epoch
    assert "int8, scales" in result.stdout and "folds [1]" in result.stdout


def test_make_cv_runs_only_the_folds_without_metrics(tmp_path):
    """Resumable: a fold whose metrics file exists is skipped (``make -n``: nothing is run)."""
    for name in ("fold0.json", "fold1.json", "fold0_metrics.json"):
        (tmp_path / name).write_text("{}")
    cmd = ["make", "-n", "--no-print-directory", "-C", str(REPO), "cv", "DATA=d.npz"]
    cmd += [f"FOLDS_DIR={tmp_path}", "FOLDS=0 1", f"FOLDS_RUN={tmp_path / 'runs'}"]
    recipe = subprocess.run(cmd, capture_output=True, text=True)  # the recipe's own folder
    assert recipe.returncode == 0 and "fold 0: " not in recipe.stdout, recipe.stderr
    assert f"{tmp_path}/run3/fold0_metrics.json" in recipe.stdout
    assert "--none-clutter 0.25" in recipe.stdout
    cmd += [f"CV_OUT={tmp_path}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"fold 0: {tmp_path}/fold0_metrics.json exists, skipped" in result.stdout
    assert f"--split {tmp_path}/fold1.json" in result.stdout
    assert f"--split {tmp_path}/fold0.json" not in result.stdout
    assert f"cp {tmp_path}/runs/fold1/fold_metrics.json {tmp_path}/fold1_metrics.json" in (
        result.stdout
    )
    for kept in ("arasl_int8.$ext", "stage1/arasl_int8.$ext"):  # each model with its .json
        assert f"cp {tmp_path}/runs/fold1/{kept} {tmp_path}/fold1_" in result.stdout
    assert "for ext in tflite json" in result.stdout
    screening = [*cmd, f"CV_OUT={tmp_path / 'screen'}", "EPOCHS=2", "SWA_EPOCHS=1"]
    result = subprocess.run(screening, capture_output=True, text=True)
    assert result.returncode == 0 and "fold 0: " not in result.stdout  # its own metrics folder
    assert f"--split {tmp_path}/fold0.json --seed 0 --epochs 2" in result.stdout
    assert "--swa-epochs 1" in result.stdout


def test_a_killed_run_resumes_from_its_last_epoch(tmp_path, monkeypatch, capsys):
    """Checkpoints: stopped in epoch 2 of 3, the same command goes on with epoch 2 only."""
    from edge_arasl.errors import UserError
    from edge_arasl.training import trainer
    from edge_arasl.training.options import TrainOptions

    _tiny_npz(tmp_path / "tiny.npz")
    opts = TrainOptions(
        data=tmp_path / "tiny.npz", out=tmp_path / "out", epochs=2, swa_epochs=1, limit=96
    )
    strength = trainer.augmentation_strength

    def stop_in_epoch_2(epoch: int, opts: TrainOptions) -> float:
        if epoch == 1:
            raise KeyboardInterrupt  # as a kill would, but leaving the process alive
        return strength(epoch, opts)

    monkeypatch.setattr(trainer, "augmentation_strength", stop_in_epoch_2)
    trainer.train(opts)
    state = json.loads((opts.out / "checkpoint" / "state.json").read_text())
    assert state["epochs_done"] == 1 and "interrupted" in capsys.readouterr().err

    with pytest.raises(UserError, match=r"other options \(epochs\)"):
        trainer.train(TrainOptions(data=opts.data, out=opts.out, epochs=3, swa_epochs=1, limit=96))
    monkeypatch.setattr(trainer, "augmentation_strength", strength)
    trainer.train(opts)
    err = capsys.readouterr().err
    assert f"resuming from {opts.out / 'checkpoint'} after epoch 1" in err
    assert "epoch 1/3" not in err and "epoch 2/3" in err and "epoch 3/3 (averaged" in err
    assert "average of the last 1 epochs" in err
    assert not (opts.out / "checkpoint").exists()  # finished: nothing left to resume


def test_none_clutter_outside_0_to_1_is_a_one_line_error(tmp_path):
    cmd = [sys.executable, "-m", "edge_arasl", "train", "--data", str(tmp_path / "d.npz")]
    cmd += ["--out", str(tmp_path / "out"), "--none-clutter", "1.5"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert "--none-clutter 1.5: must be between 0 and 1" in result.stderr
    assert "Traceback" not in result.stderr
