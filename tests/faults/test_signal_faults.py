"""SIGTERM and SIGINT at moments drawn from fixed seeds, in ``process`` and in ``run``.

Whatever the moment, the child stops within STOP_WITHIN_S with the documented exit code
(``process``: 128 + the signal, i.e. 143 or 130; ``run``: 0), without a traceback, and what it
had produced is whole: the annotated video opens and has frames, every line of the event log
parses, and its letters are the ones printed (``process``) or closed into words (``run``).

"Early" moments fall in the first 0.3 s after the child's first signal handler, while it is
still importing, reading its config and loading models. The handler is set first thing in
``main``; what comes before it is the interpreter starting, where a signal kills any Python
program, so the moment is not drawn from the start of the process.
"""

from __future__ import annotations

import json
import random
import signal
import time

import pytest
from child import DEMO, STOP_WITHIN_S, of_type, read_events, video_frames, write_config

SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT}
SEEDS = (3, 17)
EARLY_S = 0.3  # "early": within this long of the start
LATE_S = 1.5  # "late": within this long after the first frame (process) or letter (run)


def moment(seed: int, early: bool) -> float:
    """Seconds to wait (from the start, or from the first frame), the same on every run."""
    return random.Random(seed).uniform(0.0, EARLY_S if early else LATE_S)


def cases(seeds: tuple[int, ...]) -> list:
    """For each signal: one early moment (while the command starts), and one late moment per
    seed."""
    out = []
    for name in SIGNALS:
        out.append(pytest.param(name, seeds[0], True, id=f"{name}-early"))
        out += [pytest.param(name, seed, False, id=f"{name}-late-{seed}") for seed in seeds]
    return out


def start_and_signal(child, args: list[str], events, sig_name: str, seed: int, early: bool):
    """Start the child, wait for the drawn moment, signal it; (code, seconds, stdout, child).

    An early moment counts from the child's first handler (the interpreter's own start-up is
    no part of the daemon's). A late moment counts from the first frame (a status line counts
    frames) for ``process``, and from the first letter for ``run`` (mid-word, so the stop has
    a word to close).
    """
    proc = child(*args)
    anchor = "status" if args[0] == "process" else "letter"

    def anchored() -> bool:
        return any(e.get("frames", 1) > 0 for e in of_type(read_events(events), anchor))

    if early:
        proc.wait_until_catching(signal.SIGTERM)
    else:
        proc.wait_until(anchored, f"the first {anchor}")
    time.sleep(moment(seed, early))
    code, seconds, out = proc.stop(SIGNALS[sig_name])
    return code, seconds, out, proc


def plugins(tmp_path, **source) -> dict:
    return {
        "service": {"state_dir": tmp_path / "state", "status_interval": 0.2},
        "eventlog": {"enabled": True, "path": tmp_path / "events.jsonl", "status": True},
        **({"source": source} if source else {}),
    }


@pytest.mark.parametrize(("sig_name", "seed", "early"), cases(SEEDS))
def test_process_stops_on_a_signal_with_its_outputs_whole(child, tmp_path, sig_name, seed, early):
    events, video = tmp_path / "events.jsonl", tmp_path / "out.mp4"
    config = write_config(tmp_path / "config.toml", **plugins(tmp_path))
    args = ["process", str(DEMO), "--json", "--config", str(config), "--output", str(video)]
    code, seconds, out, proc = start_and_signal(child, args, events, sig_name, seed, early)

    assert code == 128 + SIGNALS[sig_name], proc.log_text()
    assert seconds <= STOP_WITHIN_S
    assert "Traceback" not in proc.log_text()
    logged = read_events(events)  # every line parses
    printed = [json.loads(line) for line in out.splitlines()]
    assert printed and printed[-1]["type"] == "summary"
    letters = [(e["class"], e["start"]) for e in of_type(logged, "letter")]
    assert letters == [(e["class"], e["start"]) for e in of_type(printed, "letter")]
    assert [start for _, start in letters] == sorted(start for _, start in letters)
    if not early:
        assert video_frames(video) > 0


@pytest.mark.parametrize(("sig_name", "seed", "early"), cases(SEEDS[:1]))
def test_the_daemon_stops_on_a_signal_with_exit_0_and_its_outputs_whole(
    child, tmp_path, sig_name, seed, early
):
    events, video = tmp_path / "events.jsonl", tmp_path / "out.mp4"
    tables = plugins(tmp_path, kind="video", path=DEMO, loop=True)
    config = write_config(
        tmp_path / "config.toml", **tables, video={"enabled": True, "path": video}
    )
    args = ["run", "--config", str(config)]
    code, seconds, _out, proc = start_and_signal(child, args, events, sig_name, seed, early)

    assert code == 0, proc.log_text()
    assert seconds <= STOP_WITHIN_S
    assert "Traceback" not in proc.log_text()
    logged = read_events(events)
    letters = [e["class"] for e in of_type(logged, "letter")]
    # the word being signed at the stop was closed: every letter is in a word, in order
    assert [c for w in of_type(logged, "word") for c in w["raw_classes"]] == letters
    if not early:
        assert letters  # the stop came after the first letter
        assert of_type(logged, "status")[-1]["state"] == "stopping"
        assert video_frames(video) > 0
