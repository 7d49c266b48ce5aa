"""``edge-arasl listen``: watch a fleet's letters and words on an MQTT broker.

Subscribes to ``{prefix}/{device}/letter``, ``/word`` and ``/status`` (``+`` for every device)
as the MQTT plugin publishes them (docs/mqtt.md), and prints one line per message, per device.
The retained ``status`` topics make every known device show up as online or offline at once.

paho's network thread does the MQTT work; the main thread only waits, so SIGINT and SIGTERM
(also when a shell started ``listen`` in the background with SIGINT ignored) end it with a
clean DISCONNECT instead of interrupting paho halfway through a packet.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from edge_arasl.errors import UserError
from edge_arasl.signals import StopSignals

log = logging.getLogger("edge_arasl.listen")

KINDS = ("letter", "word", "status")
PASSWORD_ENV = "EDGE_ARASL_MQTT_PASSWORD"
#: How often the waiting main thread looks at the flag a signal sets (seconds).
SIGNAL_POLL_S = 0.1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "listen",
        help="print the letters and words devices publish over MQTT",
        description="Subscribe to a broker and print, per device, the letters, words and "
        "online/offline status that edge-arasl daemons publish. Ctrl-C to stop.",
    )
    p.add_argument("--host", default="localhost", help="broker host (default: localhost)")
    p.add_argument("--port", type=int, default=0, help="broker port (default: 1883, TLS 8883)")
    p.add_argument("--prefix", default="edge-arasl", help="topic prefix (default: edge-arasl)")
    p.add_argument(
        "--device",
        action="append",
        metavar="ID",
        help="only this device id (repeat for several; default: every device)",
    )
    p.add_argument("--stats", action="store_true", help="also print the periodic stats")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--count", type=int, metavar="N", help="exit after N letters and words")
    auth = p.add_argument_group("authentication and TLS")
    auth.add_argument("--username", default="", help="broker user name")
    auth.add_argument(
        "--password",
        default=os.environ.get(PASSWORD_ENV, ""),
        help=f"broker password (default: ${PASSWORD_ENV}, which keeps it out of `ps`)",
    )
    auth.add_argument("--tls", action="store_true", help="connect with TLS")
    auth.add_argument("--ca-file", default="", help="CA certificate(s) of the broker (TLS)")
    auth.add_argument("--cert-file", default="", help="client certificate (TLS)")
    auth.add_argument("--key-file", default="", help="client private key (TLS)")
    p.set_defaults(func=run, stop_signals=True)  # takes over signals caught while starting


def topics(prefix: str, devices: list[str] | None, stats: bool) -> list[str]:
    """The topic filters to subscribe to."""
    if not prefix or any(ch in prefix for ch in "+#"):
        raise UserError(f"--prefix {prefix!r}: must be a non-empty topic without + or #")
    for device in devices or []:
        if not device or any(ch in device for ch in "+#/"):
            raise UserError(f"--device {device!r}: must be a topic level without + # /")
    kinds = [*KINDS, "stats"] if stats else list(KINDS)
    return [f"{prefix}/{d}/{k}" for d in (devices or ["+"]) for k in kinds]


def parse_message(prefix: str, topic: str, payload: bytes | bytearray) -> dict[str, Any] | None:
    """``{"device_id", "type", ...}`` for one message; None for topics that are not ours."""
    head = prefix + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    if len(parts) != 2 or parts[1] not in (*KINDS, "stats"):
        return None
    device, kind = parts
    text = payload.decode("utf-8", errors="replace")
    if kind == "status":
        return {"device_id": device, "type": "status", "status": text}
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {"device_id": device, "type": "invalid", "topic": topic, "payload": text[:200]}
    if not isinstance(data, dict):
        return {"device_id": device, "type": "invalid", "topic": topic, "payload": text[:200]}
    return {**data, "device_id": device, "type": kind}


def format_line(msg: dict[str, Any]) -> str:
    """One human-readable line; the Arabic text is printed as is (logical order)."""
    device = f"[{msg['device_id']}]"
    kind = msg["type"]
    if kind == "letter":
        conf = msg.get("confidence")
        conf_text = f" {conf:.2f}" if isinstance(conf, (int, float)) else ""
        return f"{device} letter {msg.get('text', '?')}  ({msg.get('class', '?')}{conf_text})"
    if kind == "word":
        return f"{device} word   {msg.get('text', '?')}"
    if kind == "status":
        return f"{device} {msg['status']}"
    if kind == "stats":
        return (
            f"{device} stats  {msg.get('state', '?')}, {float(msg.get('fps', 0)):.1f} fps,"
            f" {msg.get('letters', 0)} letters, {msg.get('words', 0)} words"
        )
    return f"{device} unreadable message on {msg.get('topic')}: {msg.get('payload')!r}"


class Listener:
    """The subscriber: connects, subscribes, prints; stops after ``count`` events if given."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.port = args.port or (8883 if args.tls else 1883)
        self.filters = topics(args.prefix, args.device, args.stats)
        self.seen: Counter[str] = Counter()
        self.error: str | None = None
        self.failure: Exception | None = None  # raised by a callback, re-raised in run()
        self.connected_once = False
        self.done = threading.Event()  # set from paho's thread: --count reached or an error
        self.stopping = False  # set by a signal handler: a flag only, never a lock
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="")
        if args.username:
            self.client.username_pw_set(args.username, args.password or None)
        if args.tls or args.ca_file or args.cert_file:
            try:
                self.client.tls_set(
                    ca_certs=args.ca_file or None,
                    certfile=args.cert_file or None,
                    keyfile=args.key_file or None,
                )
            except (OSError, ValueError) as exc:
                raise UserError(f"TLS: {exc}") from None
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._guarded(self._on_connect)
        self.client.on_disconnect = self._guarded(self._on_disconnect)
        self.client.on_subscribe = self._guarded(self._on_subscribe)
        self.client.on_message = self._guarded(self._on_message)

    def run(self, signals: StopSignals) -> int:
        """Connect, then wait in this thread until a signal, ``--count`` or an error."""
        where = f"{self.args.host}:{self.port}"
        try:
            self.client.connect(self.args.host, self.port, keepalive=30)
        except OSError as exc:
            raise UserError(
                f"cannot connect to the MQTT broker at {where}: {_reason(exc)}"
            ) from None
        self.client.loop_start()
        try:
            signals.attach(self)
            while not self.stopping and not self.done.wait(SIGNAL_POLL_S):
                pass
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        if self.failure is not None:
            raise self.failure  # a closed stdout, say: main() knows how to end for it
        if self.error:
            raise UserError(f"MQTT broker at {where}: {self.error}")
        return 0

    def stop(self) -> None:
        """Called by the signal handler, which may have interrupted anything: only a flag."""
        self.stopping = True

    def _guarded(self, callback: Callable[..., None]) -> Callable[..., None]:
        """``callback`` whose exception ends ``listen`` instead of killing paho's thread
        silently and leaving the main thread waiting forever."""

        def call(*args: Any) -> None:
            try:
                callback(*args)
            except Exception as exc:
                self.failure = exc
                self.done.set()

        return call

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if reason.is_failure:
            if not self.connected_once:  # wrong password etc.: retrying will not help
                self.error = f"connection refused: {reason}"
                self.done.set()
            else:
                log.warning("broker refused the reconnection: %s; retrying", reason)
            return
        if self.connected_once:
            log.warning("reconnected to %s:%d", self.args.host, self.port)
        self.connected_once = True
        client.subscribe([(t, 1) for t in self.filters])

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        if self.connected_once and reason.is_failure:
            log.warning(
                "disconnected from %s:%d (%s); reconnecting", self.args.host, self.port, reason
            )

    def _on_subscribe(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reasons: list[ReasonCode],
        _props: Any,
    ) -> None:
        if any(r.is_failure for r in reasons):
            self.error = f"subscription refused: {', '.join(str(r) for r in reasons)}"
            self.done.set()
            return
        log.info("listening on %s:%d to %s", self.args.host, self.port, " ".join(self.filters))

    def _on_message(self, _client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        msg = parse_message(self.args.prefix, message.topic, message.payload)
        if msg is None or self.done.is_set():  # nothing printed past --count or an error
            return
        line = json.dumps(msg, ensure_ascii=False) if self.args.json else format_line(msg)
        print(line, flush=True)
        self.seen[msg["type"]] += 1
        count = self.args.count
        if count is not None and self.seen["letter"] + self.seen["word"] >= count:
            self.done.set()


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def run(args: argparse.Namespace) -> int:
    if args.count is not None and args.count < 1:
        raise UserError(f"--count {args.count}: must be >= 1")
    with StopSignals() as signals:
        return Listener(args).run(signals)
