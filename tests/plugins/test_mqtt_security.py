"""The MQTT password stays secret, TLS verifies the broker, an overflow spares the in-flight event.

All against a real mosquitto (tests/mqtt_broker.py) and real runs of the daemon.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from commands import edge_arasl
from edge_arasl_plugins.mqtt import MqttSettings
from edge_arasl_plugins.speech import HermesSettings
from mqtt_broker import MQTT_USERS, Subscriber, mqtt_plugin, wait_until

from edge_arasl.errors import UserError
from edge_arasl.plugin import LetterEvent
from edge_arasl.registry import scan
from edge_arasl.settings import from_table, is_secret

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.mp4"
DEVICE = "pi-kitchen"
PASSWORD = MQTT_USERS["sensor"]


def letter(i: int) -> LetterEvent:
    return LetterEvent("ba", "ب", 0.9, float(i), i + 0.5)


# -- the outgoing queue ------------------------------------------------------------------


def test_an_overflow_while_an_event_is_in_flight_drops_the_oldest_waiting_one(mosquitto, tmp_path):
    """Overflow in the sender's window (the head taken, its publish not yet returned).

    The hook fires inside the sender's publish() call of the first letter, so the order is
    fixed, not left to timing: letters 2..4 arrive while letter 1 is in flight.
    """
    sub = Subscriber(mosquitto, f"edge-arasl/{DEVICE}/letter")
    plugin, gauges = mqtt_plugin(mosquitto, tmp_path, queue_size=3)
    plugin.start()
    wait_until(lambda: gauges["mqtt"]["connected"] == 1)
    publish = plugin.client.publish
    seen_in_window: list[int] = []

    def publish_after_overflow(topic, payload=None, *args, **kwargs):
        if topic.endswith("/letter") and not seen_in_window:
            for i in (2, 3, 4):
                plugin.on_letter(letter(i))
            seen_in_window.extend(json.loads(o.payload)["seq"] for o in plugin.unsent())
        return publish(topic, payload, *args, **kwargs)

    plugin.client.publish = publish_after_overflow
    plugin.on_letter(letter(1))
    messages = sub.wait_for(lambda ms: len(ms) >= 3)
    plugin.stop()
    sub.close()
    assert seen_in_window == [1, 3, 4]  # 1 still in flight; 2, the oldest waiting, dropped
    assert [json.loads(m.payload)["seq"] for m in messages] == [1, 3, 4]
    assert plugin.dropped == 1 and plugin.published == 3


# -- the password --------------------------------------------------------------------------


def test_secret_settings_are_left_out_of_reprs_and_errors():
    settings = MqttSettings(username="sensor", password=PASSWORD)
    assert PASSWORD not in repr(settings) and "sensor" in repr(settings)
    assert "hunter2" not in repr(HermesSettings(password="hunter2"))
    with pytest.raises(UserError, match=r"\[mqtt\]\.password: expected str \(value not shown\)"):
        from_table(MqttSettings, {"password": 987654321}, "c.toml: [mqtt]")
    try:
        from_table(MqttSettings, {"password": 987654321}, "c.toml: [mqtt]")
    except UserError as exc:
        assert "987654321" not in str(exc)


def test_every_installed_plugin_declares_its_passwords_secret():
    """A field named like a secret must be declared with ``secret()``, which hides its repr."""

    def named_like_secrets(cls) -> list[dataclasses.Field]:
        hints = typing.get_type_hints(cls)
        found = []
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                found += named_like_secrets(hints[f.name])
            elif any(word in f.name for word in ("password", "secret", "token")):
                found.append(f)
        return found

    plugins = [e.cls for e in scan().values() if e.cls is not None]
    fields = [f for cls in plugins for f in named_like_secrets(cls.Settings)]
    assert len(fields) == 2  # [mqtt] password and [speech.hermes] password
    assert [f.name for f in fields if not is_secret(f) or f.repr] == []


def write_config(tmp_path: Path, broker_port: int) -> Path:
    """A daemon config playing the demo video, publishing to MQTT with the password."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[source]\nkind = "video"\npath = "{DEMO}"\nloop = true\n'
        f'[service]\nstate_dir = "{tmp_path / "state"}"\nstatus_interval = 0.2\n'
        f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker_port}\n'
        f'username = "sensor"\npassword = "{PASSWORD}"\n'
    )
    config.chmod(0o600)
    return config


@pytest.fixture
def password_config(tmp_path: Path) -> Path:
    return write_config(tmp_path, 1883)


