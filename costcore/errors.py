"""Typed errors shared by every part of costcore.

Callers (the app, the CLI) catch :class:`CostcoreError` and show ``str(error)``: every message
names the file, and the line where one applies, so an annotator can fix the input by hand.
"""

from __future__ import annotations

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


class VideoError(CostcoreError):
    """A video file or image folder cannot be opened, or a frame cannot be decoded."""

    def __init__(self, path: str | Path, message: str, frame: int | None = None) -> None:
        self.path = Path(path)
        self.frame = frame
        self.message = message
        where = f"{self.path}" if frame is None else f"{self.path}, frame {frame}"
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
