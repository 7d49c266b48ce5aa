"""Configuration: the documented default file, validation errors, overrides."""

from __future__ import annotations

import dataclasses
import re
import socket
import sys
from pathlib import Path

import pytest

from edge_arasl.config import CORE_TABLES, Config, ServiceSettings, load_config
from edge_arasl.decoder import DecoderSettings
from edge_arasl.errors import UserError
from edge_arasl.region import Roi
from edge_arasl.registry import scan

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FILE = REPO / "config.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def defaults_of(cls: type) -> dict:
    """A settings dataclass's defaults as TOML would write them (nested tables as dicts)."""
    values = {}
    for f in dataclasses.fields(cls):
        value = getattr(cls(), f.name)
        if dataclasses.is_dataclass(value):
            value = dataclasses.asdict(value)
        elif isinstance(value, tuple):
            value = list(value)
        values[f.name] = value
    return values


def test_the_default_file_is_valid_and_equals_the_built_in_defaults():
    config = load_config(DEFAULT_FILE)
    assert config.replace(path=None, plugins={}) == load_config(None)
    assert all(not table.get("enabled") for table in config.plugins.values())


def test_the_default_file_documents_every_key_of_every_table_with_its_default():
    data = tomllib.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    plugins = {name: e.cls.Settings for name, e in scan().items() if e.cls is not None}
    tables = {**CORE_TABLES, **plugins}
    for name, cls in tables.items():
        assert name in data, f"config.toml has no [{name}] table"
        expected = defaults_of(cls)
        if name not in CORE_TABLES:
            expected["enabled"] = False
        assert data[name] == expected, f"[{name}] differs from the defaults"


def test_every_key_in_the_default_file_has_a_comment_before_it():
    lines = DEFAULT_FILE.read_text(encoding="utf-8").splitlines()
    undocumented = []
    for i, line in enumerate(lines):
        if not re.match(r"^[a-z_]+ = ", line):
            continue
        block = []  # the key lines and comments above this key, up to a blank line or table
        for previous in reversed(lines[:i]):
            if not previous.strip() or previous.startswith("["):
                break
            block.append(previous)
        if line.startswith("enabled = ") or any(b.startswith("#") for b in block):
            continue
        undocumented.append(line)
    assert not undocumented


def test_no_file_and_an_empty_file_mean_the_defaults(tmp_path):
    assert load_config(write(tmp_path, "")).replace(path=None) == Config()


