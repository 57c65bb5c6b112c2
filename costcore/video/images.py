"""Frames stored as image files: image folders and dataset ``img/`` folders.

Images are read as bytes and decoded with ``cv2.imdecode`` so non-ASCII paths work on every
platform (``cv2.imread`` fails on them on Windows). Decoding is stateless, so this source needs
no lock and several threads decode in parallel.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from costcore.errors import VideoError
from costcore.fileio import read_regular_file
from costcore.video.base import FrameSource
from costcore.video.indexing import check_index

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
#: the format each image extension promises
_EXTENSION_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
#: magic bytes at the start of each format (what the file really is, whatever its name)
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"GIF8", "GIF"),
)
_CHUNKS = re.compile(r"([0-9]+)")


def natural_key(name: str) -> tuple[object, ...]:
    """Sort key comparing digit runs as numbers, text case-insensitively ("a2" < "a10").

    The same rule as the dataset readers use, so frame i here is frame i there.
    """
    parts = _CHUNKS.split(name.lower())
    # re.split with one group alternates text, digits, text, ... so positions never mix types.
    key = tuple(int(part) if position % 2 else part for position, part in enumerate(parts))
    return (key, name)


def is_image_name(name: str) -> bool:
    """Visible files with an image extension (macOS ``._0001.jpg`` companions are hidden)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def list_image_files(folder: str | Path) -> list[Path]:
    """The image files directly in ``folder``, natural-sorted; ``VideoError`` if unreadable."""
    folder = Path(folder)
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in entries if is_image_name(e.name) and e.is_file()]
    except FileNotFoundError:
        raise VideoError(folder, "folder not found") from None
    except NotADirectoryError:
        raise VideoError(folder, "not a folder") from None
    except OSError as error:
        raise VideoError(folder, f"cannot list folder: {error.strerror or error}") from None
    names.sort(key=natural_key)
    return [folder / name for name in names]


def image_format(data: bytes) -> str | None:
    """The image format ``data`` really is, from its magic bytes (None when unknown)."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    return None


def _misnamed(path: Path, actual: str | None) -> str:
    """``" (file.jpg is a PNG image, not a JPEG)"`` when the name lies about the format."""
    named = _EXTENSION_FORMATS.get(path.suffix.lower())
    if named is None or actual is None or actual == named:
        return ""
    return f" ({path.name} is a {actual} image, not a {named})"


def _jpeg_is_truncated(data: bytes) -> bool:
    """True when the last scan of a JPEG has no end marker after it.

    libjpeg decodes a cut-off JPEG "successfully" with a grey bottom; that would be a silently
    wrong frame. Entropy-coded data never contains FFD9/FFDA (0xFF is byte-stuffed), so the
    last start-of-scan must be followed by an end-of-image marker.
    """
    return data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda")


def read_image_rgb(path: Path, frame: int | None = None) -> np.ndarray:
    """Decode one image file to ``(H, W, 3)`` uint8 RGB (grey and alpha images converted).

    Like ``cv2.imread``: 16-bit images are scaled to 8 bit and EXIF orientation is applied.
    The format comes from the file's magic bytes, not its name: a PNG named ``.jpg`` is
    decoded as the PNG it is, and if it cannot be, the error says what it really is.
    ``frame`` (0-based) goes into errors, shown 1-based.
    """
    try:
        data = read_regular_file(path)
    except OSError as error:
        raise VideoError(path, f"cannot read image: {error.strerror or error}", frame) from None
    if not data:
        raise VideoError(path, "image file is empty", frame)
    actual = image_format(data)
    if actual == "JPEG" and _jpeg_is_truncated(data):
        raise VideoError(path, "JPEG file is truncated" + _misnamed(path, actual), frame)
    try:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as error:
        message = f"cannot decode image: {error.err}{_misnamed(path, actual)}"
        raise VideoError(path, message, frame) from None
    if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3:
        what = "corrupt or unsupported format" if actual is None else f"a damaged {actual} file"
        raise VideoError(path, f"cannot decode image: {what}{_misnamed(path, actual)}", frame)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class ImageFolderSource(FrameSource):
    """Frames from a list of image files, or from the images of a folder in natural order.

    The frame size is the first image's; an image of another size is an error naming the
    file (a tracker or an export would otherwise get boxes in the wrong coordinates).
    """

    def __init__(self, paths_or_folder: str | Path | Iterable[str | Path], *, fps: float = 30.0):
        if isinstance(paths_or_folder, (str, os.PathLike)):
            self.path = Path(paths_or_folder)
            if not self.path.exists():
                raise VideoError(self.path, "no such folder")
            self._files = list_image_files(self.path)
        else:
            self._files = [Path(p) for p in paths_or_folder]
            self.path = self._files[0].parent if self._files else Path()
        if not self._files:
            raise VideoError(self.path, "no image files (.jpg .jpeg .png .bmp .tif)")
        self.fps = fps
        first = read_image_rgb(self._files[0], 0)
        self._shape = first.shape

    @property
    def frame_count(self) -> int:
        return len(self._files)

    @property
    def frame_size(self) -> tuple[int, int]:
        return (self._shape[1], self._shape[0])

    @property
    def fps(self) -> float:
        return self._fps

    @fps.setter
    def fps(self, value: float) -> None:
        value = float(value)
        if not value > 0 or value == float("inf"):
            raise ValueError(f"fps must be a positive number, got {value}")
        self._fps = value

    @property
    def files(self) -> list[Path]:
        """The image files in frame order (a copy)."""
        return list(self._files)

    def frame_path(self, index: int) -> Path:
        return self._files[check_index(index, len(self._files))]

    def frame(self, index: int) -> np.ndarray:
        i = check_index(index, len(self._files))
        path = self._files[i]
        rgb = read_image_rgb(path, i)
        if rgb.shape != self._shape:
            height, width = rgb.shape[:2]
            expected = f"{self._shape[1]}x{self._shape[0]}"
            raise VideoError(
                path, f"image is {width}x{height}, but frame 1 is {expected}; sizes must match", i
            )
        return rgb

    def __repr__(self) -> str:
        return f"ImageFolderSource({str(self.path)!r}, frames={self.frame_count})"
