"""``edge-arasl config check FILE``."""

from __future__ import annotations

from pathlib import Path

import pytest
from commands import edge_arasl

from edge_arasl.cli import main
from edge_arasl.config import load_config

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_config_checks_ok(capsys):
    assert main(["config", "check", str(REPO / "config.toml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{REPO / 'config.toml'}: OK")


def test_a_bad_config_prints_one_line_and_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[source]\nkind = "video"\npath = "in.mp4"\nfps = -1\n')
    result = edge_arasl("config", "check", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == f"edge-arasl: error: {bad}: [source].fps: must be in [0.1, 1000] fps, got -1\n"
    )


def test_show_prints_the_settings_that_apply_as_toml_that_loads_back(tmp_path, capsys):
    path = tmp_path / "edge.toml"
    path.write_text(
        '[decoder.words]\nbeam = 8\n[mqtt]\nenabled = true\npassword = "hunter2"\n'
        "[speech.hermes]\nport = 1884\n",
        encoding="utf-8",
    )
    assert main(["config", "show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "beam = 8  # int, in [1, 1000]" in out
    assert "keepalive = 30  # int, in [1, 65535] s" in out
    assert "scan = 0.55  # float, 0 or in [0.1, 1]" in out
    assert 'kind = "picamera"  # "picamera" | "camera" | "video" | "images"' in out
    assert "hunter2" not in out and "# password = (set, not shown)" in out
    shown = tmp_path / "shown.toml"
    shown.write_text(out, encoding="utf-8")
    again, original = load_config(shown), load_config(path)
    assert again.replace(path=None, plugins={}) == original.replace(path=None, plugins={})
    assert again.plugins["speech"]["hermes"]["port"] == 1884
    assert again.enabled_plugins() == ["mqtt"] and "password" not in again.plugins["mqtt"]


def test_show_without_a_file_prints_the_defaults(capsys):
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# The settings that apply (default config)")
    assert "fps = 30.0  # float, in [0.1, 1000] fps" in out and "[mqtt]" not in out


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[srt]\nword_hold = nan\n", "[srt].word_hold"),
        ("[video]\nfps = inf\n", "[video].fps"),
        ("[mqtt]\ndrain_timeout = 1e308\n", "[mqtt].drain_timeout"),
        ("[mqtt]\nkeepalive = 100000\n", "[mqtt].keepalive"),
        ("[speech.hermes]\nconnect_timeout = -1\n", "[speech].hermes.connect_timeout"),
        ("[decoder]\nword_timeout_s = 1e400\n", "[decoder].word_timeout_s"),
        ("[source]\nwidth = 9223372036854775807\n", "[source].width"),
    ],
)
def test_check_rejects_what_the_run_would_choke_on(tmp_path, capsys, text, key):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"edge-arasl: error: {bad}: {key}: ")
    assert captured.err.count("\n") == 1
