"""Typed errors shared by every part of costcore.

Callers (the app, the CLI) catch :class:`CostcoreError` and show ``str(error)``: every message
names the file, and the line where one applies, so an annotator can fix the input by hand.
"""

from __future__ import annotations

import errno
from pathlib import Path


class CostcoreError(Exception):
    """Base class of every error costcore raises on bad input or failed I/O."""


class FormatError(CostcoreError, ValueError):
    """A dataset or annotation file is malformed or missing.

    ``path`` is the offending file (or folder), ``line`` its 1-based line number when known.
    """

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}" if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}")


class NotRegularFileError(CostcoreError, OSError):
    """A path that is read as a file is a folder, a FIFO, a device or a socket.

    Reading a FIFO or a device blocks forever (or never ends), so readers refuse them before
    reading. Also an ``OSError``, so every reader's existing ``except OSError`` turns it into
    that reader's own typed error naming the file.
    """

    def __init__(self, path: str | Path, kind: str) -> None:
        self.path = Path(path)
        self.kind = kind
        OSError.__init__(self, errno.EINVAL, f"is {kind}, not a regular file", str(path))

    def __str__(self) -> str:
        return f"{self.path}: {self.strerror}"


class VideoError(CostcoreError):
    """A video file or image folder cannot be opened, or a frame cannot be decoded.

    ``frame`` is the 0-based index frame sources use; the message shows it 1-based ("frame
    1" is the first), as the app, the exports and every other message count frames.
    """

    def __init__(self, path: str | Path, message: str, frame: int | None = None) -> None:
        self.path = Path(path)
        self.frame = frame
        self.message = message
        where = f"{self.path}" if frame is None else f"{self.path}, frame {frame + 1}"
        super().__init__(f"{where}: {message}")


class SessionError(CostcoreError):
    """A session file cannot be read or written."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class ExportError(CostcoreError):
    """An export could not be written; nothing at the destination was changed."""


class Cancelled(CostcoreError):
    """Long work (export, decoding, tracking) was cancelled by the user; nothing was changed."""
