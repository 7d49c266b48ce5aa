"""The annotated video writer: real files written by OpenCV, read back by OpenCV."""

from __future__ import annotations

import importlib.util
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from edge_arasl_plugins.video import VideoPlugin, VideoSettings

from edge_arasl.plugin import FrameEvent, LetterEvent, PluginContext, PluginError
from edge_arasl.settings import from_table

EDGE_ARASL = [sys.executable, "-m", "edge_arasl"]
HAVE_AV = importlib.util.find_spec("av") is not None


def make_plugin(tmp_path: Path, mode: str = "process", source_fps: float | None = 30.0, **table):
    settings = from_table(VideoSettings, table, "test.toml: [video]")
    context = PluginContext(
        name="video", device_id="d", mode=mode, state_dir=tmp_path, fps=source_fps
    )
    return VideoPlugin(settings, context)


def frames(n: int, size=(160, 120), fps: float = 30.0, gray: bool = False, t0: float = 0.0):
    for i in range(n):
        shape = (size[1], size[0]) if gray else (size[1], size[0], 3)
        image = np.full(shape, (i * 7) % 256, np.uint8)
        yield FrameEvent(i, t0 + i / fps, image, (20, 20, 60, 60), "bb", 0.9, "ب")


def probe(path: Path) -> tuple[int, tuple[int, int], float]:
    """Frames actually decodable, (width, height) and frame rate of a video file."""
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"OpenCV cannot open {path}"
    size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    fps = cap.get(cv2.CAP_PROP_FPS)
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count, size, fps


@pytest.mark.parametrize(("codec", "name"), [("mp4v", "out.mp4"), ("mjpg", "out.avi")])
def test_every_frame_is_written_at_the_source_size_and_rate(tmp_path, codec, name):
    plugin = make_plugin(tmp_path, path=str(tmp_path / "sub" / name), codec=codec, fps=0.0)
    plugin.start()
    for event in frames(45, size=(176, 144)):
        plugin.on_frame(event)
    plugin.stop()
    assert probe(tmp_path / "sub" / name) == (45, (176, 144), 30.0)


def test_overlay_is_drawn_and_can_be_switched_off(tmp_path):
    first = {}
    for overlay in (True, False):
        path = tmp_path / f"{overlay}.avi"
        plugin = make_plugin(tmp_path, path=str(path), codec="mjpg", overlay=overlay)
        plugin.start()
        plugin.on_letter(LetterEvent("bb", "ب", 0.9, 0.0, 0.5))
        for event in frames(3, size=(320, 240), gray=True):
            plugin.on_frame(event)
        plugin.stop()
        first[overlay] = cv2.VideoCapture(str(path)).read()[1]
    assert first[True].shape == first[False].shape == (240, 320, 3)  # gray written as BGR
    assert first[False].max() < 20  # frame 0 is black
    drawn = np.abs(first[True].astype(int) - first[False]).max(axis=2) > 40
    assert drawn.sum() > 300  # the region box and the letter
    assert first[True][drawn][:, 1].mean() > first[True][drawn][:, 2].mean() + 50  # in green


def test_daemon_files_rotate_and_fill_gaps_by_timestamp(tmp_path):
    plugin = make_plugin(
        tmp_path, mode="run", source_fps=10.0, path="clips/%Y%m%d-%H%M%S.avi", codec="mjpg",
        rotate_seconds=2.0,
    )  # fmt: skip
    plugin.start()
    # 5 fps delivered (a live source dropping frames) with a 1 s stall, against a 10 fps file
    stamps = [i * 0.2 for i in range(10)] + [3.0 + i * 0.2 for i in range(5)]
    for i, t in enumerate(stamps):
        plugin.on_frame(FrameEvent(i, 100.0 + t, np.zeros((60, 80, 3), np.uint8), None, "none", 0))
    plugin.stop()
    assert sorted((tmp_path / "clips").iterdir()) == sorted(plugin.files)
    counts = [probe(f)[0] for f in plugin.files]  # in the order they were written
    assert counts == [19, 9]  # 0.0-1.8 s and 3.0-3.8 s at 10 fps: real time, not 10 + 5


def test_rotation_needs_a_time_pattern(tmp_path):
    plugin = make_plugin(tmp_path, mode="run", path="clip.mp4", rotate_seconds=60.0)
    with pytest.raises(PluginError, match="strftime"):
        plugin.start()


def test_unwritable_directory_fails_at_start(tmp_path):
    (tmp_path / "file").write_text("")
    plugin = make_plugin(tmp_path, path=str(tmp_path / "file" / "x.mp4"))
    with pytest.raises(PluginError, match=r"\[video\] path"):
        plugin.start()


def test_missing_path_is_reported(tmp_path):
    with pytest.raises(PluginError, match=r"\[video\] path: no output file"):
        make_plugin(tmp_path).start()


