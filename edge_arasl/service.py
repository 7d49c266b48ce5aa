"""The daemon as a service: systemd notification, the status file, and reload on SIGHUP.

:class:`Service` wraps ``edge-arasl run``'s pipeline runs. It watches the loop as a pipeline
:class:`~edge_arasl.pipeline.Observer` and

- tells systemd ``READY=1`` once the first frame is classified (camera and model both work),
  feeds the watchdog from the loop (its frames, and its status reports while the source is
  away and being reopened), and keeps ``STATUS=`` up to date;
- writes the latest status to ``status.json`` in the state directory for ``edge-arasl status``
  (at most every :data:`STATUS_FILE_INTERVAL`, and at once when the state or the source's
  changes);
- on SIGHUP re-reads the config file. A config that does not validate is rejected with one
  log line and the running pipeline goes on untouched; a valid, changed one stops the pipeline
  (plugins flushed) and starts it again from the new config. If that new pipeline then fails
  to start (a plugin cannot bind its port, say), the previous config is started again.
"""

from __future__ import annotations

import dataclasses
import faulthandler
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge_arasl import __version__
from edge_arasl.config import Config, load_config
from edge_arasl.errors import UserError
from edge_arasl.notify import Notifier
from edge_arasl.pipeline import Observer, Pipeline
from edge_arasl.plugin import FrameEvent, StatusEvent
from edge_arasl.status_file import ServiceInfo, write_status

log = logging.getLogger(__name__)

#: The status file is rewritten at most this often (and on every state change): an SD card
#: should not take a write every second for months.
STATUS_FILE_INTERVAL = 5.0

#: Runs one pipeline on a config with the given observers; returns True if a stop signal
#: (SIGINT/SIGTERM) ended it, so a reload pending at that moment is not carried out.
RunPipeline = Callable[[Config, Sequence[Observer]], bool]


