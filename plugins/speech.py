"""Spoken Arabic output (``[speech]``, or ``--speech-dir DIR`` on ``edge-arasl process``).

Each finished word (or, with ``unit = "sentence"``, each sentence after a longer pause) is
spoken with espeak-ng's Arabic voice by running the ``espeak-ng`` program (Debian package
``espeak-ng``): played through ALSA, or written as one WAV file per utterance into
``wav_dir``. Optionally the text is also handed to a Rhasspy / Home Assistant satellite over
MQTT in the Hermes convention (``hermes/tts/say`` with ``text``, ``lang`` and ``siteId``), so a
speaker elsewhere in the room can say it instead.

Speaking takes about as long as the word itself, so it never happens in the hook: hooks put
the text into a bounded queue and return; a thread of this plugin's own speaks the queue in
order. Nothing is dropped while the queue has room; past ``queue_size`` the oldest waiting
utterance is dropped (counted and logged), because a backlog of stale words helps no one.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge_arasl.plugin import (
    OutputPlugin,
    PluginError,
    SentenceEvent,
    WordEvent,
    bounded,
    secret,
)

from .output_file import prepare_directory

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
INSTALL_HINT = "install it with: sudo apt install espeak-ng"
#: Seconds stop() waits, after the drain, for the utterance being spoken to end.
SPEAKING_GRACE_S = 5.0


@dataclass(frozen=True)
class HermesSettings:
    #: Also publish every utterance to hermes/tts/say on an MQTT broker (Rhasspy, Home
    #: Assistant satellites).
    enabled: bool = False
    host: str = "localhost"
    port: int = bounded(1883, ge=1, le=65535)
    username: str = ""
    password: str = secret()
    #: The satellite that should speak (Hermes "siteId").
    site_id: str = "default"
    #: Seconds start() waits for the broker before failing.
    connect_timeout: float = bounded(5.0, gt=0, le=60, unit="s")

    def __post_init__(self) -> None:
        if not self.site_id:
            raise ValueError("hermes.site_id must not be empty")


@dataclass(frozen=True)
class SpeechSettings:
    #: "word": speak every finished word; "sentence": the words since the last long pause.
    unit: Literal["word", "sentence"] = "word"
    #: espeak-ng voice (`espeak-ng --voices=ar` lists the Arabic ones).
    voice: str = "ar"
    #: Speaking rate in words per minute (espeak-ng -s).
    rate: int = bounded(140, ge=80, le=450, unit="words/min")
    #: Write one WAV file per utterance into this folder instead of playing it; relative
    #: paths are taken from the state directory in the daemon.
    wav_dir: str = ""
    #: Play through ALSA when no wav_dir is set (false: only the Hermes hand-off).
    play: bool = True
    #: ALSA device for playing ("" = espeak-ng's own output on the default device; a name
    #: such as "plughw:1,0" plays through aplay, from alsa-utils).
    alsa_device: str = ""
    #: Utterances waiting to be spoken; beyond this the oldest waiting one is dropped.
    queue_size: int = bounded(32, ge=1, le=10_000)
    #: Seconds stop() waits for the queue to be spoken.
    drain_timeout: float = bounded(10.0, ge=0, le=600, unit="s")
    hermes: HermesSettings = field(default_factory=HermesSettings)

    def __post_init__(self) -> None:
        if not self.voice or any(c.isspace() for c in self.voice):
            raise ValueError(f"voice must be one espeak-ng voice name, got {self.voice!r}")


class SpeechPlugin(OutputPlugin):
    """Speaks finished words or sentences with espeak-ng; optionally hands them to Hermes."""

    name = "speech"
    Settings = SpeechSettings
    wants_frames = False

    settings: SpeechSettings

    @property
    def stop_timeout(self) -> float:
        return self.settings.drain_timeout + SPEAKING_GRACE_S

    def pending(self) -> int:
        return len(self._queue)

    def start(self) -> None:
        s = self.settings
        self.spoken = 0  # utterances synthesised (played or written)
        self.dropped = 0
        self.published = 0
        self.files: list[Path] = []
        self._queue: deque[str] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._deadline = float("inf")
        self._wav_dir = self._prepare_wav_dir()
        self._local = self._wav_dir is not None or s.play
        self._espeak = shutil.which(ESPEAK) if self._local else None
        if self._local:
            if self._espeak is None:
                raise PluginError(f"[speech] {ESPEAK} not found on PATH: {INSTALL_HINT}")
            self._check_voice()
        self._aplay = None
        if self._wav_dir is None and s.play and s.alsa_device:
            self._aplay = shutil.which("aplay")
            if self._aplay is None:
                raise PluginError(
                    "[speech] alsa_device: aplay not found on PATH: install it with: "
                    "sudo apt install alsa-utils"
                )
        self._client = self._connect_hermes() if s.hermes.enabled else None
        self._thread: threading.Thread | None = None
        if self._local:
            self._thread = threading.Thread(target=self._speak_loop, name="speech", daemon=True)
            self._thread.start()
        self._report()

    # -- hooks (the dispatcher's worker thread) ------------------------------------------------

    def on_word(self, word: WordEvent) -> None:
        if self.settings.unit == "word":
            self._say(word.text)

    def on_sentence(self, sentence: SentenceEvent) -> None:
        if self.settings.unit == "sentence":
            self._say(sentence.text)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._deadline = time.monotonic() + self.settings.drain_timeout
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(self.settings.drain_timeout + SPEAKING_GRACE_S)
        with self._cond:
            left = len(self._queue)
        if left:
            log.warning("speech: %d utterance(s) not spoken before stop", left)
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
        self._report()

    # -- internals -----------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self._client is not None:
            self._publish_hermes(text)
        if not self._local:
            return
        with self._cond:
            if len(self._queue) >= self.settings.queue_size:
                self._queue.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    log.warning("speech falls behind: %d utterance(s) dropped", self.dropped)
            self._queue.append(text)
            self._cond.notify_all()
        self._report()

    def _speak_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    if self._stopping:
                        return
                    self._cond.wait(0.5)
                if self._stopping and time.monotonic() >= self._deadline:
                    return
                text = self._queue.popleft()
            try:
                self._speak(text)
            except (OSError, subprocess.SubprocessError) as exc:
                log.error("speech: cannot speak %r: %s", text, exc)
            self._report()

    def _espeak_args(self) -> list[str]:
        assert self._espeak is not None
        return [self._espeak, "-v", self.settings.voice, "-s", str(self.settings.rate)]

    def _speak(self, text: str) -> None:
        """Synthesise one utterance (text on stdin, so nothing in it is read as an option)."""
        data = text.encode("utf-8")
        timeout = 30.0 + len(text)
        if self._wav_dir is not None:
            path = self._wav_dir / f"speech-{time.strftime('%Y%m%d-%H%M%S')}-{self.spoken:05d}.wav"
            _run([*self._espeak_args(), "-w", str(path)], data, timeout)
            self.files.append(path)
        elif self._aplay is not None:
            wav = _run([*self._espeak_args(), "--stdout"], data, timeout)
            _run([self._aplay, "-q", "-D", self.settings.alsa_device], wav, timeout)
        else:
            _run(self._espeak_args(), data, timeout)
        self.spoken += 1

    def _prepare_wav_dir(self) -> Path | None:
        if not self.settings.wav_dir:
            return None
        path = Path(self.settings.wav_dir).expanduser()
        if not path.is_absolute() and self.context.mode == "run":
            path = Path(self.context.state_dir) / path
        prepare_directory(path / "x.wav", self.context)
        return path

    def _check_voice(self) -> None:
        """A voice espeak-ng does not have would fail every word later: fail now instead."""
        try:
            out = subprocess.run(
                [self._espeak or ESPEAK, f"--voices={self.settings.voice.split('+')[0]}"],
                capture_output=True,
                timeout=10,
                check=False,
            ).stdout.decode(errors="replace")
        except (OSError, subprocess.SubprocessError) as exc:
            raise PluginError(f"[speech] cannot run {ESPEAK}: {exc}; {INSTALL_HINT}") from None
        if len(out.strip().splitlines()) < 2:  # only the header line: no such voice
            raise PluginError(
                f"[speech] voice: {ESPEAK} has no voice {self.settings.voice!r} "
                f"(see `{ESPEAK} --voices=ar`)"
            )

    def _connect_hermes(self) -> mqtt.Client:
        h = self.settings.hermes
        connected = threading.Event()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"edge-arasl-speech-{self.context.device_id}",
        )
        if h.username:
            client.username_pw_set(h.username, h.password or None)

        def on_connect(
            _client: Any, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
        ) -> None:
            if not reason.is_failure:
                connected.set()

        client.on_connect = on_connect
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.connect_async(h.host, h.port, 30)
        client.loop_start()
        if not connected.wait(h.connect_timeout):
            client.loop_stop()
            raise PluginError(
                f"[speech] hermes: cannot connect to MQTT broker {h.host}:{h.port} "
                f"within {h.connect_timeout:g} s"
            )
        return client

    def _publish_hermes(self, text: str) -> None:
        assert self._client is not None
        payload = {
            "text": text,
            "lang": "ar",
            "siteId": self.settings.hermes.site_id,
            "id": uuid.uuid4().hex,  # Hermes answers hermes/tts/sayFinished with this id
        }
        self._client.publish("hermes/tts/say", json.dumps(payload, ensure_ascii=False), qos=1)
        self.published += 1

    def _report(self) -> None:
        self.context.gauge("queue", len(self._queue))
        self.context.gauge("dropped", self.dropped)
        self.context.gauge("spoken", self.spoken)


def _run(args: list[str], stdin: bytes, timeout: float) -> bytes:
    """Run a program, feeding ``stdin``; its stdout, or an OSError with its stderr's last line."""
    done = subprocess.run(args, input=stdin, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise OSError(f"{Path(args[0]).name} exited {done.returncode}: {err[-1] if err else ''}")
    return done.stdout