def test_h264_without_pyav_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # as if the h264 extra were not installed
    plugin = make_plugin(tmp_path, path=str(tmp_path / "x.mp4"), codec="h264")
    with pytest.raises(PluginError, match=r"edge-arasl\[h264\]"):
        plugin.start()


@pytest.mark.skipif(not HAVE_AV, reason="PyAV (the h264 extra) is not installed")
def test_h264_through_pyav(tmp_path):
    plugin = make_plugin(tmp_path, path=str(tmp_path / "x.mp4"), codec="h264")
    plugin.start()
    for event in frames(40, size=(160, 120)):
        plugin.on_frame(event)
    plugin.stop()
    count, size, fps = probe(tmp_path / "x.mp4")
    assert (count, size, round(fps)) == (40, (160, 120), 30)


def test_process_output_has_the_input_frame_count_and_size(demo_video, tmp_path):
    out = tmp_path / "annotated.mp4"
    subprocess.run(
        [*EDGE_ARASL, "process", str(demo_video), "--output", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert probe(out) == probe(demo_video)


def test_process_killed_with_sigterm_leaves_a_readable_file(demo_video, tmp_path):
    out = tmp_path / "partial.mp4"
    proc = subprocess.Popen(
        [*EDGE_ARASL, "process", str(demo_video), "--realtime", "--output", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and out.stat().st_size > 50_000):  # frames are flowing
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "no video written"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr.decode()
    count, size, _ = probe(out)
    total, input_size, _ = probe(demo_video)
    assert 0 < count < total and size == input_size


def test_an_error_elsewhere_still_finalises_the_file(demo_video, tmp_path):
    from edge_arasl.config import SourceSettings, load_config
    from edge_arasl.pipeline import build_pipeline
    from edge_arasl.sources import Source, open_source

    class Unplugged(Source):
        """The demo video, until the 'camera' fails after 40 frames."""

        def __init__(self) -> None:
            super().__init__("unplugged")
            self.inner = open_source(
                SourceSettings(kind="video", path=str(demo_video)), realtime=False
            )
            self.fps, self.frame_size = self.inner.fps, self.inner.frame_size
            self.frames = 0

        def read(self):
            if self.frames == 40:
                raise RuntimeError("camera unplugged")
            self.frames += 1
            return self.inner.read()

        def close(self) -> None:
            self.inner.close()

    out = tmp_path / "until-error.mp4"
    config = load_config().with_plugin_option("video", "path", str(out))
    pipeline = build_pipeline(config, Unplugged(), mode="process")
    with pytest.raises(RuntimeError, match="camera unplugged"):
        pipeline.run()
    assert probe(out)[:2] == (40, (640, 480))


@pytest.mark.parametrize(
    ("name", "codec", "message"),
    [
        ("x.txt", "mp4v", r"'x.txt' is no container for codec 'mp4v'; end it in .mp4, "),
        ("x.mp4", "mjpg", r"'x.mp4' is no container for codec 'mjpg'; end it in .avi, .mkv$"),
        ("clip", "mp4v", r"'clip' is no container"),
    ],
)
def test_a_file_name_the_codec_cannot_write_fails_at_start(tmp_path, name, codec, message):
    plugin = make_plugin(tmp_path, path=str(tmp_path / name), codec=codec)
    with pytest.raises(PluginError, match=r"^\[video\] path: " + message):
        plugin.start()
    assert not (tmp_path / name).exists()


def test_a_folder_as_the_output_fails_at_start(tmp_path):
    (tmp_path / "out.mp4").mkdir()
    plugin = make_plugin(tmp_path, path=str(tmp_path / "out.mp4"))
    with pytest.raises(PluginError, match=r"^\[video\] path: .*out\.mp4 is a folder, not a file$"):
        plugin.start()


def test_process_with_a_bad_output_is_one_line_and_exit_2(demo_video, tmp_path):
    result = subprocess.run(
        [*EDGE_ARASL, "process", str(demo_video), "--output", str(tmp_path / "x.txt")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "edge-arasl: error: [video] path: 'x.txt' is no container for codec 'mp4v'; "
        "end it in .mp4, .m4v, .mov, .mkv, .avi"
    ]
    assert result.stdout == ""


def test_a_writer_that_cannot_open_fails_the_plugin_once_not_every_frame(tmp_path, capfd, caplog):
    from edge_arasl.dispatcher import Dispatcher

    out = tmp_path / "out.mp4"
    plugin = make_plugin(tmp_path, path=str(out))
    d = Dispatcher([plugin], drop_frames=False)
    d.start()
    out.mkdir()  # after the start checks: the writer cannot open it at the first frame
    for event in frames(30):
        d.publish(event)
    assert d.stop()
    assert d.failed == {"video": f"on_frame: [video] cannot open {out} for writing with codec mp4v"}
    assert d.errors == {"video": 1}  # not retried on the 29 frames after
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 1 and logged[0].startswith("plugin video failed: on_frame: [video]")
    assert capfd.readouterr().err.count("OpenCV") <= 3  # at most about the one open, not 30
