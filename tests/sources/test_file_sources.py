"""VideoFile and ImageFolder: every frame, in order, with media timestamps; clear errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_arasl.errors import UserError
from edge_arasl.sources.images import ImageFolder
from edge_arasl.sources.video import VideoFile


def test_video_file_yields_every_frame_in_order_with_media_time(make_video, level):
    source = VideoFile(make_video(12, fps=25.0))
    with source:
        assert source.fps == pytest.approx(25.0)
        assert source.frame_size == (160, 120)
        assert source.frame_count == 12
        frames = list(source)
    assert [f.index for f in frames] == list(range(12))
    assert [level(f.image) for f in frames] == list(range(12))
    assert [f.timestamp for f in frames] == pytest.approx([i / 25.0 for i in range(12)])
    assert all(f.gray is None and f.image.shape == (120, 160, 3) for f in frames)


def test_video_file_loop_restarts_with_increasing_time(make_video, level):
    source = VideoFile(make_video(5, fps=10.0), loop=True)
    with source:
        assert source.frame_count is None  # endless
        frames = [source.read() for _ in range(12)]
    assert [level(f.image) for f in frames] == [0, 1, 2, 3, 4] * 2 + [0, 1]
    times = [f.timestamp for f in frames]
    assert times == pytest.approx([i / 10.0 for i in range(12)])


def test_missing_and_unreadable_videos_are_user_errors(tmp_path):
    with pytest.raises(UserError, match=r"nope\.mp4: no such video file"):
        VideoFile(tmp_path / "nope.mp4").open()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(UserError, match=r"junk\.mp4: cannot be opened as a video"):
        VideoFile(junk).open()


def test_image_folder_plays_in_natural_order_and_keeps_gray_as_gray(tmp_path, level):
    for i in (1, 2, 10):
        cv2.imwrite(str(tmp_path / f"img{i}.png"), np.full((32, 48), 10 * i, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    source = ImageFolder(tmp_path, fps=5.0)
    with source:
        assert source.frame_count == 3
        frames = list(source)
    assert [level(f.image) for f in frames] == [1, 2, 10]
    assert [f.timestamp for f in frames] == pytest.approx([0.0, 0.2, 0.4])
    assert all(f.gray is f.image and f.image.shape == (32, 48) for f in frames)


def test_image_folder_errors_name_the_path(tmp_path):
    with pytest.raises(UserError, match="no such folder"):
        ImageFolder(tmp_path / "missing").open()
    with pytest.raises(UserError, match="no images"):
        ImageFolder(tmp_path).open()
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with ImageFolder(tmp_path) as source, pytest.raises(UserError, match=r"broken\.png"):
        source.read()
