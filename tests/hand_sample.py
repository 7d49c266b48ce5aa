"""The one committed sample that the hand tests paste into scenes (a module, so that tests in
every folder and the hand fixtures share it)."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "models" / "samples"
#: A `bb` sample the palm detector (score >= 0.5) and the landmark model find when pasted at
#: 256 px on a plain wall, wherever the tests put it, and that the CNN reads as `bb` there.
HAND_SAMPLE = SAMPLES / "bb" / "4826.png"
