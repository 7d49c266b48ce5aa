"""Log lines for a terminal and for journald (priority prefixes, no timestamps)."""

from __future__ import annotations

import logging
import os
import re

import pytest

from edge_arasl.logs import priority, setup_logging, stream_is_journal


@pytest.fixture
def log_file(tmp_path):
    f = open(tmp_path / "stderr.log", "w+", encoding="utf-8")  # noqa: SIM115
    yield f
    f.close()
    logging.getLogger().handlers.clear()


def _journal_env(monkeypatch, f) -> None:
    st = os.fstat(f.fileno())
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")


def _emit(f) -> list[str]:
    log = logging.getLogger("edge_arasl.test")
    log.info("started with %d plugins", 2)
    log.debug("hidden at info")
    log.warning("slow plugin %s", "video")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("plugin failed")
    for h in logging.getLogger().handlers:
        h.flush()
    f.seek(0)
    return f.read().splitlines()


def test_journald_lines_carry_priority_not_time(log_file, monkeypatch):
    _journal_env(monkeypatch, log_file)
    setup_logging("info", log_file)
    lines = _emit(log_file)
    assert lines[0] == "<6>edge_arasl.test: started with 2 plugins"
    assert lines[1] == "<4>edge_arasl.test: slow plugin video"
    assert lines[2] == "<3>edge_arasl.test: plugin failed"
    assert lines[3] == "<3>Traceback (most recent call last):"
    assert lines[-1] == "<3>ValueError: boom"
    assert all(line.startswith("<3>") for line in lines[2:])  # the traceback keeps its priority
    assert not any("hidden" in line for line in lines)


def test_terminal_lines_carry_time_and_level(log_file, monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    setup_logging("debug", log_file)
    lines = _emit(log_file)
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO edge_arasl.test: started", lines[0]
    )
    assert "DEBUG edge_arasl.test: hidden at info" in lines[1]
    assert not any(line.startswith("<") for line in lines)


def test_inherited_journal_stream_with_redirected_stderr(log_file, monkeypatch):
    """A child whose stderr went to a file keeps JOURNAL_STREAM but must not prefix."""
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    assert not stream_is_journal(log_file)
    _journal_env(monkeypatch, log_file)
    assert stream_is_journal(log_file)


def test_priority_of_levels():
    assert [priority(lv) for lv in (50, 40, 30, 25, 20, 10, 5)] == [2, 3, 4, 6, 6, 7, 7]
