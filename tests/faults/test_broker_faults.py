"""The daemon's MQTT output across a broker that is down at start and killed mid-run.

The plugin-level cases (a restart between two events, the queue bound) are in
tests/plugins/test_mqtt.py; here the whole daemon runs, and what a real subscriber receives is
compared with the daemon's own event log, letter by letter and word by word.
"""

from __future__ import annotations

import json
import os
import signal

from child import DEMO, of_type, read_events, write_config
from mqtt_broker import Broker, Subscriber

DEVICE = "faults"
TOPICS = f"edge-arasl/{DEVICE}/+"


def kill(broker: Broker) -> None:
    """SIGKILL: no goodbye to the clients, no last save of the broker's state."""
    assert broker.process is not None
    os.kill(broker.process.pid, signal.SIGKILL)
    broker.process.wait()
    broker.process = None


def first_seen(messages, suffix: str) -> list[dict]:
    """Payloads on ``.../suffix`` in arrival order, each ``seq`` once (QoS 1: at least once)."""
    seen: set[int] = set()
    out = []
    for message in messages:
        if message.topic.endswith(suffix):
            payload = json.loads(message.payload)
            if payload["seq"] not in seen:
                seen.add(payload["seq"])
                out.append(payload)
    return out


def test_broker_down_at_start_and_killed_mid_run_loses_nothing_and_keeps_order(child, tmp_path):
    (tmp_path / "broker").mkdir()
    broker = Broker(tmp_path / "broker", persistence=True)
    # A durable subscription, saved by the broker: it queues for it while the client is away.
    broker.start()
    Subscriber(broker, TOPICS, client_id="durable", clean_session=False).close()
    broker.stop()

    events = tmp_path / "events.jsonl"
    config = write_config(
        tmp_path / "config.toml",
        source={"kind": "video", "path": DEMO, "loop": True},
        service={"device_id": DEVICE, "state_dir": tmp_path / "state", "status_interval": 0.2},
        mqtt={"enabled": True, "host": broker.host, "port": broker.port},
        eventlog={"enabled": True, "path": events},
    )
    daemon = child("run", "--config", str(config))

    def letters() -> int:
        return len(of_type(read_events(events), "letter"))

    sub = None
    try:
        daemon.wait_until(lambda: letters() >= 2, "letters while the broker is down")
        broker.start()
        sub = Subscriber(broker, TOPICS, client_id="durable", clean_session=False)
        sub.wait_for(lambda ms: len(first_seen(ms, "/letter")) >= 2, timeout=60)

        kill(broker)
        killed_at = letters()
        daemon.wait_until(lambda: letters() >= killed_at + 2, "letters while the broker is dead")
        broker.start()
        daemon.wait_until(
            lambda: daemon.log_text().count("connected to MQTT broker") >= 2, "the reconnection"
        )
        reconnected_at = letters()
        daemon.wait_until(lambda: letters() >= reconnected_at + 2, "letters after the restart")
        code, _seconds, _out = daemon.stop(signal.SIGTERM)
        assert code == 0, daemon.log_text()

        logged = read_events(events)
        want_letters = [(e["class"], e["start"]) for e in of_type(logged, "letter")]
        want_words = [e["raw_classes"] for e in of_type(logged, "word")]
        messages = sub.wait_for(
            lambda ms: (
                len(first_seen(ms, "/letter")) >= len(want_letters)
                and len(first_seen(ms, "/word")) >= len(want_words)
            ),
            timeout=30,
        )
    finally:
        if sub is not None:
            sub.close()
        broker.stop()
    got_letters = first_seen(messages, "/letter")
    assert [(p["class"], p["start"]) for p in got_letters] == want_letters
    assert [p["raw_classes"] for p in first_seen(messages, "/word")] == want_words
    assert want_words  # the word open at the stop was closed and delivered too
    assert "not delivered" not in daemon.log_text()
