"""The MQTT publisher against a real mosquitto (fixtures in tests/mqtt_broker.py)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from edge_arasl_plugins.mqtt import MqttSettings
from mqtt_broker import MQTT_USERS, Broker, Certs, Subscriber, make_certs, mqtt_plugin, wait_until

from edge_arasl.errors import UserError
from edge_arasl.plugin import LetterEvent, PluginError, StatusEvent, WordEvent
from edge_arasl.settings import bounds, from_table

DEVICE = "pi-kitchen"
PREFIX = f"edge-arasl/{DEVICE}"

SALAM = [
    LetterEvent("seen", "س", 0.91, 0.4, 0.9),
    LetterEvent("laam", "ل", 0.88, 1.1, 1.6),
    LetterEvent("aleff", "ا", 0.95, 1.8, 2.2),
    LetterEvent("meem", "م", 0.9, 2.4, 2.9),
]
SALAM_WORD = WordEvent(("seen", "laam", "aleff", "meem"), "سلام", 0.4, 2.9)


def retained_status(broker: Broker, device: str = DEVICE, timeout: float = 10.0) -> str:
    """What a client connecting now is told about the device's availability.

    A subscription made while the device is still publishing it gets the message live, not
    retained; it subscribes again until the broker holds a retained one.
    """
    deadline = time.monotonic() + timeout
    while True:
        sub = Subscriber(broker, f"edge-arasl/{device}/status")
        try:
            first = sub.wait_for(lambda ms: len(ms) >= 1, timeout=5)[0]
        finally:
            sub.close()
        if first.retain:
            return first.payload.decode()
        assert time.monotonic() < deadline, "the broker holds no retained status"


def payloads(messages) -> list[dict]:
    return [json.loads(m.payload) for m in messages]


def test_letters_and_words_are_published_as_raw_unicode_json_in_order(mosquitto, tmp_path):
    sub = Subscriber(mosquitto, f"{PREFIX}/#")
    plugin, gauges = mqtt_plugin(mosquitto, tmp_path)
    plugin.start()
    for letter in SALAM:
        plugin.on_letter(letter)
    plugin.on_word(SALAM_WORD)
    plugin.stop()

    events = sub.wait_for(lambda ms: len([m for m in ms if m.topic.endswith("/word")]) == 1)
    letters = payloads(m for m in events if m.topic == f"{PREFIX}/letter")
    assert [p["text"] for p in letters] == ["س", "ل", "ا", "م"]
    assert letters[0] == {
        **SALAM[0].to_dict(), "device_id": DEVICE, "seq": 1, "wall_time": letters[0]["wall_time"]
    }  # fmt: skip
    (word,) = payloads(sub.on("/word"))
    assert word["text"] == "سلام" and word["classes"] == ["seen", "laam", "aleff", "meem"]
    assert word["seq"] == 5
    raw = sub.on("/word")[0].payload
    assert "سلام".encode() in raw  # raw UTF-8, not \\u escapes, not presentation forms
    assert [m.qos for m in sub.on("/letter")] == [1] * 4
    assert not any(m.retain for m in sub.on("/letter"))
    assert gauges["mqtt"]["queue"] == 0 and gauges["mqtt"]["dropped"] == 0
    sub.close()


def test_status_is_retained_online_then_offline_after_clean_stop(mosquitto, tmp_path):
    plugin, gauges = mqtt_plugin(mosquitto, tmp_path)
    plugin.start()
    wait_until(lambda: gauges["mqtt"]["connected"] == 1)
    wait_until(lambda: retained_status(mosquitto) == "online")  # published just after connecting
    plugin.stop()
    assert retained_status(mosquitto) == "offline"
    assert gauges["mqtt"]["connected"] == 0


VICTIM = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from edge_arasl.plugin import PluginContext
    from edge_arasl.settings import from_table
    from edge_arasl_plugins.mqtt import MqttPlugin, MqttSettings

    gauges = {}
    settings = from_table(MqttSettings, {"host": "127.0.0.1", "port": int(sys.argv[1])}, "x")
    context = PluginContext(name="mqtt", device_id=sys.argv[2], mode="run",
                            state_dir=Path("."), gauges=gauges)
    MqttPlugin(settings, context).start()
    while gauges["mqtt"]["connected"] != 1:
        time.sleep(0.02)
    print("connected", flush=True)
    time.sleep(60)
    """
)


