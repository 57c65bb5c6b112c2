"""Crash-safe file writes, and the clean-up of what a killed writer left behind.

Every file the annotator depends on (sessions, exports) is written to a temporary sibling,
flushed to disk and then renamed over the target: a crash or kill at any moment leaves either
the old file or the new one, never a torn mix.

A kill can still leave the temporary sibling itself. Every temporary is therefore named
``.<target>.~<pid>@<host>.<random>.<kind>`` (kind ``tmp`` for a file, ``partial`` for a folder
being built, ``old`` for a folder set aside): the next writer of the same target recognises it
as ours and removes it once its owner cannot be writing it any more (that process is gone, or
it is older than any write takes), so a concurrent writer is never disturbed.

Folders are swapped in with ``renameat2(RENAME_EXCHANGE)`` where Linux offers it, so a reader
always finds the destination (old or new); elsewhere two renames leave a moment without it, and
a kill in that moment is repaired by the next writer, which puts the set-aside folder back.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import re
import shutil
import socket
import stat
import sys
import time
import uuid
from pathlib import Path
from typing import BinaryIO

from costcore.errors import NotRegularFileError

#: temporaries whose owner is alive (or on another host) are removed only after this long:
#: no save, export or checkpoint takes a day, and process ids are eventually reused
STALE_AFTER_S = 24 * 3600.0
#: temporaries named by earlier versions carry no owner; they are removed after this long
LEGACY_STALE_AFTER_S = 24 * 3600.0

_HOST = hashlib.blake2b(socket.gethostname().encode("utf-8", "replace"), digest_size=4).hexdigest()
_KINDS = ("tmp", "partial", "old")
_OURS = re.compile(
    r"^\.(?P<target>.+)\.~(?P<pid>[0-9]+)@(?P<host>[0-9a-f]{8})\.[0-9a-f]{8}\."
    r"(?P<kind>tmp|partial|old)$"
)
# Names written before temporaries carried their owner: mkstemp's ".T.xxxxxxxx.tmp", the
# session backup link ".T.<32 hex>.tmp", mkdtemp's ".T.xxxxxxxx.partial" and ".T.xxxxxxxx",
# the set-aside ".T.old-xxxxxxxx" and the training staging ".T.saving-<pid>".
_LEGACY = re.compile(
    r"^\.(?P<target>.+)\.(?:[a-z0-9_]{8}\.tmp|[0-9a-f]{32}\.tmp|[a-z0-9_]{8}\.partial"
    r"|[a-z0-9_]{8}|old-[0-9a-f]{8}|saving-(?P<pid>[0-9]+))$"
)


def temporary_sibling(target: str | Path, kind: str = "tmp") -> Path:
    """A fresh name beside ``target`` for a temporary of this process (see the module doc)."""
    if kind not in _KINDS:
        raise ValueError(f"unknown temporary kind {kind!r}")
    target = Path(target)
    return target.with_name(f".{target.name}.~{os.getpid()}@{_HOST}.{uuid.uuid4().hex[:8]}.{kind}")


def _process_is_gone(pid: int) -> bool:
    """True only when no process ``pid`` exists here (unknown counts as alive)."""
    if os.name != "posix" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # EPERM: it exists, as another user
        return False
    return False


def _age_seconds(path: Path) -> float:
    """Seconds since ``path`` (or, for a folder, anything directly in it) last changed."""
    try:
        newest = os.lstat(path).st_mtime
        if os.path.isdir(path) and not os.path.islink(path):
            with os.scandir(path) as entries:
                for entry in entries:
                    with contextlib.suppress(OSError):
                        newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
    except OSError:
        return 0.0
    return time.time() - newest


def _is_stale(path: Path, pid: int | None, host: str | None) -> bool:
    if pid is not None and host in (None, _HOST) and _process_is_gone(pid):
        return True
    limit = STALE_AFTER_S if host is not None else LEGACY_STALE_AFTER_S
    return _age_seconds(path) > limit


def _remove(path: Path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


_checked_targets: set[str] = set()


def remove_stale_temporaries(target: str | Path, *, once: bool = False) -> list[Path]:
    """Remove what killed writers of ``target`` left beside it; returns what was removed.

    With ``once``, only the first call for ``target`` in this process looks: autosaves write
    the same file every few seconds, and what a dead writer left is there from the start.
    Only names this module (or an earlier version of it) gives temporaries are touched, and
    only when their writer cannot still be at work. A folder set aside by an interrupted swap
    is put back when ``target`` itself is missing, instead of being removed.
    """
    target = Path(target)
    if once:
        key = os.path.abspath(target)
        if key in _checked_targets:
            return []
        _checked_targets.add(key)
    prefix = f".{target.name}."
    try:
        with os.scandir(target.parent) as entries:
            names = [entry.name for entry in entries if entry.name.startswith(prefix)]
    except OSError:
        return []
    removed = []
    for name in sorted(names):
        ours = _OURS.match(name)
        match = ours or _LEGACY.match(name)
        if match is None or match.group("target") != target.name:
            continue
        path = target.parent / name
        if match is not ours and "." not in name[len(prefix) :] and not path.is_dir():
            continue  # mkdtemp's bare ".T.xxxxxxxx" was only ever a folder
        pid_text = match.group("pid")
        host = ours.group("host") if ours else None
        if not _is_stale(path, int(pid_text) if pid_text else None, host):
            continue
        set_aside = (ours is not None and ours.group("kind") == "old") or ".old-" in name
        if set_aside and os.path.isdir(path) and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.rename(path, target)  # the swap was cut between its two renames: undo it
                continue
        _remove(path)
        removed.append(path)
    return removed


# ---------------------------------------------------------------------- reading user files
def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


def check_regular_file(path: str | Path) -> None:
    """Raise :class:`NotRegularFileError` unless ``path`` is a regular file (after symlinks).

    For paths handed to a library that opens them itself (torch, safetensors, FFmpeg); a
    missing path raises ``FileNotFoundError`` as ``open`` would.
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularFileError(path, _kind_of(mode))


