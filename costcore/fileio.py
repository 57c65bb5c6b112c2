"""Crash-safe file writes.

Every file the annotator depends on (sessions, exports) is written to a temporary sibling,
flushed to disk and then renamed over the target: a crash or kill at any moment leaves either
the old file or the new one, never a torn mix.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path


def fsync_directory(directory: str | Path) -> None:
    """Make a rename inside ``directory`` durable (no-op where the OS does not support it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_file_mode() -> int:
    """The mode a plain ``open()`` would give a new file (0666 less the umask).

    ``mkstemp`` creates 0600 files; results and exports on shared storage must stay readable.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with contextlib.suppress(OSError):
            os.fchmod(fd, _default_file_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_directory(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` as UTF-8 with ``\\n`` line endings, atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def make_temporary_folder(dest: str | Path) -> Path:
    """Create an empty hidden folder beside ``dest`` to build it in, with the usual mode.

    ``tempfile.mkdtemp`` creates 0700 folders, and the rename keeps that mode, so an export
    or checkpoint would be unreadable to the group and others; ``os.mkdir(..., 0o777)`` gives
    0777 less the umask, like any folder the user makes.
    """
    dest = Path(dest)
    while True:
        folder = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            os.mkdir(folder, 0o777)
        except FileExistsError:
            continue
        return folder


def move_folder_into_place(built: str | Path, dest: str | Path) -> None:
    """Rename the finished folder ``built`` to ``dest``, replacing what is there.

    Folders (exports, checkpoints) are built beside their destination and renamed in, so a
    reader never sees a half-written one. An existing ``dest`` is set aside first and deleted
    only after the swap worked; if the swap fails, it is put back.
    """
    built, dest = Path(built), Path(dest)
    if not os.path.lexists(dest):
        os.rename(built, dest)
        return
    aside = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(dest, aside)
    try:
        os.rename(built, dest)
    except BaseException:
        os.rename(aside, dest)
        raise
    shutil.rmtree(aside, ignore_errors=True)