def test_last_will_marks_a_killed_client_offline(mosquitto):
    proc = subprocess.Popen(
        [sys.executable, "-c", VICTIM, str(mosquitto.port), DEVICE],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "connected"
        wait_until(lambda: retained_status(mosquitto) == "online")
        sub = Subscriber(mosquitto, f"{PREFIX}/status")
        os.kill(proc.pid, signal.SIGKILL)  # no chance to say goodbye: the broker must
        proc.wait(5)
        messages = sub.wait_for(lambda ms: any(m.payload == b"offline" for m in ms))
        assert messages[-1].payload == b"offline"
        sub.close()
        assert retained_status(mosquitto) == "offline"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def test_broker_restart_mid_run_loses_no_letter_or_word(mosquitto_persistent, tmp_path):
    broker = mosquitto_persistent
    # a durable subscription: the broker keeps messages for it while it is away
    sub = Subscriber(broker, f"{PREFIX}/+", client_id="durable-sub", clean_session=False)
    plugin, gauges = mqtt_plugin(broker, tmp_path)
    plugin.start()
    plugin.on_letter(SALAM[0])
    plugin.on_letter(SALAM[1])
    sub.wait_for(lambda ms: len(ms) >= 2)

    broker.stop()
    wait_until(lambda: gauges["mqtt"]["connected"] == 0)
    plugin.on_letter(SALAM[2])  # produced while the broker is down
    plugin.on_letter(SALAM[3])
    plugin.on_word(SALAM_WORD)
    assert gauges["mqtt"]["queue"] >= 3
    broker.start()

    wait_until(lambda: gauges["mqtt"]["connected"] == 1 and gauges["mqtt"]["queue"] == 0, 20)
    plugin.on_word(WordEvent(("meem", "dal", "dal"), "مدد", 3.5, 5.0))
    plugin.stop()
    messages = sub.wait_for(lambda ms: any(b"\xd9\x85\xd8\xaf\xd8\xaf" in m.payload for m in ms))
    sub.close()
    events = payloads(m for m in messages if not m.topic.endswith(("/status", "/stats")))
    seqs = [e["seq"] for e in events]
    first_seen = [s for i, s in enumerate(seqs) if s not in seqs[:i]]  # QoS 1: at least once
    assert first_seen == [1, 2, 3, 4, 5, 6]
    assert [e["text"] for e in events if e["seq"] in (3, 4, 5)][:3] == ["ا", "م", "سلام"]
    assert gauges["mqtt"]["dropped"] == 0


def test_events_queued_before_the_first_connection_are_bounded_and_counted(tmp_path, caplog):
    broker = Broker(tmp_path)  # configured, not started: nothing listens on its port yet
    plugin, gauges = mqtt_plugin(broker, tmp_path, queue_size=3)
    plugin.start()
    with caplog.at_level(logging.WARNING, logger="edge_arasl_plugins.mqtt"):
        for i in range(10):
            plugin.on_letter(LetterEvent("bb", "ب", 0.9, float(i), i + 0.5))
    assert gauges["mqtt"]["dropped"] == 7 and gauges["mqtt"]["queue"] == 3
    assert "dropped" in caplog.text
    sub = None
    try:
        broker.start()
        sub = Subscriber(broker, f"{PREFIX}/letter")
        wait_until(lambda: gauges["mqtt"]["queue"] == 0, 20)
        plugin.stop()
        messages = sub.wait_for(lambda ms: len(ms) >= 3)
        assert [p["seq"] for p in payloads(messages)] == [8, 9, 10]  # the newest, in order
    finally:
        if sub:
            sub.close()
        broker.stop()


def test_stop_gives_up_after_drain_timeout_when_the_broker_is_gone(tmp_path, caplog):
    broker = Broker(tmp_path)
    plugin, _gauges = mqtt_plugin(broker, tmp_path, drain_timeout=0.5)
    plugin.start()
    plugin.on_word(SALAM_WORD)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="edge_arasl_plugins.mqtt"):
        plugin.stop()
    assert time.monotonic() - started < 5
    assert "1 letters/words not delivered" in caplog.text


def test_stats_are_published_from_status_events(mosquitto, tmp_path):
    sub = Subscriber(mosquitto, f"{PREFIX}/stats")
    plugin, gauges = mqtt_plugin(mosquitto, tmp_path)
    plugin.start()
    wait_until(lambda: gauges["mqtt"]["connected"] == 1)
    plugin.on_status(StatusEvent("running", 1700000000.0, frames=300, fps=29.9, text="سلام"))
    (message,) = sub.wait_for(lambda ms: len(ms) == 1)
    stats = json.loads(message.payload)
    assert stats["type"] == "stats" and stats["device_id"] == DEVICE
    assert stats["frames"] == 300 and stats["text"] == "سلام"
    plugin.stop()
    sub.close()


