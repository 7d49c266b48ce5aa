"""examples/mosquitto-bridge.conf, run for real: a site broker bridged to a central one.

The example is used as written except for what only exists in production: the central address
becomes a loopback port without TLS or account, and the timings and ports are shortened.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from edge_arasl_plugins.mqtt import MqttPlugin, MqttSettings
from mqtt_broker import Broker, Subscriber

from edge_arasl.plugin import LetterEvent, PluginContext, WordEvent

EXAMPLE = Path(__file__).parent.parent / "examples" / "mosquitto-bridge.conf"
PRODUCTION_ONLY = ("bridge_cafile", "remote_username", "remote_password")


def bridge_config(central: Broker) -> str:
    lines = []
    for line in EXAMPLE.read_text().splitlines():
        key = line.split(" ", 1)[0]
        if key in PRODUCTION_ONLY:
            continue
        if key == "listener":  # the Broker already listens on its own free port
            continue
        if key == "allow_anonymous":  # the Broker sets it
            continue
        if key == "address":
            line = f"address {central.host}:{central.port}"
        if key == "restart_timeout":
            line = "restart_timeout 1 1"
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_example_forwards_a_site_to_the_central_broker(tmp_path):
    assert re.search(r"^topic edge-arasl/\+/# out 1$", EXAMPLE.read_text(), re.M)
    (tmp_path / "central").mkdir()
    (tmp_path / "site").mkdir()
    central = Broker(tmp_path / "central", persistence=True).start()
    site = Broker(tmp_path / "site", persistence=True)
    with site.config.open("a") as f:
        f.write(bridge_config(central))
    site.start()
    gauges: dict[str, dict[str, float]] = {}
    device = MqttPlugin(
        MqttSettings(host=site.host, port=site.port),
        PluginContext(name="mqtt", device_id="pi-1", mode="run", state_dir=tmp_path, gauges=gauges),
    )
    # A dashboard with a persistent session: it misses nothing while the central broker restarts.
    watcher = Subscriber(central, "#", client_id="dashboard", clean_session=False)
    try:
        watcher.wait_for(lambda ms: any(m.topic.endswith("/state") for m in ms), timeout=30)
        assert watcher.on("edge-arasl-bridges/kitchen/state")[-1].payload == b"1"
        device.start()
        device.on_letter(LetterEvent("meem", "م", 0.9, 1.0, 1.4))
        watcher.wait_for(lambda ms: any(m.topic == "edge-arasl/pi-1/letter" for m in ms), 30)
        assert watcher.on("edge-arasl/pi-1/status")[-1].payload == b"online"

        # The central broker goes away; the site keeps what the device publishes meanwhile.
        central.stop()
        device.on_letter(LetterEvent("dal", "د", 0.9, 2.0, 2.4))
        device.on_word(WordEvent(("meem", "dal"), "مد", 1.0, 2.4))
        deadline = time.monotonic() + 30
        while gauges["mqtt"]["queue"] != 0:  # the site broker took them (PUBACK)
            assert time.monotonic() < deadline
            time.sleep(0.05)
        central.start()
        watcher.wait_for(lambda ms: any(m.topic.endswith("/word") for m in ms), timeout=30)
        kinds = ("/letter", "/word")
        events = [json.loads(m.payload) for m in watcher.messages if m.topic.endswith(kinds)]
        # QoS 1 is at-least-once: a reconnect may deliver one twice; (device_id, seq) tells.
        unique = {(e["device_id"], e["seq"]): e["text"] for e in events}
        assert list(unique.items()) == [(("pi-1", 1), "م"), (("pi-1", 2), "د"), (("pi-1", 3), "مد")]
    finally:
        device.stop()
        watcher.close()
        site.stop()
        central.stop()
