"""Soak test: the daemon with every output plugin that can run here, for a long time.

Runs by hand (nothing here is asserted by tests)::

    nice -n 5 python benchmarks/soak.py --duration 3600 --out soak-out \\
        --summary benchmarks/results/soak.json

It starts a mosquitto on a free loopback port and ``edge-arasl run`` on a config that plays
``examples/demo.mp4`` in a loop (``[source] kind = "video"``, ``loop = true``) with mqtt,
eventlog, srt, metrics, overlay, video (rotated every ``--rotate`` s) and, when espeak-ng is
installed, speech (into WAV files) enabled; a real MQTT client counts the letters and words
that reach the broker. Every ``--interval`` seconds it samples the daemon's resident memory
(``/proc/PID/status``), open file descriptors (``/proc/PID/fd``), threads, and from
``status.json`` the frames, dropped frames, frame rate and plugin queue depths, and fetches
``/metrics`` once. Samples go to ``samples.csv`` line by line, so a run that is killed keeps
them. At the end (or on SIGINT/SIGTERM) the daemon gets SIGTERM and the summary is written to
``summary.json`` (and ``--summary``): resident memory after the warm-up and at the end, its
growth and slope, descriptor min/max, mean frame rate, dropped frames, events.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_pipeline import machine, machine_line

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo.mp4"
#: Seconds the daemon may take to stop on SIGTERM before the soak kills it.
STOP_TIMEOUT = 30.0
COLUMNS = (
    "elapsed_s", "rss_kb", "fds", "threads", "frames", "frames_dropped", "fps", "letters",
    "words", "mqtt_queue", "mqtt_dropped", "speech_queue", "plugin_frames_dropped",
    "plugin_errors", "mqtt_letters_received", "metrics_ok",
)  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def mosquitto(folder: Path) -> Iterator[int]:
    """A throw-away anonymous broker on a free loopback port; yields the port."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = folder / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"mosquitto did not start on port {port}") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


class Counter:
    """A real MQTT client counting the letters and words the daemon publishes."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt

        self.letters = 0
        self.words = 0
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-counter")
        self.client.on_connect = lambda c, *_: c.subscribe("edge-arasl/+/+", qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        with self._lock:
            if message.topic.endswith("/letter"):
                self.letters += 1
            elif message.topic.endswith("/word"):
                self.words += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def write_config(out: Path, video: Path, mqtt_port: int, metrics_port: int, rotate: float) -> Path:
    """The daemon's config: the looping video and every plugin that can run on this machine."""
    speech = (
        f'[speech]\nenabled = true\nwav_dir = "{out / "speech"}"\n'
        if shutil.which("espeak-ng")
        else ""
    )
    config = out / "config.toml"
    config.write_text(
        f'[source]\nkind = "video"\npath = "{video}"\nloop = true\n'
        f'[service]\ndevice_id = "soak"\nstate_dir = "{out / "state"}"\n'
        f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {mqtt_port}\n'
        f'[eventlog]\nenabled = true\npath = "{out / "events.jsonl"}"\nstatus = true\n'
        f'[srt]\nenabled = true\npath = "{out / "subtitles.srt"}"\n'
        f"[metrics]\nenabled = true\nport = {metrics_port}\n"
        f'[overlay]\nenabled = true\npath = "{out / "overlay.jpg"}"\n'
        f'[video]\nenabled = true\npath = "{out / "video-%Y%m%d-%H%M%S.mp4"}"\n'
        f"rotate_seconds = {rotate}\n" + speech
    )
    return config


