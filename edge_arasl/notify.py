"""The sd_notify protocol, spoken directly over ``$NOTIFY_SOCKET`` (no systemd Python package).

Under ``Type=notify`` systemd waits for ``READY=1`` before it calls the service started, kills
and restarts it when ``WATCHDOG=1`` stops arriving for ``WatchdogSec=``, and shows ``STATUS=``
in ``systemctl status``. Outside systemd (no ``NOTIFY_SOCKET``) every call is a cheap no-op, so
the daemon calls these unconditionally.

The watchdog is fed from the processing loop itself, never from a timer thread: a camera driver
stuck in a read or a model that hangs stops the pings, and systemd restarts the service. (A
camera or stream that is away and being reopened does not: the loop goes on reporting it lost.)
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages; a no-op when the service manager did not ask for them.

    ``socket_path`` is ``$NOTIFY_SOCKET`` (a filesystem path, or ``@name`` for the abstract
    namespace). ``watchdog_usec`` is ``$WATCHDOG_USEC``; :meth:`watchdog` pings at half that
    interval, as ``sd_watchdog_enabled(3)`` recommends. ``clock`` (seconds, monotonic) is
    injectable so tests can step time instead of sleeping.
    """

    def __init__(
        self,
        socket_path: str | None,
        watchdog_usec: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._address = _address(socket_path) if socket_path else None
        self._sock: socket.socket | None = None
        self._clock = clock
        self._last_ping: float | None = None
        self.watchdog_interval = watchdog_usec / 2e6 if watchdog_usec else None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier systemd configured through ``NOTIFY_SOCKET``/``WATCHDOG_USEC``/``_PID``."""
        env = os.environ if environ is None else environ
        usec: int | None = None
        pid = env.get("WATCHDOG_PID")
        if pid in (None, "", str(os.getpid())):  # the watchdog may be meant for another process
            try:
                usec = int(env.get("WATCHDOG_USEC", "")) or None
            except ValueError:
                usec = None
        return cls(env.get("NOTIFY_SOCKET") or None, usec)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=value`` fields in one datagram; False (logged once at debug) on failure."""
        if self._address is None:
            return False
        message = "\n".join(f.replace("\n", " ") for f in fields).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message, self._address)
        except OSError as exc:
            log.debug("sd_notify to %r failed: %s", self._address, exc)
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: start-up (or a reload) is complete."""
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        """``STATUS=``: one line shown by ``systemctl status``."""
        return self.send(f"STATUS={text}")

    def watchdog(self) -> bool:
        """Feed the watchdog if half its interval has passed since the last ping; True if sent.

        Cheap enough to call on every loop iteration.
        """
        if self.watchdog_interval is None or self._address is None:
            return False
        now = self._clock()
        if self._last_ping is not None and now - self._last_ping < self.watchdog_interval:
            return False
        self._last_ping = now
        return self.send("WATCHDOG=1")

    def reloading(self) -> bool:
        """``RELOADING=1`` with ``MONOTONIC_USEC`` (newer systemd uses it to pair the reload)."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}", "STATUS=reloading configuration")

    def stopping(self, status: str = "stopping") -> bool:
        """``STOPPING=1``: shutdown has begun (systemd then waits up to TimeoutStopSec=)."""
        return self.send("STOPPING=1", f"STATUS={status}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _address(socket_path: str) -> str | bytes | None:
    if socket_path.startswith("@"):  # abstract namespace
        return b"\0" + socket_path[1:].encode()
    if socket_path.startswith("/"):
        return socket_path
    log.warning("NOTIFY_SOCKET=%s is not supported (only AF_UNIX); not notifying", socket_path)
    return None
