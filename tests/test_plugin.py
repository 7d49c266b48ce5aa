"""The plugin API itself: hooks checked when a plugin class is made, gauges shared safely."""

from __future__ import annotations

import threading

import pytest

from edge_arasl.pipeline import Observer
from edge_arasl.plugin import Gauges, OutputPlugin, PluginContext


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def on_leter(self, letter): pass", r"P\.on_leter is not a hook \(hooks: on_frame, "),
        ("def on_letter(self): pass", r"P\.on_letter must take \(self, letter\)"),
        ("def on_word(self, word, extra): pass", r"P\.on_word must take \(self, word\)"),
        ("on_status = 3", r"P\.on_status must take \(self, status\)"),
        ("def stop(self, now): pass", r"P\.stop must take \(self\)"),
    ],
)
def test_a_misspelt_hook_or_a_wrong_signature_is_rejected_when_the_class_is_made(body, message):
    with pytest.raises(TypeError, match=message):
        exec(f"class P(OutputPlugin):\n    {body}\n", {"OutputPlugin": OutputPlugin})


def test_observers_share_the_hooks_and_their_check():
    class Fine(Observer):
        def on_start(self, pipeline) -> None: ...
        def on_word(self, word, *rest) -> None: ...

    assert Fine
    with pytest.raises(TypeError, match=r"Typo\.on_wrod is not a hook"):

        class Typo(Observer):
            def on_wrod(self, word) -> None: ...


def test_gauges_are_copied_under_the_lock_while_a_plugin_thread_writes():
    gauges = Gauges()
    context = PluginContext(name="mqtt", device_id="t", mode="run", state_dir=None, gauges=gauges)
    done = threading.Event()

    def report() -> None:
        for i in range(20000):
            context.gauge(f"key{i}", i)
        done.set()

    writer = threading.Thread(target=report)
    writer.start()
    snapshots = []
    while not done.is_set():
        snapshots.append(gauges.snapshot())  # would raise "changed size during iteration"
    writer.join()
    final = gauges.snapshot()
    assert len(final["mqtt"]) == 20000
    final["mqtt"]["key0"] = -1.0  # a copy: the plugin's values are untouched
    assert gauges.snapshot()["mqtt"]["key0"] == 0.0
    assert all(len(s.get("mqtt", {})) <= 20000 for s in snapshots)
