"""Subtitles of the recognised text (``[srt]``, or ``--srt FILE`` on ``edge-arasl process``).

One cue per letter shows the word being signed as it grows (``س``, ``سل``, ``سلا``, ``سلام``),
from the letter's start until the next letter starts; after the word ends its cue stays up for
``word_hold`` seconds (or until the next letter). Cues never overlap, text is raw Unicode
(players shape and order Arabic themselves), and every cue is flushed as it is written, so a
killed run leaves a valid file. Times are media time for files; in the daemon they count from
the first frame, matching a video written from the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_arasl.plugin import (
    FrameEvent,
    LetterEvent,
    OutputPlugin,
    PluginContext,
    WordEvent,
    bounded,
)

from .output_file import output_path, prepare_file, write_failed


@dataclass(frozen=True)
class SrtSettings:
    #: Output file; relative paths are taken from the state directory in the daemon.
    path: str = ""
    #: Seconds a finished word stays on screen (cut short by the next letter).
    word_hold: float = bounded(2.0, ge=0, le=60, unit="s")


@dataclass
class _Cue:
    start: float
    end: float
    text: str


class SrtPlugin(OutputPlugin):
    """Writes the recognised letters and words as SRT subtitles."""

    name = "srt"
    Settings = SrtSettings
    queue_size = 1  # frames only set the time origin in the daemon

    settings: SrtSettings

    def __init__(self, settings: SrtSettings, context: PluginContext) -> None:
        super().__init__(settings, context)
        # only the daemon needs frames (the first one's time); `process` is spared the traffic
        self.wants_frames = context.mode == "run"  # type: ignore[misc]

    def start(self) -> None:
        self.path = output_path(self.settings.path, self.context)
        prepare_file(self.path, self.context)
        self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (closed in stop)
        # media time starts at 0; a camera's monotonic clock starts at the first frame
        self._origin: float | None = 0.0 if self.context.mode != "run" else None
        self._letters: list[str] = []
        self._pending: _Cue | None = None  # the last cue, whose end the next event decides
        self._written_end = 0.0
        self.cues = 0

    def on_frame(self, frame: FrameEvent) -> None:
        if self._origin is None:
            self._origin = frame.timestamp

    def on_letter(self, letter: LetterEvent) -> None:
        if self._origin is None:
            self._origin = letter.start
        start = letter.start - self._origin
        if self._pending is not None:
            self._pending.end = min(self._pending.end, start) if not self._letters else start
            self._flush()
        self._letters.append(letter.text)
        self._pending = _Cue(start, letter.end - self._origin, "".join(self._letters))

    def on_word(self, word: WordEvent) -> None:
        self._letters.clear()
        if self._pending is not None and self._origin is not None:
            self._pending.text = word.text
            self._pending.end = word.end - self._origin + self.settings.word_hold

    def stop(self) -> None:
        try:
            self._flush()
        finally:
            try:
                self._file.close()  # closed even when its last flush fails
            except OSError as exc:
                raise write_failed(self.context, self.path, exc) from None

    def _flush(self) -> None:
        cue, self._pending = self._pending, None
        if cue is None:
            return
        start = max(cue.start, self._written_end)
        if cue.end <= start:
            return
        self.cues += 1
        times = f"{_srt_time(start)} --> {_srt_time(cue.end)}"
        try:
            self._file.write(f"{self.cues}\n{times}\n{cue.text}\n\n")
            self._file.flush()
        except OSError as exc:
            raise write_failed(self.context, self.path, exc) from None
        self._written_end = cue.end


def _srt_time(seconds: float) -> str:
    ms = round(max(seconds, 0.0) * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{ms:03d}"