def test_values_are_typed_and_tables_merge_with_defaults(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[source]\nkind = "camera"\ndevice = "rtsp://cam/stream"\n'
            "[region]\nx = 0\ny = 0\nw = 1\nh = 1\n"
            "[decoder]\nhold_s = 0.3\n"
            '[mqtt]\nenabled = true\nhost = "broker"\n',
        )
    )
    assert config.source.kind == "camera" and config.source.device == "rtsp://cam/stream"
    assert config.source.width == 640
    assert config.region.roi == Roi(0.0, 0.0, 1.0, 1.0)
    assert config.decoder.hold_s == 0.3 and config.decoder.enter == DecoderSettings().enter
    assert config.enabled_plugins() == ["mqtt"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[sourec]\nkind = 'video'\n",
            r"unknown table \[sourec\] \(core tables: source, .*; installed plugins: .*mqtt",
        ),
        ("[source]\nknd = 'video'\n", r"\[source\]: unknown key 'knd'"),
        ("[source]\nkind = 'webcam'\n", r"\[source\]\.kind: 'webcam' is not one of"),
        ("[source]\nkind = 'video'\n", r"\[source\]: path: required when kind = 'video'"),
        ("[source]\nwidth = '640'\n", r"\[source\]\.width: expected an integer, got '640'"),
        ("[source]\nfps = 0\n", r"\[source\]\.fps: must be in \[0.1, 1000\] fps, got 0$"),
        ("[source]\nfps = 1e-300\n", r"\[source\]\.fps: must be in \[0.1, 1000\] fps"),
        ("[source]\nfps = inf\n", r"\[source\]\.fps: expected a finite number, got inf$"),
        ("[source]\nwidth = 0\n", r"\[source\]\.width: must be in \[1, 8192\] px, got 0$"),
        ("[source]\ndevice = -1\n", r"\[source\]\.device: must be in \[0, 255\], got -1$"),
        ("[source]\ndevice = 'x'\n", r"\[source\]: device: the Pi camera number"),
        ("[region]\nx = 0.8\n", r"\[region\]: region .*must lie inside the frame"),
        ("[region]\nw = 0\n", r"\[region\]\.w: must be in \(0, 1\], got 0$"),
        ("[region]\nmode = 'everywhere'\n", r"\[region\]\.mode: 'everywhere' is not one of"),
        ("[hand]\nmin_presence = 1.5\n", r"\[hand\]\.min_presence: must be in \(0, 1\), got"),
        ("[hand]\nscan = 0.05\n", r"\[hand\]\.scan: must be 0 or in \[0.1, 1\], got"),
        ("[hand]\nsearch_fps = -1\n", r"\[hand\]\.search_fps: must be 0 or in \[0.1, 1000\] fps"),
        ("[hand]\nsearch_fps = 5e-324\n", r"\[hand\]\.search_fps: must be 0 or in \[0.1, 1000\]"),
        ("[hand]\ncrop_scale = 9\n", r"\[hand\]\.crop_scale: must be in \[1, 4\], got 9$"),
        ("[hand]\nhold_s = nan\n", r"\[hand\]\.hold_s: expected a finite number, got nan$"),
        ("[hand]\npalm = 'x'\n", r"\[hand\]: unknown key 'palm'"),
        ("[classifier]\nthreads = 0\n", r"\[classifier\]\.threads: must be in \[1, 64\]"),
        ("[classifier]\nthreads = 2.0\n", r"\[classifier\]\.threads: expected an integer"),
        ("[classifier]\nbackend = 'gpu'\n", r"\[classifier\]\.backend: 'gpu' is not one of"),
        ("[classifier]\nviews = 'five'\n", r"\[classifier\]\.views: 'five' is not one of"),
        ("[decoder]\nenter = 0.3\nexit = 0.5\n", r"\[decoder\]: thresholds must satisfy"),
        ("[decoder]\nhold = 1\n", r"\[decoder\]: unknown key 'hold'"),
        (
            "[decoder]\nhold_s = 1e308\n",
            r"\[decoder\]\.hold_s: must be in \[0, 10\] s, got 1e\+308",
        ),
        ("[decoder.words]\nbeam = 0\n", r"\[decoder\]\.words\.beam: must be in \[1, 1000\]"),
        ("[service]\nstatus_interval = -1\n", r"\[service\]\.status_interval: must be in"),
        ("[service]\ndevice_id = 'a/b'\n", r"\[service\]: device_id: 'a/b' must be"),
        ("[mqtt]\nenabled = 'yes'\n", r"\[mqtt\]\.enabled: expected true or false"),
        ("[mqtt]\nqos = 3\n", r"\[mqtt\]\.qos: must be in \[0, 2\], got 3$"),
        ("[mqtt]\nkeepalive = 100000\n", r"\[mqtt\]\.keepalive: must be in \[1, 65535\] s"),
        ("[mqtt]\ndrain_timeout = -1\n", r"\[mqtt\]\.drain_timeout: must be in \[0, 600\] s"),
        ("[mqtt.tls]\nenabled = 1\n", r"\[mqtt\]\.tls\.enabled: expected true or false"),
        ("[srt]\nword_hold = nan\n", r"\[srt\]\.word_hold: expected a finite number, got nan"),
        ("[video]\nfps = inf\n", r"\[video\]\.fps: expected a finite number, got inf"),
        ("[video]\nfps = 1001\n", r"\[video\]\.fps: must be 0 or in \[1, 1000\] fps"),
        ("[video]\nfps = 1e-300\n", r"\[video\]\.fps: must be 0 or in \[1, 1000\]"),
        (
            "[video]\nrotate_seconds = 1e-9\n",
            r"\[video\]\.rotate_seconds: must be 0 or in \[1, 86400\] s",
        ),
        ("[speech.hermes]\nport = 0\n", r"\[speech\]\.hermes\.port: must be in \[1, 65535\]"),
        ("[overlay]\nlast_words = -1\n", r"\[overlay\]\.last_words: must be in \[0, 20\]"),
        ("[mqtt]\nhots = 'broker'\n", r"\[mqtt\]: unknown key 'hots'"),
        ("verbose = true\n", r"unknown top-level key 'verbose'"),
        ("[source\n", r"invalid TOML: .*line 1"),
    ],
)
def test_errors_name_the_file_the_key_and_the_reason(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as excinfo:
        load_config(path)
    text = str(excinfo.value)
    assert text.startswith(f"{path}: "), text
    assert re.search(message, text), text
    assert "\n" not in text


def test_unreadable_files_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(UserError, match="is a directory"):
        load_config(tmp_path)
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"# caf\xe9\n")
    with pytest.raises(UserError, match="not UTF-8"):
        load_config(path)


def test_plugin_options_from_flags_enable_the_plugin_and_are_validated(tmp_path):
    config = load_config(write(tmp_path, "[srt]\nword_hold = 1.0\n"))
    changed = config.with_plugin_option("srt", "path", "out.srt")
    assert changed.plugins["srt"] == {"word_hold": 1.0, "enabled": True, "path": "out.srt"}
    assert config.plugins["srt"] == {"word_hold": 1.0}  # the original is unchanged
    with pytest.raises(UserError, match=r"\[srt\]\.path: expected a string"):
        config.with_plugin_option("srt", "path", 3)


def test_device_id_defaults_to_a_topic_safe_host_name(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "Pi 4+kitchen.local")
    assert ServiceSettings().resolved_device_id == "Pi-4-kitchen"
    assert ServiceSettings(device_id="door-1").resolved_device_id == "door-1"


def test_state_dir_defaults_to_systemds_state_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    assert ServiceSettings().resolved_state_dir == tmp_path
    assert ServiceSettings(state_dir="/srv/arasl").resolved_state_dir == Path("/srv/arasl")