class Service(Observer):
    """Runs pipelines built by ``run_pipeline(config, observers)`` until one ends unreloaded."""

    def __init__(
        self,
        config_path: Path | None,
        *,
        notifier: Notifier | None = None,
        file_interval: float = STATUS_FILE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config_path = config_path
        self.notifier = notifier if notifier is not None else Notifier.from_environ()
        self.file_interval = file_interval
        self._clock = clock
        self.config: Config | None = None
        self._pipeline: Pipeline | None = None
        self._hup = False
        self._awaiting_ready = True
        self._next_config: Config | None = None  # validated, waiting for the pipeline to stop
        self._fallback: Config | None = None  # the config to go back to if a reload fails
        self._info: dict[str, Any] = {}
        self._last: dict[str, Any] | None = None
        self._last_write = float("-inf")
        self._write_failed = False
        self._stopping_sent = False

    # -- the outer loop -------------------------------------------------------------------

    def run(self, run_pipeline: RunPipeline) -> None:
        """Load the config and run pipelines until one ends without a reload pending."""
        config = load_config(self.config_path)
        faulthandler.enable()  # the watchdog's SIGABRT then prints every thread's stack
        previous = signal.signal(signal.SIGHUP, self._on_sighup)
        final_state = "failed"
        try:
            while True:
                self.config = config
                try:
                    stopped_by_signal = run_pipeline(config, [self])
                except UserError as exc:
                    if self._fallback is None:
                        raise
                    log.error("reload failed: %s; going back to the previous config", exc)
                    config, self._fallback = self._fallback, None
                    continue
                if stopped_by_signal or self._next_config is None:
                    break
                self._fallback, config, self._next_config = config, self._next_config, None
            final_state = "stopped"
        finally:
            signal.signal(signal.SIGHUP, previous)
            if not self._stopping_sent:
                self.notifier.stopping()
            self._write_final(final_state)
            self.notifier.close()

    def _on_sighup(self, _signum: int, _frame: object) -> None:
        # Runs between two bytecodes of the loop: only set a flag, the loop does the work.
        self._hup = True

    # -- pipeline observer hooks (run in the loop thread) ---------------------------------

    def on_start(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._awaiting_ready = True
        config = self.config
        assert config is not None
        self._info = dataclasses.asdict(
            ServiceInfo(
                pid=os.getpid(),
                version=__version__,
                device_id=config.service.resolved_device_id,
                hostname=socket.gethostname(),
                source=f"{config.source.kind}: {pipeline.source.name}",
                config=str(config.path) if config.path else None,
                plugins=config.enabled_plugins(),
                started=self._info.get("started", time.time()),
            )
        )
        self.notifier.watchdog()
        self.notifier.status(f"starting: waiting for the first frame from {pipeline.source.name}")

    def on_frame(self, event: FrameEvent) -> None:
        self.notifier.watchdog()
        if self._awaiting_ready:
            self._awaiting_ready = False
            self._fallback = None  # the new config works
            self.notifier.ready("running: first frame classified")
            log.info("ready: first frame classified")
        if self._hup:
            self._hup = False
            self._reload()

    def on_status(self, status: StatusEvent) -> None:
        # Frames feed the watchdog; a report does only at start and stop and while the source
        # is being reopened: a source that neither delivers nor is reopened (a driver stuck in
        # a read) lets it run out, and systemd restarts the service.
        if status.state != "running" or status.source_state == "lost":
            self.notifier.watchdog()
        reloading = self._next_config is not None
        if status.state == "stopping" and reloading:
            return  # the pipeline restarts: neither STOPPING=1 nor a "stopping" status file
        if status.state == "stopping":
            self._stopping_sent = self.notifier.stopping(status_line(status))
        elif not self._awaiting_ready:
            self.notifier.status(status_line(status))
        data = {**status.to_dict(), **self._info}
        changed = self._last is None or any(
            self._last.get(key) != data[key] for key in ("state", "source_state")
        )
        self._last = data
        if changed or self._clock() - self._last_write >= self.file_interval:
            self._write(data)

    # -- reload -----------------------------------------------------------------------------

    def _reload(self) -> None:
        self.notifier.reloading()
        where = self.config_path or "the built-in defaults"
        log.info("SIGHUP: reloading %s", where)
        try:
            new = load_config(self.config_path)
        except UserError as exc:
            log.error("reload rejected, keeping the running config: %s", exc)
            self.notifier.ready(f"running; reload rejected: {exc}")
            return
        if new == self.config:
            log.info("reload: config unchanged")
            self.notifier.ready("running: config unchanged")
            return
        log.info("reload: restarting the pipeline with the new config")
        self._next_config = new
        assert self._pipeline is not None
        self._pipeline.stop()

    # -- status file ------------------------------------------------------------------------

    def _write(self, data: dict[str, Any]) -> None:
        if self.config is None:
            return
        self._last_write = self._clock()
        try:
            write_status(self.config.service.resolved_state_dir, data)
        except OSError as exc:
            if not self._write_failed:  # once, not every few seconds
                log.warning("cannot write the status file: %s", exc)
            self._write_failed = True
        else:
            self._write_failed = False

    def _write_final(self, state: str) -> None:
        if self._last is not None:
            self._write({**self._last, "state": state, "wall_time": time.time()})


def status_line(status: StatusEvent) -> str:
    """One line for ``systemctl status``: state, a lost source, frame rate, last letter, counts,
    failed plugins."""
    failed = f"; failed: {', '.join(sorted(status.plugin_failed))}" if status.plugin_failed else ""
    lost = (
        f" source lost for {status.source_lost_s:.0f} s, reopening;"
        if status.source_state == "lost"
        else ""
    )
    return (
        f"{status.state}:{lost} {status.fps:.1f} fps, last letter {status.last_letter or '-'},"
        f" {status.letters} letters, {status.words} words{failed}"
    )
