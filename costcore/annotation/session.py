"""Session files on disk: crash-safe saving with a backup, validated loading, recovery.

Sessions are autosaved often, so saving must be fast and crash-safe: the file is written
atomically (temp file, fsync, rename; ``costcore.fileio``) and the previous good version is
kept as ``<name>.bak``, so even a main file damaged outside our control can be recovered.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costcore.annotation.model import VideoAnnotation
from costcore.annotation.session_codec import decode_session, encode_session
from costcore.errors import SessionError
from costcore.fileio import (
    atomic_write_bytes,
    read_regular_file,
    remove_stale_temporaries,
    temporary_sibling,
)

BACKUP_SUFFIX = ".bak"


@dataclass
class LoadedSession:
    """What :func:`load_session` / :func:`recover_session` return."""

    annotation: VideoAnnotation
    ui: dict[str, Any] = field(default_factory=dict)
    path: Path = field(default_factory=Path)  # the file actually read
    from_backup: bool = False


def backup_path(path: str | Path) -> Path:
    """Where the previous good version of ``path`` is kept."""
    path = Path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)


# Session files this process wrote or fully validated, by identity (device, inode, size,
# mtime). Saving over such a file may make it the backup without parsing it again, which keeps
# autosaves of long videos fast; anything else is validated first.
_known_good: dict[str, tuple[int, int, int, int]] = {}


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _remember(path: Path, identity: tuple[int, int, int, int] | None) -> None:
    if identity is not None:
        _known_good[os.path.abspath(path)] = identity


# ------------------------------------------------------------------------------ saving
def save_session(
    path: str | Path, annotation: VideoAnnotation, ui: dict[str, Any] | None = None
) -> None:
    """Write the session atomically, keeping the previous good version as ``<name>.bak``.

    ``ui`` is app state to restore with the session (current frame, zoom): plain JSON data.
    The current file becomes the backup only if it is a valid session, so saving over a
    damaged file never destroys the last good backup. A crash at any moment leaves a valid
    main file (old or new) and the backup untouched or replaced whole.
    """
    path = Path(path)
    try:
        data = encode_session(annotation, ui)
    except ValueError as error:
        raise SessionError(path, str(error)) from None
    try:
        if _is_good_session(path):
            _keep_backup(path)
        atomic_write_bytes(path, data)
    except OSError as error:
        raise SessionError(path, f"cannot write the session: {error}") from None
    _remember(path, _identity(path))


def _is_good_session(path: Path) -> bool:
    identity = _identity(path)
    if identity is None:
        return False
    if _known_good.get(os.path.abspath(path)) == identity:
        return True
    try:
        decode_session(path, read_regular_file(path))
    except (OSError, SessionError):
        return False
    return True


def _keep_backup(path: Path) -> None:
    """Make the current file the backup without copying it (a hard link, then a rename).

    Both steps only touch directory entries, so the main file is never missing and the
    backup is always whole; file systems without hard links get an atomic copy instead.
    """
    backup = backup_path(path)
    remove_stale_temporaries(backup, once=True)  # links a killed save left
    link = temporary_sibling(backup, "tmp")
    try:
        os.link(path, link)
    except OSError:
        atomic_write_bytes(backup, path.read_bytes())
        return
    try:
        os.replace(link, backup)
    finally:
        # Normally gone; but when the backup already is the main file (a save killed between
        # making the backup and writing the new file leaves them hard-linked), rename() of a
        # link onto the same file does nothing and leaves the link behind.
        with contextlib.suppress(OSError):
            os.unlink(link)


# ----------------------------------------------------------------------------- loading
def load_session(path: str | Path) -> LoadedSession:
    """Read and validate a session file; any problem raises SessionError naming the file."""
    path = Path(path)
    identity = _identity(path)
    try:
        data = read_regular_file(path)
    except FileNotFoundError:
        raise SessionError(path, "session file not found") from None
    except OSError as error:
        raise SessionError(path, f"cannot read the session: {error}") from None
    annotation, ui = decode_session(path, data)
    if identity == _identity(path):  # unchanged while we read it: known good from now on
        _remember(path, identity)
    return LoadedSession(annotation, ui, path)


def recover_session(path: str | Path) -> LoadedSession:
    """Load ``path``, or its ``.bak`` when the main file is missing or damaged.

    ``from_backup`` on the result tells the app to say that the last changes may be lost.
    Raises SessionError (listing both problems) when neither file is usable.
    """
    path = Path(path)
    try:
        return load_session(path)
    except SessionError as main_error:
        backup = backup_path(path)
        try:
            loaded = load_session(backup)
        except SessionError as backup_error:
            raise SessionError(
                path, f"{main_error.message}; backup {backup}: {backup_error.message}"
            ) from None
        loaded.from_backup = True
        return loaded
