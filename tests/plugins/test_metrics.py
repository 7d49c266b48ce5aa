"""The metrics plugin serves the latest StatusEvent in the Prometheus text format."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from importlib.metadata import entry_points

import pytest
from edge_arasl_plugins.metrics import MetricsPlugin, MetricsSettings

from edge_arasl.errors import UserError
from edge_arasl.plugin import ENTRY_POINT_GROUP, PluginContext, PluginError, StatusEvent
from edge_arasl.settings import from_table

LABEL = r'[a-z_]+="(?:[^"\\\n]|\\.)*"'
SAMPLE = re.compile(rf"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{{{LABEL}(,{LABEL})*\}})? (\S+)$")


def _context(tmp_path) -> PluginContext:
    return PluginContext(name="metrics", device_id='pi-"kitchen"', mode="run", state_dir=tmp_path)


@pytest.fixture
def plugin(tmp_path):
    p = MetricsPlugin(MetricsSettings(port=0), _context(tmp_path))
    p.start()
    yield p
    p.stop()


def scrape(port: int, path: str = "/metrics") -> tuple[str, dict[str, float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = resp.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-z_]+ \S", line), line
            continue
        m = SAMPLE.match(line)
        assert m, f"not a valid sample line: {line!r}"
        samples[line.rsplit(" ", 1)[0]] = float(m.group(4))
    return text, samples


def test_metrics_follow_the_last_status(plugin):
    _, before = scrape(plugin.port)
    assert before['edge_arasl_state{state="starting"}'] == 1
    assert before["edge_arasl_frames_total"] == 0

    plugin.on_status(
        StatusEvent(
            state="running",
            wall_time=1700000000.5,
            frames=1234,
            frames_dropped=5,
            fps=29.75,
            letters=17,
            words=4,
            inference_ms_sum=30.0,
            inference_buckets=((0.25, 80), (0.5, 95), (1.0, 100), (float("inf"), 100)),
            plugin_errors={"mqtt": 2, "overlay": 0},
            plugin_frames_dropped={"overlay": 9},
            plugin_gauges={"mqtt": {"queue_depth": 3, "connected": 0}, "video": {"queue-depth": 1}},
        )
    )
    text, m = scrape(plugin.port)
    assert m['edge_arasl_info{device_id="pi-\\"kitchen\\""}'] == 1
    assert m['edge_arasl_state{state="running"}'] == 1
    assert m['edge_arasl_state{state="starting"}'] == 0
    assert m["edge_arasl_last_status_timestamp_seconds"] == 1700000000.5
    assert m["edge_arasl_frames_total"] == 1234
    assert m["edge_arasl_frames_dropped_total"] == 5
    assert m["edge_arasl_fps"] == 29.75
    assert m["edge_arasl_letters_total"] == 17
    assert m["edge_arasl_words_total"] == 4
    h = "edge_arasl_inference_duration_seconds"
    assert m[f'{h}_bucket{{le="0.00025"}}'] == 80
    assert m[f'{h}_bucket{{le="0.0005"}}'] == 95
    assert m[f'{h}_bucket{{le="0.001"}}'] == 100
    assert m[f'{h}_bucket{{le="+Inf"}}'] == 100
    assert text.count(f'{h}_bucket{{le="+Inf"}}') == 1
    assert m[f"{h}_sum"] == pytest.approx(0.030)
    assert m[f"{h}_count"] == 100
    assert m['edge_arasl_plugin_errors_total{plugin="mqtt"}'] == 2
    assert m['edge_arasl_plugin_frames_dropped_total{plugin="overlay"}'] == 9
    assert m['edge_arasl_plugin_queue_depth{plugin="mqtt"}'] == 3
    assert m['edge_arasl_plugin_queue_depth{plugin="video"}'] == 1  # "queue-depth" sanitised
    assert m['edge_arasl_plugin_connected{plugin="mqtt"}'] == 0
    assert text.count("# TYPE edge_arasl_plugin_queue_depth gauge") == 1
    assert "# TYPE edge_arasl_inference_duration_seconds histogram" in text
    assert "# TYPE edge_arasl_frames_total counter" in text


def test_histogram_gets_an_inf_bucket_when_missing(plugin):
    plugin.on_status(
        StatusEvent(state="running", wall_time=1.0, inference_buckets=((1.0, 7),), frames=9)
    )
    _, m = scrape(plugin.port)  # the pipeline leaves out +Inf: its count is the frame count
    assert m['edge_arasl_inference_duration_seconds_bucket{le="0.001"}'] == 7
    assert m['edge_arasl_inference_duration_seconds_bucket{le="+Inf"}'] == 9
    assert m["edge_arasl_inference_duration_seconds_count"] == 9


def test_other_paths(plugin):
    assert scrape(plugin.port, "/metrics?x=1")[1]["edge_arasl_frames_total"] == 0
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"http://127.0.0.1:{plugin.port}/nope", timeout=10)
    assert exc.value.code == 404


def test_binds_localhost_by_default(tmp_path):
    assert MetricsSettings().host == "127.0.0.1"
    p = MetricsPlugin(MetricsSettings(port=0), _context(tmp_path))
    p.start()
    try:
        assert p._server.server_address[0] == "127.0.0.1"
    finally:
        p.stop()


def test_port_in_use_is_a_plugin_error(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        port = busy.getsockname()[1]
        p = MetricsPlugin(MetricsSettings(port=port), _context(tmp_path))
        with pytest.raises(PluginError, match=rf"\[metrics\]: cannot listen on 127.0.0.1:{port}"):
            p.start()
    finally:
        busy.close()


def test_stop_closes_the_port(tmp_path):
    p = MetricsPlugin(MetricsSettings(port=0), _context(tmp_path))
    p.start()
    port = p.port
    p.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10)


def test_settings_validated_from_config():
    assert from_table(MetricsSettings, {"port": 9100}, "c.toml: [metrics]").port == 9100
    with pytest.raises(UserError, match=r"\[metrics\]: unknown key 'bind'"):
        from_table(MetricsSettings, {"bind": "x"}, "c.toml: [metrics]")
    with pytest.raises(UserError, match=r"\[metrics\]\.port: must be in \[0, 65535\], got 70000$"):
        from_table(MetricsSettings, {"port": 70000}, "c.toml: [metrics]")


def test_registered_as_entry_point():
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert eps["metrics"].load() is MetricsPlugin


def test_failed_plugins_and_queue_depths_are_metrics(plugin):
    plugin.on_status(
        StatusEvent(
            state="running",
            wall_time=1700000000.0,
            plugin_errors={"video": 1, "mqtt": 0},
            plugin_failed={"video": "on_frame: [video] cannot write out.mp4: No space left"},
            plugin_queue_depths={"video": 0, "mqtt": 7},
        )
    )
    _, samples = scrape(plugin.port)
    assert samples['edge_arasl_plugin_failed{plugin="video"}'] == 1
    assert samples['edge_arasl_plugin_failed{plugin="mqtt"}'] == 0
    assert samples['edge_arasl_dispatcher_queue_depth{plugin="mqtt"}'] == 7
    assert samples['edge_arasl_dispatcher_queue_depth{plugin="video"}'] == 0


def test_a_lost_source_is_down_with_its_outage(plugin):
    _, before = scrape(plugin.port)
    assert before["edge_arasl_source_up"] == 1
    assert before["edge_arasl_source_lost_seconds"] == 0
    lost = StatusEvent(state="running", wall_time=1.0, source_state="lost", source_lost_s=12.5)
    plugin.on_status(lost)
    _, samples = scrape(plugin.port)
    assert samples["edge_arasl_source_up"] == 0
    assert samples["edge_arasl_source_lost_seconds"] == 12.5
