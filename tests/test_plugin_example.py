"""examples/plugin_example.py, installed the way pip would, on the demo video end to end."""

from __future__ import annotations

import json
from pathlib import Path

from edge_arasl.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ENTRY_POINTS = {"transcript": "arasl_transcript:TranscriptPlugin"}


def _config(tmp_path: Path, path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[transcript]\nenabled = true\npath = "{path}"\n', encoding="utf-8")
    return config


def test_the_example_plugin_writes_the_words_the_pipeline_reads(
    tmp_path, install_plugin_package, capsys
):
    source = (EXAMPLES / "plugin_example.py").read_text(encoding="utf-8")
    install_plugin_package("arasl_transcript", source, ENTRY_POINTS, "arasl-transcript")
    transcript = tmp_path / "words.txt"
    config = _config(tmp_path, transcript)
    assert main(["process", str(EXAMPLES / "demo.mp4"), "--config", str(config), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    words = [r["text"] for r in records if r["type"] == "word"]
    assert words, "the demo video gave no words"
    assert transcript.read_text(encoding="utf-8").splitlines() == words


def test_the_example_plugin_refuses_a_path_it_cannot_write(
    tmp_path, install_plugin_package, capsys
):
    source = (EXAMPLES / "plugin_example.py").read_text(encoding="utf-8")
    install_plugin_package("arasl_transcript", source, ENTRY_POINTS, "arasl-transcript")
    config = _config(tmp_path, tmp_path / "no-such-folder" / "words.txt")
    assert main(["process", str(EXAMPLES / "demo.mp4"), "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert "[transcript] path: cannot write" in err and "no-such-folder" in err
    assert "\n" not in err and "Traceback" not in err


def test_the_architecture_doc_quotes_the_example_as_it_is():
    source = (EXAMPLES / "plugin_example.py").read_text(encoding="utf-8")
    doc = (EXAMPLES.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"```python\n{source}```" in doc
