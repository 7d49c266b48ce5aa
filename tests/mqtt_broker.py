"""A real mosquitto for tests: a free loopback port, optional password auth and TLS.

``tests/conftest.py`` imports the fixtures from here. The broker is started as a child process
with its own config file and stopped by its PID; ``restart()`` brings it back on the same
port (with ``persistence=True`` it keeps subscriptions and queued messages across that).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

MOSQUITTO_CANDIDATES = ("mosquitto", "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_executable(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"{names[0]} not found: install it (apt install mosquitto) to run the MQTT tests")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Certs:
    """A throw-away CA, a server certificate for localhost/127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certs(directory: Path) -> Certs:
    """Self-signed CA plus server and client certificates, made with the openssl CLI."""
    openssl = find_executable("openssl")
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=edge-arasl test CA")  # fmt: skip
    (directory / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for who in ("server", "client"):
        run("req", *ec, "-keyout", f"{who}.key", "-out", f"{who}.csr", "-subj", f"/CN={who}")
        extra = ["-extfile", "server.ext"] if who == "server" else []
        run("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{who}.crt", "-days", "2", *extra)  # fmt: skip
    d = directory
    return Certs(
        d / "ca.crt", d / "server.crt", d / "server.key", d / "client.crt", d / "client.key"
    )


class Broker:
    """One mosquitto process; ``host``/``port`` to connect, ``stop()``/``restart()`` by PID."""

    host = "127.0.0.1"

    def __init__(
        self,
        directory: Path,
        *,
        users: dict[str, str] | None = None,
        certs: Certs | None = None,
        require_client_cert: bool = False,
        persistence: bool = False,
    ) -> None:
        self.directory = directory
        self.port = free_port()
        self.log = directory / "mosquitto.log"
        self.process: subprocess.Popen | None = None
        lines = [f"listener {self.port} 127.0.0.1", f"log_dest file {self.log}", "log_type all"]
        if os.geteuid() == 0:
            lines.append("user root")  # else mosquitto drops to a user that cannot read tmp files
        if persistence:
            lines += ["persistence true", f"persistence_location {directory}/"]
        if users:
            passwd = directory / "passwd"
            tool = find_executable("mosquitto_passwd")
            for i, (user, password) in enumerate(users.items()):
                create = ["-c"] if i == 0 else []
                subprocess.run([tool, "-b", *create, str(passwd), user, password], check=True)
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        else:
            lines.append("allow_anonymous true")
        if certs:
            lines += [
                f"cafile {certs.ca}",
                f"certfile {certs.server_cert}",
                f"keyfile {certs.server_key}",
                f"require_certificate {'true' if require_client_cert else 'false'}",
            ]
        self.config = directory / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> Broker:
        exe = find_executable(*MOSQUITTO_CANDIDATES)
        self.process = subprocess.Popen(
            [exe, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"mosquitto exited: {err}{self._log_tail()}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}{self._log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def _log_tail(self) -> str:
        return "\n" + self.log.read_text()[-2000:] if self.log.exists() else ""


class Subscriber:
    """A test client that records every message under ``topic`` (thread-safe)."""

    def __init__(
        self,
        broker: Broker,
        topic: str = "#",
        *,
        client_id: str = "",
        clean_session: bool = True,
        username: str = "",
        password: str = "",
        certs: Certs | None = None,
    ) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._cond = threading.Condition()
        self.topic = topic
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"test-sub-{id(self)}",
            clean_session=clean_session,
        )
        if username:
            self.client.username_pw_set(username, password)
        if certs:
            self.client.tls_set(str(certs.ca), str(certs.client_cert), str(certs.client_key))
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not self._subscribed.wait(5):
            raise RuntimeError("test subscriber could not subscribe")

    def _on_connect(self, client, _userdata, _flags, reason, _props) -> None:
        if not reason.is_failure:
            client.subscribe(self.topic, qos=1)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 10.0) -> list[mqtt.MQTTMessage]:
        """Wait until ``predicate(messages)`` is true; returns a copy of the messages."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    topics = [(m.topic, m.payload[:80]) for m in self.messages]
                    raise AssertionError(f"timed out waiting; received: {topics}")
                self._cond.wait(left)
            return list(self.messages)

    def on(self, suffix: str) -> list[mqtt.MQTTMessage]:
        with self._cond:
            return [m for m in self.messages if m.topic.endswith(suffix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mosquitto(tmp_path: Path):
    """An anonymous broker on a free loopback port."""
    broker = Broker(tmp_path).start()
    yield broker
    broker.stop()


@pytest.fixture
def mosquitto_persistent(tmp_path: Path):
    """An anonymous broker that keeps sessions and queued messages across ``restart()``."""
    broker = Broker(tmp_path, persistence=True).start()
    yield broker
    broker.stop()


MQTT_USERS = {"sensor": "s3cret-pass", "viewer": "view-pass"}


@pytest.fixture
def mosquitto_auth(tmp_path: Path):
    """A broker that only accepts the users in ``MQTT_USERS``."""
    broker = Broker(tmp_path, users=MQTT_USERS).start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def mqtt_certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def mosquitto_tls(tmp_path: Path, mqtt_certs: Certs):
    """A TLS-only broker with a certificate signed by ``mqtt_certs.ca``."""
    broker = Broker(tmp_path, certs=mqtt_certs).start()
    yield broker
    broker.stop()


@pytest.fixture
def mosquitto_mtls(tmp_path: Path, mqtt_certs: Certs):
    """A TLS broker that also requires a client certificate signed by the test CA."""
    broker = Broker(tmp_path, certs=mqtt_certs, require_client_cert=True).start()
    yield broker
    broker.stop()


def mqtt_plugin(broker: Broker, state_dir: Path, **table: object) -> tuple[Any, dict]:
    """The real ``[mqtt]`` plugin set up for ``broker`` as device ``pi-kitchen``; its gauges."""
    from edge_arasl_plugins.mqtt import MqttPlugin, MqttSettings

    from edge_arasl.plugin import PluginContext
    from edge_arasl.settings import from_table

    gauges: dict[str, dict[str, float]] = {}
    context = PluginContext(
        name="mqtt", device_id="pi-kitchen", mode="run", state_dir=state_dir, gauges=gauges
    )
    settings = from_table(
        MqttSettings, {"host": broker.host, "port": broker.port, **table}, "test.toml: [mqtt]"
    )
    return MqttPlugin(settings, context), gauges


def wait_until(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)
