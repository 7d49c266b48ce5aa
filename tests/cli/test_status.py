"""`edge-arasl status` reads what the daemon wrote with status_file.write_status."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest
from commands import edge_arasl

from edge_arasl.cli import main
from edge_arasl.errors import UserError
from edge_arasl.plugin import StatusEvent
from edge_arasl.status_file import default_state_dir, read_status, write_status


def _status(pid: int, state: str = "running") -> dict:
    ev = StatusEvent(
        state=state,
        wall_time=time.time() - 3,
        frames=1200,
        frames_dropped=7,
        fps=29.5,
        letters=12,
        words=3,
        last_letter="ب",
        text="مدد",
        inference_ms_sum=480.0,
        inference_buckets=((0.5, 1000), (1.0, 1150)),
        plugin_errors={"mqtt": 2},
        plugin_frames_dropped={"overlay": 5},
        plugin_gauges={"mqtt": {"connected": 1.0, "queue_depth": 4.0}},
    )
    data = ev.to_dict()
    data.update(pid=pid, device_id="pi-kitchen", source="picamera2", config="/etc/x.toml")
    return data


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path, monkeypatch):
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_running_daemon_human_readable(tmp_path, capsys):
    write_status(tmp_path, _status(os.getpid()))
    assert main(["status", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "edge-arasl on pi-kitchen: running" in out
    assert f"pid {os.getpid()}" in out
    assert "1200 (7 dropped), 29.5 fps, inference 0.40 ms mean" in out
    assert "last letter: ب" in out
    assert "text:     مدد" in out
    assert "plugin mqtt: 2 errors, 0 frames dropped, connected 1, queue_depth 4" in out
    assert "plugin overlay: 0 errors, 5 frames dropped" in out


def test_a_lost_source_and_a_failed_plugin_are_shown(tmp_path, capsys):
    data = _status(os.getpid())
    data.update(
        source_state="lost",
        source_lost_s=42.4,
        plugin_failed={"video": "/dev/full: No space left on device"},
    )
    write_status(tmp_path, data)
    assert main(["status", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "source:   picamera2 (lost for 42 s, reopening)    config: /etc/x.toml" in out
    assert "plugin video: FAILED (/dev/full: No space left on device), 0 errors" in out
    assert "plugin mqtt: 2 errors" in out  # the others as before
    write_status(tmp_path, _status(os.getpid()))
    assert main(["status", "--state-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "source:   picamera2    config: /etc/x.toml" in out
    assert "FAILED" not in out


def test_json_adds_age_and_liveness(tmp_path, capsys):
    write_status(tmp_path, _status(os.getpid()))
    assert main(["status", "--state-dir", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["alive"] is True
    assert 2 <= data["age_seconds"] < 3600
    assert data["text"] == "مدد"
    assert data["frames"] == 1200


def test_dead_daemon_exits_3(tmp_path, capsys):
    write_status(tmp_path, _status(_dead_pid()))
    assert main(["status", "--state-dir", str(tmp_path)]) == 3
    assert "not running (last: running)" in capsys.readouterr().out


def test_stopped_daemon_exits_3(tmp_path, capsys):
    write_status(tmp_path, _status(os.getpid(), state="stopped"))  # pid alive, but it said so
    assert main(["status", "--state-dir", str(tmp_path), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["alive"] is False


def test_never_ran_is_a_clear_error(tmp_path, capsys):
    assert main(["status", "--state-dir", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edge-arasl: error: ")
    assert "status.json: no status file: the daemon has not run" in err
    assert "Traceback" not in err


def test_corrupt_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "status.json").write_text('{"state": "runn')
    assert main(["status", "--state-dir", str(tmp_path)]) == 2
    assert "status.json: not valid JSON" in capsys.readouterr().err


def test_default_state_dir_follows_the_environment(tmp_path, monkeypatch, capsys):
    write_status(default_state_dir(), _status(os.getpid()))
    assert main(["status", "--json"]) == 0  # found in $XDG_STATE_HOME/edge-arasl
    assert json.loads(capsys.readouterr().out)["device_id"] == "pi-kitchen"
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}/sd:{tmp_path}/other")
    assert default_state_dir() == tmp_path / "sd"  # systemd's first StateDirectory=


def test_write_is_atomic_and_group_readable(tmp_path):
    old = os.umask(0o077)
    try:
        path = write_status(tmp_path / "new", _status(1))
    finally:
        os.umask(old)
    assert (
        stat.S_IMODE(path.stat().st_mode) == 0o640
    )  # not world-readable: it holds the signed text
    assert [p.name for p in path.parent.iterdir()] == ["status.json"]  # no temporary left
    write_status(tmp_path / "new", {**_status(1), "frames": 5})
    assert read_status(tmp_path / "new")["frames"] == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"state": "running", "text": "\xff\xfe"}', "status.json: damaged, not UTF-8 text"),
        (b"[1, 2]", "status.json: expected a JSON object"),
        (b"", "status.json: not valid JSON"),
    ],
)
def test_unreadable_file_is_one_line_and_exit_2(tmp_path, capsys, content, message):
    (tmp_path / "status.json").write_bytes(content)
    assert main(["status", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edge-arasl: error: ") and message in err
    assert err.count("\n") == 1
    with pytest.raises(UserError, match=message):
        read_status(tmp_path)


def test_wrong_types_and_missing_keys_show_as_unknown(tmp_path, capsys):
    damaged = {
        "state": 5,
        "pid": True,  # a bool is no pid (os.kill(1, 0) would say "alive")
        "wall_time": "yesterday",
        "frames": "many",
        "fps": [30],
        "device_id": "pi\x1b[2J",  # a terminal escape must not reach the screen
        "plugin_gauges": {"mqtt": {"connected": "yes"}},
        "plugin_errors": {"mqtt": 2},
    }
    (tmp_path / "status.json").write_text(json.dumps(damaged))
    assert main(["status", "--state-dir", str(tmp_path)]) == 3
    out = capsys.readouterr().out
    assert "edge-arasl on pi?[2J: not running (last: ?) (pid ?, updated ?)" in out
    assert "frames:   ? (? dropped), ? fps, inference -" in out
    assert "plugin mqtt: 2 errors, 0 frames dropped" in out
    assert read_status(tmp_path) == {"device_id": "pi\x1b[2J", "plugin_errors": {"mqtt": 2}}


def test_huge_and_non_finite_numbers_read_as_missing(tmp_path, capsys):
    digits = "9" * 5000  # past Python's int-to-string limit: json.loads alone would raise
    (tmp_path / "status.json").write_text(
        f'{{"state": "running", "pid": 99999999999999999999, "wall_time": 1e999, '
        f'"frames": {digits}, "fps": NaN, "inference_ms_sum": -Infinity, "letters": 3}}'
    )
    assert main(["status", "--state-dir", str(tmp_path), "--json"]) == 3
    data = json.loads(capsys.readouterr().out, parse_constant=pytest.fail)  # strict JSON out
    assert data == {
        "state": "running",
        "letters": 3,
        "age_seconds": None,
        "alive": False,
    }


def test_pid_beyond_any_process_is_not_running(tmp_path, capsys):
    write_status(tmp_path, _status(2**40))
    assert main(["status", "--state-dir", str(tmp_path)]) == 3
    assert "not running (last: running)" in capsys.readouterr().out


def test_deeply_nested_json_is_one_line_and_exit_2(tmp_path):
    """In a child process: hitting the recursion limit leaves an interpreter unwell (3.11)."""
    (tmp_path / "status.json").write_text("[" * 100_000)
    result = edge_arasl("status", "--state-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr == (
        f"edge-arasl: error: {tmp_path / 'status.json'}: not valid JSON (nested too deeply)\n"
    )
