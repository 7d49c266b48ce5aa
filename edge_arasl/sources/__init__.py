"""Frame sources: one module per backend behind :class:`~edge_arasl.sources.base.Source`.

=========== ========================================= ===============================
kind        backend                                   delivery
=========== ========================================= ===============================
picamera    :class:`.picamera.PiCamera` (picamera2)    latest frame (live)
camera      :class:`.camera.Camera` (OpenCV)           latest frame (live)
video       :class:`.video.VideoFile` (OpenCV)         every frame, or paced as live
images      :class:`.images.ImageFolder`               every frame, or paced as live
=========== ========================================= ===============================
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_arasl.sources.base import Frame, Source
from edge_arasl.sources.delivery import LatestFrame, Paced, ReadAhead

if TYPE_CHECKING:
    from edge_arasl.config import SourceSettings

__all__ = ["Frame", "Source", "open_source"]


def _backend(settings: SourceSettings, realtime: bool) -> Source:
    if settings.kind == "picamera":
        from edge_arasl.sources.picamera import PiCamera

        return PiCamera(
            camera=int(settings.device),
            size=(settings.width, settings.height),
            lores_size=(settings.lores_width, settings.lores_height),
            fps=settings.fps,
        )
    if settings.kind == "camera":
        from edge_arasl.sources.camera import Camera

        return Camera(settings.device, settings.width, settings.height, settings.fps)
    if settings.kind == "video":
        from edge_arasl.sources.video import VideoFile

        return VideoFile(settings.path, loop=settings.loop, follow=realtime)
    if settings.kind == "images":
        from edge_arasl.sources.images import ImageFolder

        return ImageFolder(settings.path, fps=settings.fps)
    raise ValueError(f"unknown source kind {settings.kind!r}")


def open_source(settings: SourceSettings, *, realtime: bool = True) -> Source:
    """Open the configured source, wrapped for how its frames must be delivered.

    Cameras are always live. Files and image folders are paced at their frame rate and
    delivered latest-frame like a camera when ``realtime`` (the daemon, ``process
    --realtime``), where a looping video that goes away is waited for like a camera;
    otherwise every frame is delivered in order, decoded ahead on another
    thread (``process``). The caller closes the returned source.
    """
    backend = _backend(settings, realtime)
    if settings.kind in ("picamera", "camera"):
        source: Source = LatestFrame(backend)
    elif realtime:
        source = LatestFrame(Paced(backend))
    else:
        source = ReadAhead(backend)
    try:
        source.open()
    except BaseException:
        source.close()
        raise
    return source
