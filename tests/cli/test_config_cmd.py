"""``edge-arasl config check FILE``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from edge_arasl.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_config_checks_ok(capsys):
    assert main(["config", "check", str(REPO / "config.toml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{REPO / 'config.toml'}: OK")


def test_a_bad_config_prints_one_line_and_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[source]\nkind = "video"\npath = "in.mp4"\nfps = -1\n')
    result = subprocess.run(
        [sys.executable, "-m", "edge_arasl", "config", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == f"edge-arasl: error: {bad}: [source].fps: must be in (0, 1000] fps, got -1\n"
    )
