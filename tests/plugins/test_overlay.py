"""The overlay draws shaped right-to-left Arabic onto frames, and its snapshot plugin."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from edge_arasl_plugins.arabic_text import TextSettings, has_raqm
from edge_arasl_plugins.overlay import ROI_COLOR, Overlay, OverlayPlugin, OverlaySettings

from edge_arasl.plugin import FrameEvent, LetterEvent, PluginContext, PluginError, WordEvent
from edge_arasl.settings import from_table

SALAM = [("seen", "س"), ("laam", "ل"), ("aleff", "ا"), ("meem", "م")]
ENGINES = ["basic", *(["raqm"] if has_raqm() else [])]


def frame(image=None, *, roi=None, class_id="none", text="", confidence=0.0, t=0.0):
    if image is None:
        image = np.zeros((480, 640, 3), np.uint8)
    return FrameEvent(0, t, image, roi, class_id, confidence, text)


def letters(overlay: Overlay, items) -> None:
    for i, (class_id, text) in enumerate(items):
        overlay.on_letter(LetterEvent(class_id, text, 0.9, i, i + 0.5))


def text_components(image: np.ndarray) -> list[tuple[int, int]]:
    """``(left, right)`` of each white glyph component on the black test frame."""
    ink = (image.min(axis=2) > 64).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    return sorted((int(s[0]), int(s[0] + s[2])) for s in stats[1:n] if s[4] >= 4)


@pytest.mark.parametrize("engine", ENGINES)
def test_running_text_is_joined_and_right_to_left(engine):
    joined = Overlay(TextSettings(text_engine=engine))
    letters(joined, SALAM)  # one word in progress: سلام
    isolated = Overlay(TextSettings(text_engine=engine, last_words=4))
    for class_id, text in SALAM:  # four one-letter words: س ل ا م
        letters(isolated, [(class_id, text)])
        isolated.on_word(WordEvent((class_id,), text, 0, 1))
    assert joined.running_text == "سلام" and isolated.running_text == "س ل ا م"

    joined_parts = text_components(joined.draw(frame()))
    isolated_parts = text_components(isolated.draw(frame()))
    assert len(isolated_parts) == 4
    assert len(joined_parts) < len(isolated_parts)

    # right to left: the first letter is drawn rightmost, the last leftmost
    renderer = joined.renderer(480 // 16)
    seen_width = np.ptp(np.flatnonzero(renderer.mask("س").max(axis=0) > 64)) + 1
    rightmost = isolated_parts[-1]
    assert abs((rightmost[1] - rightmost[0]) - seen_width) <= 2
    assert joined_parts[-1][1] - joined_parts[-1][0] > joined_parts[0][1] - joined_parts[0][0]


def test_roi_letter_and_confidence_are_drawn_on_a_copy():
    image = np.full((240, 320, 3), 60, np.uint8)
    overlay = Overlay()
    out = overlay.draw(
        frame(image, roi=(100, 50, 80, 120), class_id="bb", text="ب", confidence=0.87)
    )
    assert (image == 60).all()  # the pipeline's frame is untouched
    assert tuple(out[50, 140]) == ROI_COLOR and tuple(out[169, 140]) == ROI_COLOR
    assert tuple(out[110, 140]) == (60, 60, 60)  # inside the box: the hand stays visible
    top_right = out[: 240 // 4, 320 // 2 :]
    assert (top_right == ROI_COLOR).all(axis=2).sum() > 20  # the green letter ب
    idle = overlay.draw(frame(image, roi=(100, 50, 80, 120)))
    assert not (idle[: 240 // 4, 320 // 2 :] == ROI_COLOR).all(axis=2).any()  # no sign: no letter


def test_gray_frames_come_out_bgr():
    out = Overlay().draw(frame(np.zeros((120, 160), np.uint8), roi=(10, 10, 50, 50)))
    assert out.shape == (120, 160, 3) and out.dtype == np.uint8


def test_long_text_keeps_the_newest_words_and_fits_the_frame():
    overlay = Overlay(TextSettings(last_words=20))
    for i in range(20):  # twenty words of two components each would not fit 640 px
        text = "سلام" if i == 19 else "مدد"
        overlay.on_word(WordEvent(("x",), text, i, i + 1))
    parts = text_components(overlay.draw(frame()))
    assert parts[0][0] >= 0 and parts[-1][1] <= 640
    assert len(parts) < 40  # the oldest words were left out
    alone = Overlay()
    alone.on_word(WordEvent(("x",), "سلام", 0, 1))
    newest = text_components(alone.draw(frame()))
    widths = [right - left for left, right in parts[: len(newest)]]
    assert widths == [right - left for left, right in newest]  # newest word leftmost (RTL end)


def test_snapshot_plugin_writes_a_readable_jpeg_at_the_interval(tmp_path):
    settings = from_table(
        OverlaySettings, {"path": "live/now.jpg", "interval": 1.0}, "t: [overlay]"
    )
    context = PluginContext(name="overlay", device_id="d", mode="run", state_dir=tmp_path)
    plugin = OverlayPlugin(settings, context)
    plugin.start()
    path = tmp_path / "live" / "now.jpg"
    plugin.on_frame(frame(t=0.0))
    first = path.stat().st_mtime_ns
    plugin.on_frame(frame(np.full((240, 320, 3), 255, np.uint8), t=0.5))  # too soon
    assert path.stat().st_mtime_ns == first
    assert cv2.imread(str(path)).mean() < 50
    plugin.on_frame(frame(np.full((240, 320, 3), 255, np.uint8), t=1.0))
    snapshot = cv2.imread(str(path))
    assert snapshot.shape == (240, 320, 3) and snapshot.mean() > 100
    plugin.stop()
    assert [p.name for p in path.parent.iterdir()] == ["now.jpg"]  # no temporary files left


def test_the_hand_box_and_its_landmarks_are_drawn():
    from edge_arasl_plugins.overlay import HAND_COLOR, JOINT_COLOR

    points = np.array([[300 + 10 * (i % 5), 200 + 12 * (i // 5)] for i in range(21)], float)
    event = FrameEvent(0, 0.0, np.zeros((480, 640, 3), np.uint8), (250, 150, 200, 200), "bb",
                       0.9, "ب", hand_box=(290, 190, 60, 70), landmarks=points)  # fmt: skip
    out = Overlay().draw(event)
    assert (out[190, 300:340] == HAND_COLOR).all(axis=1).any()  # the box's top edge
    for x, y in points.astype(int)[::5]:
        assert (out[y - 1 : y + 2, x - 1 : x + 2] == JOINT_COLOR).all(axis=2).any()
    bare = Overlay().draw(FrameEvent(0, 0.0, event.image, event.roi, "bb", 0.9, "ب"))
    assert not (bare == JOINT_COLOR).all(axis=2).any()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("now.jpg/", r".*/now\.jpg is a folder, not a file$"),
        ("a-file/now.jpg", r"cannot create .*a-file: "),
    ],
)
def test_a_snapshot_path_that_cannot_be_a_file_fails_at_start(tmp_path, path, message):
    (tmp_path / "now.jpg").mkdir()
    (tmp_path / "a-file").write_text("")
    settings = from_table(OverlaySettings, {"path": str(tmp_path / path)}, "t: [overlay]")
    context = PluginContext(name="overlay", device_id="d", mode="process", state_dir=tmp_path)
    with pytest.raises(PluginError, match=r"^\[overlay\] path: " + message):
        OverlayPlugin(settings, context).start()


def test_a_snapshot_in_a_missing_folder_makes_the_folder(tmp_path):
    path = tmp_path / "not" / "yet" / "now.jpg"
    settings = from_table(OverlaySettings, {"path": str(path)}, "t: [overlay]")
    context = PluginContext(name="overlay", device_id="d", mode="process", state_dir=tmp_path)
    plugin = OverlayPlugin(settings, context)
    plugin.start()
    assert path.parent.is_dir() and not path.exists()  # the start check leaves no file
    plugin.on_frame(frame(t=0.0))
    plugin.stop()
    assert cv2.imread(str(path)).shape == (480, 640, 3)
