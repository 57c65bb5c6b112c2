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


class ConfigError(FormatError):
    """A configuration value that cannot be used: an unknown or missing field, a wrong type, a
    value out of range, or a network too big to build. ``field`` names it (None when the
    problem is the file as a whole); ``path`` is the file it came from, or None for values
    given in code, which then read ``"<what>: field 'x': ..."``.
    """

    def __init__(
        self,
        path: str | Path | None,
        message: str,
        field: str | None = None,
        line: int | None = None,
        what: str = "config",
    ) -> None:
        self.field = field
        self.detail = message
        self.what = what
        text = message if field is None else f"field {field!r}: {message}"
        if path is not None:
            super().__init__(path, text, line)
            return
        self.path = None  # type: ignore[assignment]
        self.line = line
        self.message = text
        Exception.__init__(self, f"{what}: {text}")

    def in_file(self, path: str | Path, line: int | None = None) -> ConfigError:
        """The same problem, now naming the file the values were read from."""
        return ConfigError(path, self.detail, self.field, line or self.line, self.what)

    def within(self, section: str) -> ConfigError:
        """The same problem in a config nested under ``section`` of a bigger one."""
        field = section if self.field is None else f"{section}.{self.field}"
        return ConfigError(self.path, self.detail, field, self.line, self.what)
