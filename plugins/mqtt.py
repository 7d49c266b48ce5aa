"""The MQTT publisher (``[mqtt]``): letters, words, availability and stats for a fleet.

Topics, all under ``{topic_prefix}/{device_id}/``:

- ``letter``, ``word``: one JSON object per event (raw Unicode Arabic, class ids, confidence,
  times, ``device_id``, a per-run ``seq``), QoS ``qos``, not retained;
- ``status``: ``online`` (retained) while connected; the broker publishes the Last Will
  ``offline`` (retained) if the connection dies, and a clean stop publishes it explicitly;
- ``stats``: the pipeline's periodic status report, QoS 0, only while connected.

Letters and words wait in a bounded queue until the broker has them (PUBACK with QoS >= 1),
so they survive a broker restart or a network outage and arrive in order: the sender takes one
message out of the queue into flight, and paho re-sends that one after a reconnect before
anything newer goes out. Past ``queue_size`` (waiting and in flight together) the oldest
waiting event is dropped, counted and logged; the one in flight is never touched.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge_arasl.plugin import (
    LetterEvent,
    OutputPlugin,
    PluginError,
    StatusEvent,
    WordEvent,
    bounded,
    secret,
)

log = logging.getLogger(__name__)

#: Seconds stop() waits, after the drain, for the sender thread and then for the broker to
#: take the explicit ``offline``; part of :attr:`MqttPlugin.stop_timeout`.
SENDER_JOIN_S = 1.0
OFFLINE_WAIT_S = 2.0


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
    port: int = bounded(0, ge=0, le=65535)
    topic_prefix: str = "edge-arasl"
    #: Identifies this device in every topic; empty: the daemon's device id (the hostname).
    device_id: str = ""
    qos: int = bounded(1, ge=0, le=2)
    username: str = ""
    password: str = secret()
    tls: TlsSettings = field(default_factory=TlsSettings)
    #: MQTT carries it in 16 bits; 0 (no pings) would leave a dead broker unnoticed.
    keepalive: int = bounded(30, ge=1, le=65535, unit="s")
    #: Letters and words kept while the broker is unreachable (oldest dropped beyond).
    queue_size: int = bounded(1000, ge=1, le=100_000)
    #: Seconds stop() waits for queued events to reach the broker.
    drain_timeout: float = bounded(5.0, ge=0, le=600, unit="s")
    #: Publish Home Assistant MQTT discovery configs (after every reconnect).
    ha_discovery: bool = False
    ha_discovery_prefix: str = "homeassistant"

    def __post_init__(self) -> None:
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

    @property
    def stop_timeout(self) -> float:
        return self.settings.drain_timeout + SENDER_JOIN_S + OFFLINE_WAIT_S

    def pending(self) -> int:
        return len(self.unsent())

    def start(self) -> None:
        s = self.settings
        self.device_id = s.device_id or self.context.device_id
        base = f"{s.topic_prefix}/{self.device_id}"
        self.topics = {k: f"{base}/{k}" for k in ("letter", "word", "status", "stats")}
        self.dropped = 0
        self.published = 0
        self._seq = 0
        self._queue: deque[_Outgoing] = deque()  # waiting, oldest first
        self._inflight: _Outgoing | None = None  # taken by the sender, until the broker has it
        self._cond = threading.Condition()
        self._connected = False
        self._stopping = False
        self._deadline = float("inf")
        self._acked: deque[int] = deque(maxlen=256)  # mids acked before we learned them
        self._last_error = ""
        self.port = s.port or (8883 if s.tls.enabled else 1883)
        _check_host(s.host, self.port)
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
        self._sender.join(s.drain_timeout + SENDER_JOIN_S)
        left = self.pending()
        if left:
            log.warning(
                "%d letters/words not delivered to MQTT broker %s before stop", left, s.host
            )
        if self._connected:
            info = self.client.publish(self.topics["status"], "offline", qos=1, retain=True)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                info.wait_for_publish(timeout=OFFLINE_WAIT_S)
        self.client.disconnect()
        self.client.loop_stop()
        self._report()

    # -- queue and sender ------------------------------------------------------------------

    def _enqueue(self, kind: str, event: dict[str, Any]) -> None:
        self._seq += 1
        payload = {**event, "device_id": self.device_id, "seq": self._seq, "wall_time": time.time()}
        with self._cond:
            self._queue.append(_Outgoing(self.topics[kind], _json(payload)))
            if len(self._queue) + (self._inflight is not None) > self.settings.queue_size:
                self._queue.popleft()  # the oldest waiting one, never the one in flight
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 100 == 0:
                    log.warning("MQTT queue full: %d oldest events dropped so far", self.dropped)
            self._cond.notify_all()
        self._report()

    def unsent(self) -> list[_Outgoing]:
        """The events the broker does not have yet: the one in flight first, then the queue."""
        with self._cond:
            return [*([self._inflight] if self._inflight else []), *self._queue]

    def _send_loop(self) -> None:
        """Take the oldest event into flight, publish it, wait for the broker to take it."""
        while True:
            with self._cond:
                while not (self._connected and (self._inflight or self._queue)):
                    done = not (self._inflight or self._queue)
                    if self._stopping and (done or time.monotonic() >= self._deadline):
                        return
                    self._cond.wait(0.1)
                if self._inflight is None:  # taken under the lock: no overflow can drop it
                    self._inflight = self._queue.popleft()
                item = self._inflight
            info = self.client.publish(item.topic, item.payload, qos=self.settings.qos)
            with self._cond:
                if self.settings.qos == 0 and info.rc == mqtt.MQTT_ERR_NO_CONN:
                    continue  # not sent: the same one again once connected
                while info.mid not in self._acked:
                    if self._stopping and time.monotonic() >= self._deadline:
                        return
                    self._cond.wait(0.1)
                self._acked.remove(info.mid)
                self._inflight = None
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
        self.context.gauge("queue", len(self._queue) + (self._inflight is not None))
        self.context.gauge("dropped", self.dropped)

    def _discovery_configs(self) -> list[tuple[str, dict[str, Any]]]:
        """Home Assistant entities of this device: the last letter, the current text, and
        whether its source (the camera) delivers."""
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
        entities = {
            ("sensor", "last_letter"): {
                "name": "Last letter",
                "state_topic": self.topics["letter"],
                "json_attributes_topic": self.topics["letter"],
            },
            ("sensor", "text"): {
                "name": "Current text",
                "state_topic": self.topics["stats"],
                "value_template": "{{ value_json.text[-255:] }}",  # HA caps states at 255
            },
            ("binary_sensor", "source"): {
                "name": "Source",
                "device_class": "connectivity",
                "state_topic": self.topics["stats"],
                "value_template": "{{ value_json.source_state }}",
                "payload_on": "ok",
                "payload_off": "lost",
            },
        }
        return [
            (
                f"{s.ha_discovery_prefix}/{component}/{node}/{key}/config",
                {**common, **entity, "unique_id": f"{node}_{key}"},
            )
            for (component, key), entity in entities.items()
        ]


def _check_host(host: str, port: int) -> None:
    """A host name that does not resolve is refused at start; a resolver that is not up yet
    (a Pi still booting) is not: paho keeps retrying."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            log.warning("cannot resolve MQTT broker %s yet (%s); retrying", host, exc.strerror)
            return
        raise PluginError(f"[mqtt] host: cannot resolve {host!r}: {exc.strerror}") from None


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
