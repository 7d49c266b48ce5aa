"""An example output plugin: the words of a run, one a line, in a text file.

docs/architecture.md walks through it; tests/test_plugin_example.py installs it the way pip
would and runs it on the demo video.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_arasl.plugin import OutputPlugin, PluginError, WordEvent


@dataclass(frozen=True)
class TranscriptSettings:
    path: str = ""  # every field needs a default; start() refuses this one


class TranscriptPlugin(OutputPlugin):
    """Appends each finished word's Arabic text to ``path``."""

    name = "transcript"  # the config table and the entry-point name
    Settings = TranscriptSettings
    wants_frames = False  # words only: no frame traffic for this plugin

    def start(self) -> None:
        path = Path(self.settings.path)
        try:
            self._file = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise PluginError(f"[transcript] path: cannot write {path} ({exc.strerror})") from None

    def on_word(self, word: WordEvent) -> None:
        self._file.write(word.text + "\n")

    def stop(self) -> None:
        self._file.close()
