"""Deciding what kind of frame source a path is: a video file, an image folder, a dataset.

Dataset sequences keep their frames in ``img/`` (LaSOT, OTB, UAV123) or ``imgs/`` (TNL2K,
VL-SOT500, whose top-level ``000001.jpg`` is only a cover copy of frame 1), or directly in the
folder (GOT-10k), so the subfolders are preferred over images beside them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from costcore.errors import VideoError
from costcore.video.base import FrameSource
from costcore.video.images import IMAGE_EXTENSIONS, ImageFolderSource, list_image_files
from costcore.video.scan import CancelCallback, ProgressCallback
from costcore.video.videofile import VideoFileSource

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
    | {".ts", ".mts", ".m2ts", ".flv", ".3gp", ".ogv"}
)
FRAME_SUBFOLDERS = ("img", "imgs")


def is_video_file(path: str | Path) -> bool:
    """True when the name has a video extension (case-insensitive)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def sequence_frame_files(folder: str | Path) -> list[Path]:
    """The frame images of a sequence folder: ``img/``, else ``imgs/``, else the folder's own."""
    folder = Path(folder)
    for name in FRAME_SUBFOLDERS:
        sub = folder / name
        if sub.is_dir():
            files = list_image_files(sub)
            if files:
                return files
    files = list_image_files(folder)
    if not files:
        raise VideoError(folder, "no image files here or in img/ or imgs/, and not a video")
    return files


def open_uncached(
    path: str | Path | Iterable[str | Path],
    *,
    fps: float | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> FrameSource:
    """The plain (uncached) source for a video file, an image folder or a list of images."""
    if not isinstance(path, (str, os.PathLike)):
        files = [Path(p) for p in path]
        if not files:
            raise VideoError(Path(), "no frame files given")
        return ImageFolderSource(files, fps=fps or 30.0)
    path = Path(path)
    if not path.exists():
        raise VideoError(path, "no such file or folder")
    if path.is_dir():
        source = ImageFolderSource(sequence_frame_files(path), fps=fps or 30.0)
        source.path = path
        return source
    if is_video_file(path):
        return VideoFileSource(path, fps=fps, progress=progress, cancel=cancel)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return ImageFolderSource([path], fps=fps or 30.0)
    raise VideoError(path, f"not a video file or an image folder ({path.suffix or 'no'} extension)")
