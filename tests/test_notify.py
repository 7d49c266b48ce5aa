"""sd_notify messages against a fake NOTIFY_SOCKET: a bound AF_UNIX datagram socket."""

from __future__ import annotations

import os
import socket
import time

import pytest

from edge_arasl.notify import Notifier


@pytest.fixture
def notify_socket(tmp_path):
    """(path, receive) where receive() returns the next datagram's fields as a dict."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)

    def receive() -> dict[str, str]:
        data = sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n"))

    def pending() -> bool:
        sock.setblocking(False)
        try:
            sock.recv(4096, socket.MSG_PEEK)
            return True
        except BlockingIOError:
            return False
        finally:
            sock.settimeout(5)

    receive.pending = pending  # type: ignore[attr-defined]
    yield path, receive
    sock.close()


class StepClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ready_status_stopping(notify_socket):
    path, receive = notify_socket
    n = Notifier(path)
    assert n.enabled
    assert n.ready("running: 30.0 fps")
    assert receive() == {"READY": "1", "STATUS": "running: 30.0 fps"}
    assert n.status("two\nlines")  # a newline would start a bogus field
    assert receive() == {"STATUS": "two lines"}
    assert n.stopping()
    assert receive() == {"STOPPING": "1", "STATUS": "stopping"}


def test_reloading_carries_monotonic_usec(notify_socket):
    path, receive = notify_socket
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert Notifier(path).reloading()
    msg = receive()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert msg["RELOADING"] == "1"
    assert before <= int(msg["MONOTONIC_USEC"]) <= after


def test_watchdog_pings_at_half_the_interval(notify_socket):
    path, receive = notify_socket
    clock = StepClock()
    n = Notifier(path, watchdog_usec=10_000_000, clock=clock)  # WatchdogSec=10s
    assert n.watchdog_interval == 5.0
    assert n.watchdog()  # the first call always pings
    assert receive() == {"WATCHDOG": "1"}
    clock.now += 4.9
    assert not n.watchdog()
    assert not receive.pending()
    clock.now += 0.1  # 5.0 s after the last ping
    assert n.watchdog()
    assert receive() == {"WATCHDOG": "1"}
    sent = 0
    for _ in range(600):  # a fast loop over 6 s pings once, it does not flood systemd
        clock.now += 0.01
        sent += n.watchdog()
    assert sent == 1
    assert receive() == {"WATCHDOG": "1"}
    assert not receive.pending()


def test_no_watchdog_without_watchdog_usec(notify_socket):
    path, receive = notify_socket
    n = Notifier(path)
    assert not n.watchdog()
    assert not receive.pending()


def test_from_environ(notify_socket):
    path, _ = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"}
    assert Notifier.from_environ(env).watchdog_interval == 15.0
    env["WATCHDOG_PID"] = str(os.getpid())
    assert Notifier.from_environ(env).watchdog_interval == 15.0
    env["WATCHDOG_PID"] = "1"  # meant for another process
    assert Notifier.from_environ(env).watchdog_interval is None
    assert not Notifier.from_environ({}).enabled


def test_abstract_socket():
    name = f"edge-arasl-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(5)
    try:
        assert Notifier("@" + name).ready()
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_disabled_or_unreachable_is_a_quiet_no_op(tmp_path):
    assert not Notifier(None).ready()
    assert not Notifier(None).watchdog()
    gone = Notifier(str(tmp_path / "nobody-listens.sock"), watchdog_usec=1_000_000)
    assert not gone.ready()  # logged at debug, never raised
    assert not gone.watchdog()
    assert not Notifier("vsock:2:1234").enabled