def open_regular_file(path: str | Path) -> BinaryIO:
    """Open a user-given file for reading in binary, refusing anything but a regular file.

    A FIFO named like a session or a config would block ``open`` until a writer appears, and
    a device would never end. ``O_NONBLOCK`` makes the open return at once whatever ``path``
    is, and ``fstat`` on the open descriptor decides (no race with a swapped path); for a
    regular file the flag changes nothing. Raises ``NotRegularFileError`` (an ``OSError``)
    or the ``OSError`` of ``open``.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(path, _kind_of(mode))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str | Path) -> bytes:
    """All bytes of a regular file (see :func:`open_regular_file`)."""
    with open_regular_file(path) as handle:
        return handle.read()


def read_regular_text(path: str | Path, encoding: str = "utf-8") -> str:
    """A regular file decoded as text (``UnicodeDecodeError`` as ``Path.read_text`` raises)."""
    return read_regular_file(path).decode(encoding)


# ------------------------------------------------------------------- checking output paths
def _nearest_existing(folder: Path) -> Path:
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def output_file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be written as a file (None when it can), checked before long work.

    A run that tracks every frame and then fails to write its results loses them all, so
    the CLI asks first: ``path`` must not be a folder or a FIFO, and the folder it goes in
    (or the nearest one that exists, where the missing ones would be made) must take a new
    file. That is tried for real (a probe file, removed at once): permission bits do not
    tell about read-only mounts, immutable folders or root.
    """
    path = Path(path)
    if os.path.lexists(path):
        try:
            mode = os.stat(path).st_mode
        except OSError as error:  # a dangling symlink: the write would follow it
            return f"cannot be written: {error.strerror or error}"
        if not stat.S_ISREG(mode):
            return f"is {_kind_of(mode)}; give a file name"
    folder = _nearest_existing(path.parent if str(path.parent) else Path("."))
    if not os.path.isdir(folder):
        return f"{folder} is not a folder"
    probe = temporary_sibling(folder / path.name, "tmp")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        return f"cannot write in {folder}: {error.strerror or error}"
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


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


def _create_temporary_file(path: Path) -> tuple[int, str]:
    """Open a new temporary sibling of ``path`` exclusively.

    Mode 0666 less the umask, as a plain ``open()`` gives (``mkstemp``'s 0600 would survive
    the rename): results and exports on shared storage must stay readable.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        name = temporary_sibling(path, "tmp")
        try:
            return os.open(name, flags, 0o666), str(name)
        except FileExistsError:
            continue


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path, once=True)
    fd, tmp_name = _create_temporary_file(path)
    try:
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
    0777 less the umask, like any folder the user makes. What killed builders of ``dest``
    left is removed first.
    """
    dest = Path(dest)
    remove_stale_temporaries(dest)
    while True:
        folder = temporary_sibling(dest, "partial")
        try:
            os.mkdir(folder, 0o777)
        except FileExistsError:
            continue
        return folder


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE_ERRORS = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV}


def _load_renameat2() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2  # glibc >= 2.28
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def exchange_paths(first: str | Path, second: str | Path) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    False when this system or file system cannot (then nothing changed); OSError for a real
    failure.
    """
    if _renameat2 is None:
        return False
    result = _renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCHANGE_ERRORS:
        return False
    raise OSError(code, os.strerror(code), str(first), None, str(second))


def move_folder_into_place(built: str | Path, dest: str | Path) -> None:
    """Rename the finished folder ``built`` to ``dest``, replacing what is there.

    Folders (exports, checkpoints) are built beside their destination and renamed in, so a
    reader never sees a half-written one. An existing ``dest`` is exchanged with ``built`` in
    one step where the system can (``dest`` never goes missing), and the old folder, now at
    ``built``'s hidden name, is deleted. Elsewhere the old folder is renamed aside first and
    put back if the second rename fails; a kill between the two is repaired by the next
    writer (see :func:`remove_stale_temporaries`).
    """
    built, dest = Path(built), Path(dest)
    if not os.path.lexists(dest):
        os.rename(built, dest)
        return
    if exchange_paths(built, dest):
        _remove(built)  # the old folder; a kill here leaves a stale "partial" the next
        return  # writer removes
    aside = temporary_sibling(dest, "old")
    os.rename(dest, aside)
    try:
        os.rename(built, dest)
    except BaseException:
        os.rename(aside, dest)
        raise
    shutil.rmtree(aside, ignore_errors=True)
