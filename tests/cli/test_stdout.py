"""Every printing command, run for real: a closed stdout pipe and an ASCII stdout.

``main()`` handles both once for all commands: a reader that has gone ends the command with
exit status 141 and no traceback; text the output encoding cannot hold is backslash-escaped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge_arasl.cli import BROKEN_PIPE
from edge_arasl.labels import ARABIC
from edge_arasl.status_file import write_status

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo.mp4"


def run_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdout a pipe whose reader has already gone (``| head`` at its end)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "edge_arasl", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write_end)


def run_ascii(*args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    return subprocess.run(
        [sys.executable, "-m", "edge_arasl", *args], capture_output=True, env=env, timeout=300
    )


def escaped(text: str) -> str:
    """``text`` as an ASCII stdout shows it."""
    return text.encode("ascii", "backslashreplace").decode("ascii")


@pytest.fixture
def images(tmp_path: Path, sample_files: list[tuple[str, Path]]) -> Path:
    """A class-folder tree of two samples each of two classes (``evaluate --data``)."""
    for class_id in ("ain", "dal"):
        files = [p for c, p in sample_files if c == class_id][:2]
        (tmp_path / "tree" / class_id).mkdir(parents=True)
        for f in files:
            shutil.copy(f, tmp_path / "tree" / class_id / f.name)
    return tmp_path / "tree"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    data = {"state": "running", "pid": os.getpid(), "wall_time": time.time(), "text": "مدد"}
    write_status(tmp_path / "state", data)
    return tmp_path / "state"


@pytest.fixture
def letter_broker(mosquitto):
    """A broker holding a retained letter ``م`` of device ``pi-a`` (``listen`` gets it at once)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    payload = json.dumps({"type": "letter", "class": "meem", "text": "م", "confidence": 0.9})
    client.publish("edge-arasl/pi-a/letter", payload, qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
    return mosquitto


def _listen_args(broker) -> list[str]:
    return ["listen", "--host", broker.host, "--port", str(broker.port), "--count", "1"]


def _assert_quiet_exit(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == BROKEN_PIPE, result.stderr
    assert "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr  # the interpreter's final flush


def test_process_with_a_closed_pipe():
    _assert_quiet_exit(run_closed_pipe("process", str(DEMO), "--json"))


def test_classify_and_evaluate_with_a_closed_pipe(images: Path):
    _assert_quiet_exit(run_closed_pipe("classify", *map(str, sorted(images.glob("*/*.png")))))
    _assert_quiet_exit(run_closed_pipe("evaluate", "--data", str(images)))


def test_status_plugins_and_config_check_with_a_closed_pipe(state_dir: Path):
    _assert_quiet_exit(run_closed_pipe("status", "--state-dir", str(state_dir)))
    _assert_quiet_exit(run_closed_pipe("plugins"))
    _assert_quiet_exit(run_closed_pipe("config", "check", str(REPO / "config.toml")))


def test_listen_with_a_closed_pipe(letter_broker):
    _assert_quiet_exit(run_closed_pipe(*_listen_args(letter_broker)))


def test_a_closed_stdout_is_no_error():
    result = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m edge_arasl plugins >&-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == ""


def test_process_json_into_head_one():
    """The shell pipeline itself: head exits after the first line, the rest finds no reader."""
    command = f"{sys.executable} -m edge_arasl process {DEMO} --json | head -1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=300
    )
    assert result.returncode in (0, BROKEN_PIPE), result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert json.loads(result.stdout)["type"] == "letter"


def test_ascii_stdout_gets_escapes_and_json_stays_json():
    result = run_ascii("process", str(DEMO), "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode("ascii").splitlines()]
    assert records[-1]["type"] == "summary"
    assert any("\u0600" <= ch <= "\u06ff" for ch in records[-1]["text"])  # Arabic, unescaped


def test_ascii_stdout_classify_evaluate_status(images: Path, state_dir: Path):
    files = sorted(images.glob("*/*.png"))
    result = run_ascii("classify", *map(str, files))
    assert result.returncode == 0, result.stderr
    texts = [line.split("\t")[2] for line in result.stdout.decode("ascii").splitlines()]
    assert len(texts) == len(files) and set(texts) <= {escaped(t) for t in ARABIC.values()}

    result = run_ascii("evaluate", "--data", str(images))
    assert result.returncode == 0, result.stderr
    assert escaped(ARABIC["ain"]) in result.stdout.decode("ascii")

    result = run_ascii("status", "--state-dir", str(state_dir))
    assert result.returncode == 0, result.stderr
    assert f"text:     {escaped('مدد')}" in result.stdout.decode("ascii")


def test_ascii_stdout_listen(letter_broker):
    result = run_ascii(*_listen_args(letter_broker))
    assert result.returncode == 0, result.stderr
    assert f"letter {escaped('م')}" in result.stdout.decode("ascii")