def test_home_assistant_discovery_is_republished_after_a_broker_restart(mosquitto, tmp_path):
    plugin, gauges = mqtt_plugin(mosquitto, tmp_path, ha_discovery=True)
    plugin.start()
    wait_until(lambda: gauges["mqtt"]["connected"] == 1)
    # "connected" is set before the configs reach the broker: the first subscriber may see
    # them published live; one that subscribes after it saw both can only get retained copies
    first = Subscriber(mosquitto, "homeassistant/#")
    first.wait_for(lambda ms: len(ms) == 3)
    first.close()
    sub = Subscriber(mosquitto, "homeassistant/#")
    configs = sub.wait_for(lambda ms: len(ms) == 3)
    sub.close()
    by_topic = {m.topic: json.loads(m.payload) for m in configs}
    node = "edge_arasl_pi_kitchen"
    letter = by_topic[f"homeassistant/sensor/{node}/last_letter/config"]
    text = by_topic[f"homeassistant/sensor/{node}/text/config"]
    source = by_topic[f"homeassistant/binary_sensor/{node}/source/config"]
    assert letter["state_topic"] == f"{PREFIX}/letter"
    assert text["state_topic"] == f"{PREFIX}/stats"
    assert source["state_topic"] == f"{PREFIX}/stats"
    assert source["value_template"] == "{{ value_json.source_state }}"
    assert (source["payload_on"], source["payload_off"]) == ("ok", "lost")
    assert source["device_class"] == "connectivity"
    for config in (letter, text, source):
        assert config["availability_topic"] == f"{PREFIX}/status"
        assert config["device"]["identifiers"] == [node]
    assert len({c["unique_id"] for c in (letter, text, source)}) == 3
    assert all(m.retain for m in configs)

    mosquitto.restart()  # no persistence: the retained configs are gone with the broker
    wait_until(lambda: gauges["mqtt"]["connected"] == 1, 20)
    sub = Subscriber(mosquitto, "homeassistant/#")
    assert len(sub.wait_for(lambda ms: len(ms) == 3)) == 3
    sub.close()
    plugin.stop()


def test_password_authentication(mosquitto_auth, tmp_path, caplog):
    user, password = "sensor", MQTT_USERS["sensor"]
    sub = Subscriber(mosquitto_auth, f"{PREFIX}/#", username="viewer", password="view-pass")
    plugin, _ = mqtt_plugin(mosquitto_auth, tmp_path, username=user, password=password)
    plugin.start()
    plugin.on_word(SALAM_WORD)
    plugin.stop()
    sub.wait_for(lambda ms: any(m.topic.endswith("/word") for m in ms))
    assert payloads(sub.on("/word"))[0]["text"] == "سلام"
    sub.close()


def test_wrong_password_is_reported_and_events_are_kept(mosquitto_auth, tmp_path, caplog):
    plugin, gauges = mqtt_plugin(
        mosquitto_auth, tmp_path, username="sensor", password="nope", drain_timeout=0.2
    )
    with caplog.at_level(logging.ERROR, logger="edge_arasl_plugins.mqtt"):
        plugin.start()
        wait_until(lambda: "refused" in caplog.text)
        plugin.on_letter(SALAM[0])
        assert gauges["mqtt"]["connected"] == 0
        assert gauges["mqtt"]["queue"] == 1  # kept, in case the broker starts accepting us
        plugin.stop()
    assert "Not authorized" in caplog.text or "Bad user name or password" in caplog.text
    assert caplog.text.count("refused") == 1  # once per problem, not once per retry


def _tls_table(certs: Certs, client_cert: bool) -> dict:
    table = {"enabled": True, "ca_file": str(certs.ca)}
    if client_cert:
        table |= {"cert_file": str(certs.client_cert), "key_file": str(certs.client_key)}
    return {"tls": table}


@pytest.mark.parametrize("mutual", [False, True], ids=["server-cert", "client-cert"])
def test_tls(request, mutual, mqtt_certs, tmp_path):
    broker = request.getfixturevalue("mosquitto_mtls" if mutual else "mosquitto_tls")
    sub = Subscriber(broker, f"{PREFIX}/#", certs=mqtt_certs)
    plugin, _gauges = mqtt_plugin(broker, tmp_path, **_tls_table(mqtt_certs, mutual))
    plugin.start()
    plugin.on_letter(SALAM[0])
    plugin.stop()
    messages = sub.wait_for(lambda ms: bool(sub.on("/letter")))
    assert json.loads(next(m for m in messages if m.topic.endswith("/letter")).payload)["text"]
    sub.close()


def test_tls_rejects_a_broker_signed_by_another_ca(mosquitto_tls, tmp_path, caplog):
    other = make_certs(tmp_path / "other-ca")
    table = {**_tls_table(other, False), "drain_timeout": 0.2}
    plugin, gauges = mqtt_plugin(mosquitto_tls, tmp_path, **table)
    with caplog.at_level(logging.ERROR, logger="edge_arasl_plugins.mqtt"):
        plugin.start()
        wait_until(lambda: "cannot reach" in caplog.text)
        plugin.stop()
    assert gauges["mqtt"]["connected"] == 0


