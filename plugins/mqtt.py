"""The MQTT publisher (``[mqtt]``): letters, words, availability and stats for a fleet.

Topics, all under ``{topic_prefix}/{device_id}/``:

- ``letter``, ``word``: one JSON object per event (raw Unicode Arabic, class ids, confidence,
  times, ``device_id``, a per-run ``seq``), QoS ``qos``, not retained;
- ``status``: ``online`` (retained) while connected; the broker publishes the Last Will
  ``offline`` (retained) if the connection dies, and a clean stop publishes it explicitly;
- ``stats``: the pipeline's periodic status report, QoS 0, only while connected.

Letters and words wait in a bounded queue until the broker has them (PUBACK with QoS >= 1),
so they survive a broker restart or a network outage and arrive in order: the sender keeps one
message in flight, and paho re-sends that one after a reconnect before anything newer goes
out. Past ``queue_size`` the oldest waiting event is dropped, counted and logged.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge_arasl.plugin import LetterEvent, OutputPlugin, PluginError, StatusEvent, WordEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsSettings:
    enabled: bool = False
    #: CA certificate(s) that signed the broker's certificate; empty: the system's CAs.
    ca_file: str = ""
    #: Client certificate and key, for brokers that authenticate clients by certificate.
    cert_file: str = ""
    key_file: str = ""


@dataclass(frozen=True)
class MqttSettings:
    host: str = "localhost"
    #: 0: 1883, or 8883 with TLS.
    port: int = 0
    topic_prefix: str = "edge-arasl"
    #: Identifies this device in every topic; empty: the daemon's device id (the hostname).
    device_id: str = ""
    qos: int = 1
    username: str = ""
    password: str = ""
    tls: TlsSettings = field(default_factory=TlsSettings)
    keepalive: int = 30
    #: Letters and words kept while the broker is unreachable (oldest dropped beyond).
    queue_size: int = 1000
    #: Seconds stop() waits for queued events to reach the broker.
    drain_timeout: float = 5.0
    #: Publish Home Assistant MQTT discovery configs (after every reconnect).
    ha_discovery: bool = False
    ha_discovery_prefix: str = "homeassistant"

    def __post_init__(self) -> None:
        if self.qos not in (0, 1, 2):
            raise ValueError(f"qos must be 0, 1 or 2, got {self.qos}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0..65535, got {self.port}")
        if self.queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {self.queue_size}")
        for name in ("topic_prefix", "device_id"):
            value = getattr(self, name)
            if any(ch in value for ch in "+#/") or (name == "topic_prefix" and not value):
                raise ValueError(f"{name} must be a non-empty topic level without + # /")


@dataclass
class _Outgoing:
    topic: str
    payload: str


class MqttPlugin(OutputPlugin):
    """Publishes letters, words, availability and stats to an MQTT broker."""

    name = "mqtt"
    Settings = MqttSettings
    wants_frames = False

    settings: MqttSettings

    def start(self) -> None:
        s = self.settings
        self.device_id = s.device_id or self.context.device_id
        base = f"{s.topic_prefix}/{self.device_id}"
        self.topics = {k: f"{base}/{k}" for k in ("letter", "word", "status", "stats")}
        self.dropped = 0
        self.published = 0
        self._seq = 0
        self._queue: deque[_Outgoing] = deque()
        self._cond = threading.Condition()
        self._connected = False
        self._stopping = False
        self._deadline = float("inf")
        self._inflight_mid: int | None = None
        self._acked: deque[int] = deque(maxlen=256)  # mids acked before we learned them
        self._last_error = ""
        self.port = s.port or (8883 if s.tls.enabled else 1883)
        self.client = self._make_client()
        self.client.connect_async(s.host, self.port, s.keepalive)
        self.client.loop_start()
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)
        self._sender.start()
        self._report()

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"edge-arasl-{self.device_id}"
        )
        if s.username:
            client.username_pw_set(s.username, s.password or None)
        if s.tls.enabled:
            _configure_tls(client, s.tls)
        client.will_set(self.topics["status"], "offline", qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_connect_fail = self._on_connect_fail
        return client

    # -- hooks (plugin worker thread) ------------------------------------------------------

    def on_letter(self, letter: LetterEvent) -> None:
        self._enqueue("letter", letter.to_dict())

    def on_word(self, word: WordEvent) -> None:
        self._enqueue("word", word.to_dict())

    def on_status(self, status: StatusEvent) -> None:
        self._report()
        if self._connected:  # stale stats are worthless: never queued
            payload = {"type": "stats", **status.to_dict(), "device_id": self.device_id}
            self.client.publish(self.topics["stats"], _json(payload), qos=0)

    def stop(self) -> None:
        s = self.settings
        with self._cond:
            self._stopping = True
            self._deadline = time.monotonic() + s.drain_timeout
            self._cond.notify_all()
        self._sender.join(s.drain_timeout + 1.0)
        with self._cond:
            left = len(self._queue)
        if left:
            log.warning(
                "%d letters/words not delivered to MQTT broker %s before stop", left, s.host
            )
        if self._connected:
            info = self.client.publish(self.topics["status"], "offline", qos=1, retain=True)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                info.wait_for_publish(timeout=2.0)
        self.client.disconnect()
        self.client.loop_stop()
        self._report()

    # -- queue and sender ------------------------------------------------------------------

    def _enqueue(self, kind: str, event: dict[str, Any]) -> None:
        self._seq += 1
        payload = {**event, "device_id": self.device_id, "seq": self._seq, "wall_time": time.time()}
        with self._cond:
            self._queue.append(_Outgoing(self.topics[kind], _json(payload)))
            if len(self._queue) > self.settings.queue_size:
                # drop the oldest event that is not in flight (index 0 may be)
                del self._queue[1 if self._inflight_mid is not None else 0]
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    log.warning("MQTT queue full: %d oldest events dropped so far", self.dropped)
            self._cond.notify_all()
        self._report()

    def _send_loop(self) -> None:
        """Publish the queue head, wait for the broker to take it, repeat (one in flight)."""
        while True:
            with self._cond:
                while not (self._queue and self._connected):
                    if self._stopping and (not self._queue or time.monotonic() >= self._deadline):
                        return
                    self._cond.wait(0.1)
                item = self._queue[0]
            info = self.client.publish(item.topic, item.payload, qos=self.settings.qos)
            with self._cond:
                if self.settings.qos == 0 and info.rc == mqtt.MQTT_ERR_NO_CONN:
                    continue  # not sent: try the same item again once connected
                self._inflight_mid = info.mid
                while info.mid not in self._acked:
                    if self._stopping and time.monotonic() >= self._deadline:
                        return
                    self._cond.wait(0.1)
                self._acked.remove(info.mid)
                self._inflight_mid = None
                self._queue.popleft()
                self.published += 1
            self._report()

    # -- paho callbacks (network thread) ---------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            self._log_error(f"MQTT broker {self.settings.host} refused the connection: {reason}")
            return
        log.info(
            "connected to MQTT broker %s:%d as %s", self.settings.host, self.port, self.device_id
        )
        self._last_error = ""
        client.publish(self.topics["status"], "online", qos=1, retain=True)
        if self.settings.ha_discovery:
            for topic, config in self._discovery_configs():
                client.publish(topic, _json(config), qos=1, retain=True)
        with self._cond:
            self._connected = True
            self._cond.notify_all()
        self._report()

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        with self._cond:
            was_connected, self._connected = self._connected, False
        if was_connected and not self._stopping:
            log.warning(
                "disconnected from MQTT broker %s (%s); reconnecting", self.settings.host, reason
            )
        elif not was_connected and reason.is_failure:
            self._log_error(f"cannot connect to MQTT broker {self.settings.host}: {reason}")
        self._report()

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        self._log_error(f"cannot reach MQTT broker {self.settings.host}:{self.port}; retrying")

    def _on_publish(
        self, _client: Any, _userdata: Any, mid: int, _reason: Any, _props: Any
    ) -> None:
        with self._cond:
            self._acked.append(mid)
            self._cond.notify_all()

    # -- helpers ---------------------------------------------------------------------------

    def _log_error(self, message: str) -> None:
        if message != self._last_error:  # once per distinct problem, not per retry
            log.error("%s", message)
            self._last_error = message

    def _report(self) -> None:
        self.context.gauge("connected", 1.0 if self._connected else 0.0)
        self.context.gauge("queue", len(self._queue))
        self.context.gauge("dropped", self.dropped)

    def _discovery_configs(self) -> list[tuple[str, dict[str, Any]]]:
        """Home Assistant sensors for the last letter and the current text of this device."""
        s = self.settings
        node = f"edge_arasl_{self.device_id}".replace("-", "_")
        try:
            version = metadata.version("edge-arasl")
        except metadata.PackageNotFoundError:
            version = "unknown"
        device = {
            "identifiers": [node],
            "name": f"edge-arasl {self.device_id}",
            "manufacturer": "edge-arasl",
            "model": "ArASL fingerspelling recogniser",
            "sw_version": version,
        }
        common = {
            "availability_topic": self.topics["status"],
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device,
            "value_template": "{{ value_json.text }}",
        }
        sensors = {
            "last_letter": {
                "name": "Last letter",
                "state_topic": self.topics["letter"],
                "json_attributes_topic": self.topics["letter"],
            },
            "text": {
                "name": "Current text",
                "state_topic": self.topics["stats"],
                "value_template": "{{ value_json.text[-255:] }}",  # HA caps states at 255
            },
        }
        return [
            (
                f"{s.ha_discovery_prefix}/sensor/{node}/{key}/config",
                {**common, **sensor, "unique_id": f"{node}_{key}"},
            )
            for key, sensor in sensors.items()
        ]


def _configure_tls(client: mqtt.Client, tls: TlsSettings) -> None:
    """TLS with the configured CA and client certificate; unusable files are PluginErrors."""
    files = {"ca_file": tls.ca_file, "cert_file": tls.cert_file, "key_file": tls.key_file}
    for key, path in files.items():
        if path and not os.access(path, os.R_OK):
            raise PluginError(f"[mqtt] tls.{key}: cannot read {path}")
    try:
        client.tls_set(
            ca_certs=tls.ca_file or None,
            certfile=tls.cert_file or None,
            keyfile=tls.key_file or None,
        )
    except (OSError, ValueError) as exc:  # ssl errors are OSErrors
        named = ", ".join(path for path in files.values() if path) or "the system CAs"
        raise PluginError(f"[mqtt] tls: cannot use {named}: {exc}") from None


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
