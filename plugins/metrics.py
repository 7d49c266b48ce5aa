"""Prometheus metrics over HTTP, from the pipeline's periodic status reports.

::

    [metrics]
    enabled = true
    host = "127.0.0.1"   # localhost only; "0.0.0.0" lets a Prometheus server on the LAN scrape it
    port = 9842

``GET /metrics`` answers in the Prometheus text exposition format (version 0.0.4). Values come
from the latest :class:`StatusEvent` (about once a second), so a scrape never touches the
processing loop. Gauges that plugins report (MQTT queue depth, connection state, ...) appear as
``edge_arasl_plugin_<key>{plugin="<name>"}``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from edge_arasl.plugin import OutputPlugin, PluginContext, PluginError, StatusEvent, bounded

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STATES = ("starting", "running", "stopping")


@dataclass(frozen=True)
class MetricsSettings:
    host: str = "127.0.0.1"
    #: 0: any free port (tests).
    port: int = bounded(9842, ge=0, le=65535)


class MetricsPlugin(OutputPlugin):
    """Serves the latest status as Prometheus metrics from a background HTTP thread."""

    name = "metrics"
    Settings = MetricsSettings
    wants_frames = False

    def __init__(self, settings: MetricsSettings, context: PluginContext) -> None:
        super().__init__(settings, context)
        self._lock = threading.Lock()
        self._status = StatusEvent(state="starting", wall_time=time.time())
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (useful with ``port = 0``: any free port)."""
        assert self._server is not None
        return self._server.server_address[1]

    def start(self) -> None:
        plugin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] == "/metrics":
                    self._reply(200, CONTENT_TYPE, plugin.render())
                elif self.path == "/":
                    self._reply(200, "text/plain; charset=utf-8", "edge-arasl: see /metrics\n")
                else:
                    self._reply(404, "text/plain; charset=utf-8", "not found\n")

            def _reply(self, code: int, content_type: str, body: str) -> None:
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("metrics: %s " + format, self.address_string(), *args)

        s = self.settings
        try:
            self._server = ThreadingHTTPServer((s.host, s.port), Handler)
        except OSError as exc:
            raise PluginError(
                f"[metrics]: cannot listen on {s.host}:{s.port}: {exc.strerror}"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )
        self._thread.start()
        log.info("metrics: serving http://%s:%d/metrics", s.host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def on_status(self, status: StatusEvent) -> None:
        with self._lock:
            self._status = status

    def render(self) -> str:
        """The current metrics in the Prometheus text format."""
        with self._lock:
            st = self._status
        out = _Exposition()
        out.metric("edge_arasl_info", "gauge", "Device running edge-arasl.")
        out.sample("edge_arasl_info", 1, device_id=self.context.device_id)
        out.metric("edge_arasl_state", "gauge", "1 for the daemon's current state.")
        for state in STATES:
            out.sample("edge_arasl_state", int(st.state == state), state=state)
        out.metric(
            "edge_arasl_last_status_timestamp_seconds", "gauge", "When the last status was made."
        )
        out.sample("edge_arasl_last_status_timestamp_seconds", st.wall_time)
        up, lost_s = int(st.source_state != "lost"), st.source_lost_s
        for name, kind, help_, value in (
            ("frames_total", "counter", "Frames processed.", st.frames),
            ("frames_dropped_total", "counter", "Stale camera frames dropped.", st.frames_dropped),
            ("fps", "gauge", "Frames processed per second, recently.", st.fps),
            ("letters_total", "counter", "Letters recognised.", st.letters),
            ("words_total", "counter", "Words finished.", st.words),
            ("source_up", "gauge", "1 while the source delivers, 0 while it is away.", up),
            ("source_lost_seconds", "gauge", "How long the source has been away.", lost_s),
        ):
            out.metric(f"edge_arasl_{name}", kind, help_)
            out.sample(f"edge_arasl_{name}", value)
        self._histogram(out, st)
        for name, help_, per_plugin in (
            ("plugin_errors_total", "Exceptions raised by a plugin.", st.plugin_errors),
            (
                "plugin_frames_dropped_total",
                "Frames a plugin skipped because it fell behind.",
                st.plugin_frames_dropped,
            ),
        ):
            out.metric(f"edge_arasl_{name}", "counter", help_)
            for plugin, value in sorted(per_plugin.items()):
                out.sample(f"edge_arasl_{name}", value, plugin=plugin)
        self._plugin_health(out, st)
        self._plugin_gauges(out, st)
        return out.text()

    @staticmethod
    def _plugin_health(out: _Exposition, st: StatusEvent) -> None:
        plugins = sorted(st.plugin_errors.keys() | st.plugin_failed.keys())
        out.metric(
            "edge_arasl_plugin_failed", "gauge", "1 for a plugin given up on (events skipped)."
        )
        for plugin in plugins:
            out.sample("edge_arasl_plugin_failed", int(plugin in st.plugin_failed), plugin=plugin)
        name = "edge_arasl_dispatcher_queue_depth"
        out.metric(name, "gauge", "Frames and events waiting for a plugin.")
        for plugin, depth in sorted(st.plugin_queue_depths.items()):
            out.sample(name, depth, plugin=plugin)

    @staticmethod
    def _histogram(out: _Exposition, st: StatusEvent) -> None:
        name = "edge_arasl_inference_duration_seconds"
        out.metric(name, "histogram", "Classifier inference time per frame.")
        count = 0
        for bound_ms, cumulative in st.inference_buckets:
            le = "+Inf" if math.isinf(bound_ms) else _number(bound_ms / 1000)
            out.sample(f"{name}_bucket", cumulative, le=le)
            count = cumulative
        if not st.inference_buckets or not math.isinf(st.inference_buckets[-1][0]):
            count = max(count, st.frames)  # every frame is classified once: +Inf is the frames
            out.sample(f"{name}_bucket", count, le="+Inf")
        out.sample(f"{name}_sum", st.inference_ms_sum / 1000)
        out.sample(f"{name}_count", count)

    @staticmethod
    def _plugin_gauges(out: _Exposition, st: StatusEvent) -> None:
        by_key: dict[str, list[tuple[str, float]]] = {}
        for plugin, gauges in st.plugin_gauges.items():
            for key, value in gauges.items():
                by_key.setdefault(_metric_name(key), []).append((plugin, value))
        for key, values in sorted(by_key.items()):
            name = f"edge_arasl_plugin_{key}"
            out.metric(name, "gauge", f"'{key}' as reported by plugins.")
            for plugin, value in sorted(values):
                out.sample(name, value, plugin=plugin)


class _Exposition:
    """Builds the text format: HELP/TYPE once per metric, then its samples."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def metric(self, name: str, kind: str, help_: str) -> None:
        self._lines.append(f"# HELP {name} {help_}")
        self._lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, **labels: str) -> None:
        if labels:
            pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            name = f"{name}{{{pairs}}}"
        self._lines.append(f"{name} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _number(value: float) -> str:
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _escape(value: str) -> str:
    return str(value).replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def _metric_name(key: str) -> str:
    name = re.sub(r"[^a-zA-Z0-9_]", "_", key)
    return name if not name[:1].isdigit() else f"_{name}"