def proc_field(pid: int, name: str) -> int:
    """An integer field of /proc/PID/status (``VmRSS`` in kB, ``Threads``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def read_status(state: Path) -> dict[str, Any]:
    try:
        return json.loads((state / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def metrics_ok(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
            return int(reply.status == 200 and b"edge_arasl_frames" in reply.read())
    except OSError:
        return 0


def sample(pid: int, elapsed: float, state: Path, counter: Counter, port: int) -> dict[str, Any]:
    status = read_status(state)
    gauges = status.get("plugin_gauges", {})
    return {
        "elapsed_s": round(elapsed, 1),
        "rss_kb": proc_field(pid, "VmRSS"),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": proc_field(pid, "Threads"),
        "frames": status.get("frames", 0),
        "frames_dropped": status.get("frames_dropped", 0),
        "fps": round(status.get("fps", 0.0), 2),
        "letters": status.get("letters", 0),
        "words": status.get("words", 0),
        "mqtt_queue": gauges.get("mqtt", {}).get("queue", 0),
        "mqtt_dropped": gauges.get("mqtt", {}).get("dropped", 0),
        "speech_queue": gauges.get("speech", {}).get("queue", 0),
        "plugin_frames_dropped": sum(status.get("plugin_frames_dropped", {}).values()),
        "plugin_errors": sum(status.get("plugin_errors", {}).values()),
        "mqtt_letters_received": counter.letters,
        "metrics_ok": metrics_ok(port),
    }


def summarise(rows: list[dict[str, Any]], warmup: float) -> dict[str, Any]:
    """Figures after the warm-up: memory growth and slope, descriptors, frame rate, drops."""
    if not rows:
        return {"samples": 0}
    steady = [r for r in rows if r["elapsed_s"] >= warmup] or rows[-1:]
    first, last = steady[0], rows[-1]
    rss_growth_mb = (last["rss_kb"] - first["rss_kb"]) / 1024
    slope = None
    if len(steady) >= 3:
        hours = [r["elapsed_s"] / 3600 for r in steady]
        slope = statistics.linear_regression(hours, [r["rss_kb"] / 1024 for r in steady]).slope
    return {
        "samples": len(rows),
        "seconds": last["elapsed_s"],
        "warmup_s": warmup,
        "rss_mb_after_warmup": round(first["rss_kb"] / 1024, 1),
        "rss_mb_end": round(last["rss_kb"] / 1024, 1),
        "rss_mb_max": round(max(r["rss_kb"] for r in steady) / 1024, 1),
        "rss_growth_mb": round(rss_growth_mb, 2),
        "rss_slope_mb_per_hour": None if slope is None else round(slope, 2),
        "fds_min": min(r["fds"] for r in steady),
        "fds_max": max(r["fds"] for r in steady),
        "threads_min": min(r["threads"] for r in steady),
        "threads_max": max(r["threads"] for r in steady),
        "fps_mean": round(statistics.fmean(r["fps"] for r in steady), 2),
        "frames": last["frames"],
        "frames_dropped": last["frames_dropped"],
        "letters": last["letters"],
        "words": last["words"],
        "mqtt_letters_received": last["mqtt_letters_received"],
        "mqtt_queue_max": max(r["mqtt_queue"] for r in rows),
        "mqtt_dropped": last["mqtt_dropped"],
        "speech_queue_max": max(r["speech_queue"] for r in rows),
        "plugin_frames_dropped": last["plugin_frames_dropped"],
        "plugin_errors": last["plugin_errors"],
        "metrics_failures": sum(1 for r in rows if not r["metrics_ok"]),
    }


def stop_daemon(proc: subprocess.Popen) -> dict[str, Any]:
    """SIGTERM, as systemd stops it: the exit code and how long the stop took."""
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    return {"exit_code": code, "stop_seconds": round(time.monotonic() - began, 2)}


def soak(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    with mosquitto(out) as mqtt_port:
        metrics_port = free_port()
        config = write_config(out, args.video, mqtt_port, metrics_port, args.rotate)
        counter = Counter(mqtt_port)
        log = (out / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "edge_arasl", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        rows: list[dict[str, Any]] = []
        began = time.monotonic()
        result: dict[str, Any] = {}
        try:
            with (out / "samples.csv").open("w", newline="") as f:
                writer = csv.DictWriter(f, COLUMNS)
                writer.writeheader()
                while (elapsed := time.monotonic() - began) < args.duration:
                    time.sleep(min(args.interval, max(args.duration - elapsed, 0.1)))
                    if daemon.poll() is not None:
                        result["died"] = f"daemon exited with {daemon.returncode}"
                        break
                    row = sample(daemon.pid, time.monotonic() - began, out / "state", counter,
                                 metrics_port)  # fmt: skip
                    rows.append(row)
                    writer.writerow(row)
                    f.flush()
        except KeyboardInterrupt:
            result["interrupted"] = True
        finally:
            if daemon.poll() is None:
                result.update(stop_daemon(daemon))
            log.close()
            time.sleep(1.0)  # the last queued messages reach the counter
            counter.close()
    summary = summarise(rows, args.warmup)
    final = read_status(out / "state")  # written once more as the daemon stopped
    summary.update(
        {k: final[k] for k in ("frames", "frames_dropped", "letters", "words") if k in final}
    )
    summary["mqtt_letters_received"] = counter.letters
    summary["mqtt_words_received"] = counter.words
    return {**summary, **result}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=3600.0, help="seconds (default 3600)")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before the baseline")
    p.add_argument("--rotate", type=float, default=600.0, help="[video] rotate_seconds")
    p.add_argument("--video", type=Path, default=DEMO, help="looped source video")
    p.add_argument("--out", type=Path, help="output folder (default: a temporary one)")
    p.add_argument("--summary", type=Path, help="also write the summary JSON here")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="edge-arasl-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a killed soak still summarises
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    info = machine()
    summary = {"started": started, "duration_s": args.duration, "machine": info}
    summary.update(soak(args, out))
    summary["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(summary, indent=2) + "\n"
    (out / "summary.json").write_text(text)
    if args.summary:
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(text)
    print(f"{machine_line(info)}; output in {out}")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
