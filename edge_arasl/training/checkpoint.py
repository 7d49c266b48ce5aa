"""Epoch checkpoints: a training run killed part-way (a session's end) resumes where it stopped.

On this machine a cross-validation fold takes an hour or more, longer than some sessions have
left; without checkpoints its finished epochs would be lost. After every epoch the trainer
writes ``OUT/checkpoint/``: the model with its optimizer (the learning-rate schedule's position
and the Adam moments), the weights best on validation so far, the running weight average and
the number of epochs done. The same command run again continues with the next epoch. Each
epoch's augmentation is seeded by its number, so it sees the images it would have seen; only
dropout draws differ, so a resumed run is close to, not bit-identical with, an unbroken one.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from edge_arasl.errors import UserError
from edge_arasl.training.averaging import WeightAverage
from edge_arasl.training.crossval import split_file_id
from edge_arasl.training.options import TrainOptions

#: Options that change nothing in the epochs (only what is written after them).
NOT_IN_FINGERPRINT = {"out", "samples_per_class", "margin"}


@dataclass
class Resumed:
    model: Any
    epochs_done: int
    best_accuracy: float
    best_weights: list[np.ndarray]
    average: WeightAverage


def _fingerprint(opts: TrainOptions) -> dict[str, str]:
    """The options that shape the epochs, and the split file's content when there is one."""
    found = {f.name: str(getattr(opts, f.name)) for f in fields(opts)}
    found = {k: v for k, v in found.items() if k not in NOT_IN_FINGERPRINT}
    found["split"] = json.dumps(split_file_id(opts.split))
    return found


class Checkpoint:
    """``OUT/checkpoint``: written after each epoch, read on start, removed once all ran."""

    def __init__(self, opts: TrainOptions) -> None:
        self.folder = opts.out / "checkpoint"
        self.fingerprint = _fingerprint(opts)

    def resume(self) -> Resumed | None:
        """The state after the last finished epoch, or None to start from the beginning."""
        folder = next((f for f in self._folders() if (f / "state.json").is_file()), None)
        if folder is None:
            return None
        state_file = folder / "state.json"
        state = json.loads(state_file.read_text(encoding="utf-8"))
        if state["options"] != self.fingerprint:
            changed = sorted(k for k, v in self.fingerprint.items() if state["options"].get(k) != v)
            raise UserError(
                f"{self.folder}: a checkpoint of a run with other options ({', '.join(changed)}); "
                "use another --out or delete it"
            )
        import keras

        model = keras.models.load_model(folder / "model.keras")  # with its optimizer
        arrays = np.load(folder / "weights.npz")
        n = state["n_weights"]
        average = WeightAverage()
        if state["averaged"]:  # the average's sum back from its mean
            average.add(
                [arrays[f"mean{i}"].astype(np.float64) * state["averaged"] for i in range(n)]
            )
            average.count = state["averaged"]
        return Resumed(
            model=model,
            epochs_done=state["epochs_done"],
            best_accuracy=state["best_accuracy"],
            best_weights=[arrays[f"best{i}"] for i in range(n)],
            average=average,
        )

    def save(
        self,
        model: Any,
        epochs_done: int,
        best_accuracy: float,
        best_weights: list[np.ndarray],
        average: WeightAverage,
    ) -> None:
        """Write the state after ``epochs_done`` epochs beside the previous one, then swap.

        A kill at any moment leaves one whole checkpoint (``checkpoint`` or, mid-swap,
        ``checkpoint.old``), never a model of one epoch with the state of another.
        """
        new, current, old = self._folders(new=True)
        shutil.rmtree(new, ignore_errors=True)
        new.mkdir(parents=True)
        model.save(new / "model.keras")
        arrays: dict[str, Any] = {f"best{i}": w for i, w in enumerate(best_weights)}
        if average.count:
            arrays.update({f"mean{i}": w for i, w in enumerate(average.mean())})
        np.savez(new / "weights.npz", **arrays)
        state = {
            "options": self.fingerprint,
            "epochs_done": epochs_done,
            "best_accuracy": best_accuracy,
            "n_weights": len(best_weights),
            "averaged": average.count,
        }
        (new / "state.json").write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
        shutil.rmtree(old, ignore_errors=True)
        if current.exists():
            current.rename(old)
        new.rename(current)
        shutil.rmtree(old, ignore_errors=True)

    def _folders(self, new: bool = False) -> list[Path]:
        """Where to look for a checkpoint, in order (with ``new``: the one being written first)."""
        found = [self.folder, self.folder.with_name("checkpoint.old")]
        return [self.folder.with_name("checkpoint.new"), *found] if new else found

    def remove(self) -> None:
        for folder in self._folders(new=True):
            shutil.rmtree(folder, ignore_errors=True)
