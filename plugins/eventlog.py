"""A JSON-lines log of what the daemon recognised (``[eventlog]``).

One JSON object per line: every letter, word and sentence (the same objects ``process --json``
prints, plus ``device_id`` and ``wall_time``) and, with ``status = true``, every status report. Each
line is flushed as it is written, so ``tail -f`` sees it at once and a crash loses nothing
already recognised. ``path`` may hold strftime fields (``events-%Y%m%d.jsonl``): a new file
starts when the name changes, e.g. one per day.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from edge_arasl.plugin import LetterEvent, OutputPlugin, SentenceEvent, StatusEvent, WordEvent

from .output_file import output_path, prepare_file, write_failed


@dataclass(frozen=True)
class EventLogSettings:
    #: Output file, appended to; relative paths are taken from the state directory in the
    #: daemon. strftime fields start a new file whenever the name changes.
    path: str = "events.jsonl"
    #: Also log the periodic status reports (about one line a second).
    status: bool = False


class EventLogPlugin(OutputPlugin):
    """Appends letters, words, sentences (and optionally status) to a JSON-lines file."""

    name = "eventlog"
    Settings = EventLogSettings
    wants_frames = False

    settings: EventLogSettings

    def start(self) -> None:
        self._file: IO[str] | None = None
        self._path: Path | None = None
        self._open(time.time())

    def on_letter(self, letter: LetterEvent) -> None:
        self._write(letter.to_dict())

    def on_word(self, word: WordEvent) -> None:
        self._write(word.to_dict())

    def on_sentence(self, sentence: SentenceEvent) -> None:
        self._write(sentence.to_dict())

    def on_status(self, status: StatusEvent) -> None:
        if self.settings.status:
            self._write({"type": "status", **status.to_dict()})

    def stop(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()  # closed even when its last flush fails
            except OSError as exc:
                raise write_failed(self.context, self._path, exc) from None

    def _write(self, record: dict[str, Any]) -> None:
        now = time.time()
        if "%" in self.settings.path:
            self._open(now)
        record = {**record, "device_id": self.context.device_id, "wall_time": round(now, 3)}
        assert self._file is not None
        try:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()
        except OSError as exc:
            raise write_failed(self.context, self._path, exc) from None

    def _open(self, now: float) -> None:
        path = output_path(self.settings.path, self.context, now)
        if path == self._path:
            return
        prepare_file(path, self.context)
        self.stop()
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in stop)
        self._path = path