def test_unusable_tls_files_fail_at_start_naming_the_file(tmp_path):
    broker = Broker(tmp_path)
    missing, _ = mqtt_plugin(broker, tmp_path, tls={"enabled": True, "ca_file": "/nope/ca.crt"})
    with pytest.raises(PluginError, match=r"tls.ca_file: cannot read /nope/ca.crt"):
        missing.start()
    not_a_cert = tmp_path / "cert.pem"
    not_a_cert.write_text("hello")
    bad, _ = mqtt_plugin(broker, tmp_path, tls={"enabled": True, "cert_file": str(not_a_cert)})
    with pytest.raises(PluginError, match=f"tls: cannot use {not_a_cert}"):
        bad.start()


def test_settings_are_validated():
    with pytest.raises(UserError, match=r"\[mqtt\].tls: unknown key 'ca'"):
        from_table(MqttSettings, {"tls": {"ca": "x"}}, "c.toml: [mqtt]")
    with pytest.raises(UserError, match=r"\[mqtt\]\.qos: must be in \[0, 2\], got 3$"):
        from_table(MqttSettings, {"qos": 3}, "c.toml: [mqtt]")
    with pytest.raises(UserError, match=r"\[mqtt\]\.keepalive: must be in \[1, 65535\] s"):
        from_table(MqttSettings, {"keepalive": 100_000}, "c.toml: [mqtt]")
    with pytest.raises(UserError, match="topic_prefix"):
        from_table(MqttSettings, {"topic_prefix": "a/#"}, "c.toml: [mqtt]")


def test_the_largest_keepalive_the_settings_allow_is_one_paho_and_the_broker_accept(
    mosquitto, tmp_path
):
    top = bounds(MqttSettings)["keepalive"].le
    sub = Subscriber(mosquitto, f"{PREFIX}/letter")
    plugin, _gauges = mqtt_plugin(mosquitto, tmp_path, keepalive=top)
    plugin.start()
    plugin.on_letter(SALAM[0])
    plugin.stop()
    (message,) = sub.wait_for(lambda ms: len(ms) == 1)
    assert json.loads(message.payload)["text"] == "س"
    sub.close()


def test_process_publishes_exactly_the_events_it_prints(mosquitto, demo_video, tmp_path):
    config = tmp_path / "edge-arasl.toml"
    config.write_text(
        f'[mqtt]\nenabled = true\nhost = "{mosquitto.host}"\nport = {mosquitto.port}\n'
        'device_id = "e2e-cam"\n',
        encoding="utf-8",
    )
    sub = Subscriber(mosquitto, "edge-arasl/e2e-cam/#")
    result = subprocess.run(
        [sys.executable, "-m", "edge_arasl", "process", str(demo_video), "--json",
         "--config", str(config)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    events = [p for p in printed if p["type"] in ("letter", "word")]
    assert len(events) >= 4 and printed[-1]["type"] == "summary"

    def published(messages):
        return [m for m in messages if m.topic.endswith(("/letter", "/word"))]

    messages = published(sub.wait_for(lambda ms: len(published(ms)) >= len(events)))
    sub.close()
    received = sorted(payloads(messages), key=lambda p: p["seq"])
    assert [p["seq"] for p in received] == list(range(1, len(events) + 1))
    assert all(p.pop("device_id") == "e2e-cam" for p in received)
    for p in received:
        del p["seq"], p["wall_time"]
    assert received == events  # one for one, same fields, same values
    kinds = sorted(messages, key=lambda m: json.loads(m.payload)["seq"])
    assert [m.topic.rsplit("/", 1)[1] for m in kinds] == [e["type"] for e in events]
    assert retained_status(mosquitto, "e2e-cam") == "offline"


def test_a_host_that_does_not_resolve_fails_at_start(tmp_path):
    broker = Broker(tmp_path)
    plugin, _ = mqtt_plugin(broker, tmp_path, host="no-such-broker.invalid")
    with pytest.raises(
        PluginError, match=r"^\[mqtt\] host: cannot resolve 'no-such-broker.invalid'"
    ):
        plugin.start()


def test_the_dispatchers_stop_waits_for_the_mqtt_drain_and_the_count_is_real(
    tmp_path, caplog, monkeypatch
):
    from edge_arasl.dispatcher import Dispatcher

    monkeypatch.setattr("edge_arasl.dispatcher.STOP_S", 0.1)  # far below the drain
    broker = Broker(tmp_path)  # never started: nothing is delivered
    plugin, _gauges = mqtt_plugin(broker, tmp_path, drain_timeout=1.0)
    d = Dispatcher([plugin])
    d.start()
    for i in range(27):
        d.publish(LetterEvent("meem", "م", 0.9, float(i), i + 0.5))
    with caplog.at_level(logging.WARNING):
        assert d.stop()  # the dispatcher waited for the plugin's own drain
    assert "27 letters/words not delivered to MQTT broker" in caplog.text
    assert d.failed == {}
