"""Frame sources: video files and image folders behind one frame-exact interface.

``open_frame_source(path)`` is the entry point: it recognises a video file, an image folder or
a dataset sequence folder and returns a ``FrameSource`` that caches decoded frames (and can
decode ahead). Frames are ``(H, W, 3)`` uint8 RGB; frame i is always the same image.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from costcore.video.base import FrameSource
from costcore.video.cache import CacheStats, FrameCache
from costcore.video.cached import DEFAULT_CACHE_BYTES, CachedFrameSource
from costcore.video.images import IMAGE_EXTENSIONS, ImageFolderSource, list_image_files
from costcore.video.opening import (
    VIDEO_EXTENSIONS,
    is_video_file,
    open_uncached,
    sequence_frame_files,
)
from costcore.video.prefetch import Prefetcher
from costcore.video.scan import CancelCallback, ProgressCallback
from costcore.video.videofile import VideoFileSource

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "CacheStats",
    "CachedFrameSource",
    "FrameCache",
    "FrameSource",
    "ImageFolderSource",
    "Prefetcher",
    "VideoFileSource",
    "is_video_file",
    "list_image_files",
    "open_frame_source",
    "open_uncached",
    "sequence_frame_files",
]


def open_frame_source(
    path: str | Path | Iterable[str | Path],
    *,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
    prefetch: int = 0,
    fps: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> FrameSource:
    """Open a video file, image folder, dataset sequence folder or list of image files.

    ``cache_bytes=0`` returns the plain source (no cache, no prefetching); otherwise a
    ``CachedFrameSource`` with ``prefetch`` frames decoded ahead in the direction of travel.
    ``fps`` overrides the video's rate (image folders default to 30). ``progress``/``cancel``
    follow the one-off index scan of a video file. Raises ``VideoError`` (a missing path, a
    file that is neither video nor image, a folder without images) or ``Cancelled``.
    """
    source = open_uncached(path, fps=fps, progress=progress, cancel=cancel)
    if cache_bytes <= 0:
        return source
    return CachedFrameSource(source, cache_bytes, prefetch=prefetch)
