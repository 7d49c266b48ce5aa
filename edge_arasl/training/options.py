"""What one ``edge-arasl train`` run is asked to do; the CLI takes its defaults from here.

Kept apart from the trainer so the CLI can read the defaults without importing the training
stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrainOptions:
    data: Path
    out: Path
    epochs: int = 24  # of cosine learning-rate decay
    batch_size: int = 128
    learning_rate: float = 3e-3
    seed: int = 0  # the split (without split), the augmentation and maybe the initial weights
    split: Path | None = None  # train on this split.json's blocks; the seed then picks no split
    init_seed: int | None = None  # initial weights and dropout only; the split stays --seed's
    limit: int | None = None  # train on the first N training rows only (smoke runs)
    init: Path | None = None  # start from this .keras model (fine-tuning) instead of scratch
    swa_epochs: int = 0  # then epochs at learning_rate / 10 whose weights are averaged
    swa_strength: float = 0.25  # augmentation strength (0..1) of the averaged epochs
    train_on_val: bool = False  # validation blocks join training (needs swa_epochs)
    margin: int = 0  # the runtime's input margin (preprocess.add_margin); training ignores it
    samples_per_class: int = 5  # held-out test images saved beside the model
    none_clutter: float = 0.0  # share (0..1) of the none images cut from cluttered rooms
