"""`edge-arasl listen` against a real mosquitto, fed by the real MQTT plugin of two devices."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from edge_arasl_plugins.mqtt import MqttPlugin, MqttSettings, TlsSettings
from mqtt_broker import MQTT_USERS, free_port

from edge_arasl.plugin import LetterEvent, PluginContext, StatusEvent, WordEvent

MEEM = LetterEvent("meem", "م", 0.97, 1.0, 1.5)
DAL = LetterEvent("dal", "د", 0.91, 2.0, 2.4)
WORD = WordEvent(("meem", "dal"), "مد", 1.0, 2.4)
BA = LetterEvent("ba", "ب", 0.88, 0.5, 0.9)


def device(broker, device_id: str, tmp_path, **settings) -> MqttPlugin:
    """A started MQTT plugin publishing as ``device_id``, once it is connected."""
    gauges: dict[str, dict[str, float]] = {}
    plugin = MqttPlugin(
        MqttSettings(host=broker.host, port=broker.port, **settings),
        PluginContext(
            name="mqtt", device_id=device_id, mode="run", state_dir=tmp_path, gauges=gauges
        ),
    )
    plugin.start()
    deadline = time.monotonic() + 30
    while gauges["mqtt"]["connected"] != 1:  # the plugin reports it through its context
        assert time.monotonic() < deadline, f"{device_id} did not connect"
        time.sleep(0.02)
    return plugin


def listen(broker, *args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen:
    """Start `edge-arasl listen` and return once it has subscribed."""
    cmd = [sys.executable, "-m", "edge_arasl", "listen", "--host", broker.host]
    cmd += ["--port", str(broker.port), *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        text=True,
        encoding="utf-8",
        **popen,
    )
    err = ""
    deadline = time.monotonic() + 60
    while "listening on" not in err:
        ready, _, _ = select.select([proc.stderr], [], [], max(0.0, deadline - time.monotonic()))
        line = proc.stderr.readline() if ready else ""
        if not line:
            proc.kill()
            pytest.fail(f"listen did not subscribe; stderr: {err}{proc.stderr.read()}")
        err += line
    return proc


def finish(proc: subprocess.Popen) -> tuple[list[str], str]:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.splitlines(), err


def by_device(lines: list[str]) -> dict[str, list[tuple[str, str]]]:
    seen: dict[str, list[tuple[str, str]]] = {}
    for line in lines:
        msg = json.loads(line)
        seen.setdefault(msg["device_id"], []).append(
            (msg["type"], msg.get("text", msg.get("status")))
        )
    return seen


def test_fleet_of_two_devices(mosquitto, tmp_path):
    proc = listen(mosquitto, "--json", "--count", "4")
    a = device(mosquitto, "pi-a", tmp_path)
    b = device(mosquitto, "pi-b", tmp_path)
    try:
        a.on_letter(MEEM)
        b.on_letter(BA)
        a.on_letter(DAL)
        a.on_word(WORD)
        lines, _ = finish(proc)
    finally:
        a.stop()
        b.stop()
    assert by_device(lines) == {
        "pi-a": [("status", "online"), ("letter", "م"), ("letter", "د"), ("word", "مد")],
        "pi-b": [("status", "online"), ("letter", "ب")],
    }
    letter = next(json.loads(s) for s in lines if '"letter"' in s and "pi-a" in s)
    assert letter["class"] == "meem"
    assert letter["confidence"] == 0.97
    assert letter["start"] == 1.0 and letter["end"] == 1.5
    assert letter["seq"] == 1
    word = next(json.loads(s) for s in lines if '"word"' in s)
    assert word["classes"] == ["meem", "dal"]


def test_device_filter_and_retained_status(mosquitto, tmp_path):
    a = device(mosquitto, "pi-a", tmp_path)
    b = device(mosquitto, "pi-b", tmp_path)
    gone = device(mosquitto, "pi-gone", tmp_path)
    gone.stop()  # leaves a retained "offline"
    try:
        proc = listen(
            mosquitto, "--json", "--count", "1", "--device", "pi-a", "--device", "pi-gone"
        )
        b.on_letter(BA)
        a.on_word(WORD)
        lines, _ = finish(proc)
    finally:
        a.stop()
        b.stop()
    seen = by_device(lines)
    assert seen == {
        "pi-a": [("status", "online"), ("word", "مد")],  # the retained status came first
        "pi-gone": [("status", "offline")],
    }


def test_human_readable_lines(mosquitto, tmp_path):
    proc = listen(mosquitto, "--count", "2")
    a = device(mosquitto, "pi-a", tmp_path)
    try:
        a.on_letter(MEEM)
        a.on_word(WORD)
        lines, _ = finish(proc)
    finally:
        a.stop()
    assert lines == ["[pi-a] online", "[pi-a] letter م  (meem 0.97)", "[pi-a] word   مد"]


def test_stats_on_request(mosquitto, tmp_path):
    proc = listen(mosquitto, "--stats", "--count", "1")
    a = device(mosquitto, "pi-a", tmp_path)
    try:
        a.on_status(StatusEvent("running", 1.0, frames=300, fps=29.5, letters=3, words=1))
        a.on_letter(BA)
        lines, _ = finish(proc)
    finally:
        a.stop()
    assert lines == [
        "[pi-a] online",
        "[pi-a] stats  running, 29.5 fps, 3 letters, 1 words",
        "[pi-a] letter ب  (ba 0.88)",
    ]


def test_password_from_environment(mosquitto_auth, tmp_path):
    proc = listen(
        mosquitto_auth,
        "--username",
        "viewer",
        "--count",
        "1",
        env={"EDGE_ARASL_MQTT_PASSWORD": MQTT_USERS["viewer"]},
    )
    a = device(mosquitto_auth, "pi-a", tmp_path, username="sensor", password=MQTT_USERS["sensor"])
    try:
        a.on_letter(BA)
        lines, _ = finish(proc)
    finally:
        a.stop()
    assert lines[-1] == "[pi-a] letter ب  (ba 0.88)"


def test_wrong_password_is_a_clear_error(mosquitto_auth):
    cmd = [sys.executable, "-m", "edge_arasl", "listen", "--host", mosquitto_auth.host]
    cmd += ["--port", str(mosquitto_auth.port), "--username", "viewer", "--password", "nope"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "edge-arasl: error: MQTT broker at 127.0.0.1:" in res.stderr
    assert "connection refused: Not authorized" in res.stderr
    assert "Traceback" not in res.stderr


def test_tls(mosquitto_tls, mqtt_certs, tmp_path):
    proc = listen(mosquitto_tls, "--tls", "--ca-file", str(mqtt_certs.ca), "--count", "1")
    tls = TlsSettings(enabled=True, ca_file=str(mqtt_certs.ca))
    a = device(mosquitto_tls, "pi-a", tmp_path, tls=tls)
    try:
        a.on_word(WORD)
        lines, _ = finish(proc)
    finally:
        a.stop()
    assert lines[-1] == "[pi-a] word   مد"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--device", "pi/a"], "--device 'pi/a': must be a topic level without + # /"),
        (["--prefix", "fleet/#"], "--prefix 'fleet/#': must be a non-empty topic"),
        (["--count", "0"], "--count 0: must be >= 1"),
        (["--tls", "--ca-file", "/nonexistent/ca.crt"], "TLS: "),
    ],
)
def test_bad_arguments(args, message):
    res = subprocess.run(
        [sys.executable, "-m", "edge_arasl", "listen", "--port", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_no_broker_is_a_clear_error():
    port = free_port()
    res = subprocess.run(
        [sys.executable, "-m", "edge_arasl", "listen", "--host", "127.0.0.1", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert (
        f"cannot connect to the MQTT broker at 127.0.0.1:{port}: Connection refused" in res.stderr
    )


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a shell does to a job started with `&`


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_it_with_a_clean_disconnect(mosquitto, sig):
    """Also when started in the background of a script, where SIGINT comes in ignored."""
    proc = listen(mosquitto, preexec_fn=_ignore_sigint)
    proc.send_signal(sig)
    finish(proc)
    log = mosquitto.log.read_text()
    client = re.search(r"New client connected from \S+ as (\S+) ", log)
    assert client, log
    assert f"Received DISCONNECT from {client[1]}" in log  # not a dropped socket
    assert f"Client {client[1]} closed its connection" not in log