def test_the_password_is_in_no_output_of_a_real_daemon_run(tmp_path, mosquitto_auth):
    password_config = write_config(tmp_path, mosquitto_auth.port)
    state = tmp_path / "state"
    sub = Subscriber(mosquitto_auth, "edge-arasl/+/letter", username="viewer", password="view-pass")
    command = ["--log-level", "debug", "run", "--config", str(password_config)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge_arasl", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        sub.wait_for(lambda ms: len(ms) >= 1, timeout=120)  # it logged in and published
        wait_until(lambda: (state / "status.json").exists())
        status = [
            edge_arasl("status", "--state-dir", str(state)),
            edge_arasl("status", "--state-dir", str(state), "--json"),
            edge_arasl("--log-level", "debug", "config", "check", str(password_config)),
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        sub.close()
    assert proc.returncode == 0, err
    assert "connected to MQTT broker" in err  # the debug log is there, and has no password
    status_json = (state / "status.json").read_text()
    assert json.loads(status[1].stdout)["plugins"] == ["mqtt"]
    texts = [out, err, status_json, *(r.stdout + r.stderr for r in status)]
    assert not [t for t in texts if PASSWORD in t]


def test_a_refused_password_is_not_in_the_error(tmp_path, mosquitto_auth, caplog):
    wrong = "wr0ng-" + PASSWORD
    plugin, _ = mqtt_plugin(mosquitto_auth, tmp_path, username="sensor", password=wrong)
    with caplog.at_level(logging.DEBUG):
        plugin.start()
        wait_until(lambda: "refused" in caplog.text)
        plugin.stop()
    assert wrong not in caplog.text and wrong not in repr(plugin.settings)


# -- the config file's mode ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "warns"), [(0o644, True), (0o604, True), (0o600, False), (0o640, False)]
)
def test_a_config_with_a_password_others_can_read_warns_once(password_config, mode, warns):
    password_config.chmod(mode)  # 0640: the group is our own (the service's setup)
    result = edge_arasl("config", "check", str(password_config))
    assert result.returncode == 0, result.stderr
    warning = f"{password_config} holds a password and other users can read it"
    assert (warning in result.stderr) is warns
    if warns:
        (line,) = [line for line in result.stderr.splitlines() if warning in line]
        assert line.endswith(f"(mode {mode:04o}): chmod 600 {password_config}")


def test_a_group_readable_config_of_another_group_warns(password_config):
    if os.geteuid() != 0:
        pytest.skip("changing a file's group to one we are not in needs root")
    os.chown(password_config, -1, os.getegid() + 1)
    password_config.chmod(0o640)
    assert "other users can read it" in edge_arasl("config", "check", str(password_config)).stderr


def test_a_readable_config_without_a_password_does_not_warn(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[mqtt]\nusername = "sensor"\npassword = ""\n')
    config.chmod(0o644)
    assert "chmod" not in edge_arasl("config", "check", str(config)).stderr


# -- TLS -----------------------------------------------------------------------------------


def test_tls_verifies_the_broker_by_default(mosquitto_tls, mqtt_certs, tmp_path, caplog):
    """A self-signed broker: refused with the system CAs, accepted with its CA given."""
    default, gauges = mqtt_plugin(mosquitto_tls, tmp_path, tls={"enabled": True}, drain_timeout=0.2)
    with caplog.at_level(logging.ERROR, logger="edge_arasl_plugins.mqtt"):
        default.start()
        wait_until(lambda: "cannot reach" in caplog.text)
        default.stop()
    assert gauges["mqtt"]["connected"] == 0
    trusted, gauges = mqtt_plugin(
        mosquitto_tls, tmp_path, tls={"enabled": True, "ca_file": str(mqtt_certs.ca)}
    )
    trusted.start()
    wait_until(lambda: gauges["mqtt"]["connected"] == 1)
    trusted.stop()


def test_listen_verifies_the_broker_by_default(mosquitto_tls, mqtt_certs):
    where = ["listen", "--host", mosquitto_tls.host, "--port", str(mosquitto_tls.port), "--tls"]
    refused = edge_arasl(*where, "--count", "1")
    assert refused.returncode == 2
    assert "certificate verify failed" in refused.stderr and "Traceback" not in refused.stderr
    accepted = subprocess.Popen(
        [sys.executable, "-m", "edge_arasl", *where, "--ca-file", str(mqtt_certs.ca)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = ""
        while "listening on" not in line:
            line = accepted.stderr.readline()
            assert line, "listen with the CA did not subscribe"
    finally:
        accepted.send_signal(signal.SIGINT)
        accepted.communicate(timeout=30)
