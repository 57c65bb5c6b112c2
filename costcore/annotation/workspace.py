"""Where a video's session lives in the workspace, and which video a session belongs to.

Sessions used to be found by the video's *name* alone (``<workspace>/<name>/session.json``),
so an export named like its source (same name, byte-identical JPEG frames) was offered the
source's session, and saving then overwrote one with the other. Now:

- A session folder is still named after the video (``<name>``, then ``<name>-2``, ...: still
  readable in a file manager), but beside ``session.json`` a small ``video.json`` records the
  video it belongs to: the **resolved path** and a **content fingerprint**.
- Opening a video takes the folder whose ``video.json`` names the same resolved path.
- A video that was **moved or renamed** (its old path is gone) is recognised by the
  fingerprint: the file size and the first and last 64 KiB of the video file (for image
  sequences: the frame count and file names, and the sizes and first and last 64 KiB of the
  first and last frame). Modification times are left out on purpose: copying or syncing a
  file changes them, its content stays the same. A file whose fingerprint matches but whose
  old path still exists is a *copy* (an export copies the frames byte for byte): it gets a
  session of its own, never the original's.
- Folders from before ``video.json`` existed (keyed by name only) are read through the
  ``source`` their session file records and get their ``video.json`` when that source is
  the video being opened: old sessions keep loading, and stay with the file they were for.

Also here: :func:`set_aside`, which moves a session that must not be overwritten (damaged,
made for another length of video, or replaced by "start over") to a recognisable name.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costcore.annotation.model import VideoAnnotation
from costcore.annotation.session import backup_path
from costcore.fileio import atomic_write_bytes

SESSION_FILE = "session.json"
#: which video the session folder belongs to
VIDEO_FILE = "video.json"
#: how much of the start and of the end of a file the fingerprint reads
_SAMPLE_BYTES = 64 * 1024


# ============================================================================ fingerprint
def video_fingerprint(frames: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> str:
    """A short content fingerprint of a video file, an image folder or a list of frame files.

    Cheap (at most four 64 KiB reads), independent of where the files are and of their
    modification times. Raises OSError when the files cannot be read.
    """
    digest = hashlib.sha256()
    if isinstance(frames, (str, os.PathLike)):
        path = Path(frames)
        if path.is_dir():
            from costcore.video.opening import sequence_frame_files

            files = sequence_frame_files(path)
        else:
            _sample(digest, path)
            return digest.hexdigest()[:16]
    else:
        files = [Path(p) for p in frames]
    digest.update(f"{len(files)}\n".encode())
    for path in files:
        digest.update(path.name.encode("utf-8", "surrogateescape") + b"\n")
    if files:
        _sample(digest, files[0])
        _sample(digest, files[-1])
    return digest.hexdigest()[:16]


def _sample(digest: Any, path: Path) -> None:
    size = path.stat().st_size
    digest.update(f"{size}\n".encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(_SAMPLE_BYTES))
        if size > 2 * _SAMPLE_BYTES:
            handle.seek(size - _SAMPLE_BYTES)
            digest.update(handle.read(_SAMPLE_BYTES))


# ============================================================================ identity
@dataclass(frozen=True)
class VideoIdentity:
    """Which video a session is for: its resolved path and content fingerprint ("" unknown)."""

    source: str
    fingerprint: str = ""

    def to_bytes(self, name: str) -> bytes:
        document = {"name": name, "source": self.source, "fingerprint": self.fingerprint}
        return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def read_identity(folder: Path) -> VideoIdentity | None:
    """What ``folder/video.json`` says; for an older folder without one, the ``source`` its
    session file records (fingerprint unknown); None when neither can be read."""
    try:
        document = json.loads((folder / VIDEO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        document = None
    if isinstance(document, dict) and isinstance(document.get("source"), str):
        fingerprint = document.get("fingerprint")
        return VideoIdentity(
            document["source"], fingerprint if isinstance(fingerprint, str) else ""
        )
    for candidate in (folder / SESSION_FILE, backup_path(folder / SESSION_FILE)):
        source = _recorded_source(candidate)
        if source is not None:
            return VideoIdentity(source)
    return None


def write_identity(folder: Path, name: str, identity: VideoIdentity) -> None:
    """Record which video the session in ``folder`` is for (atomically)."""
    atomic_write_bytes(folder / VIDEO_FILE, identity.to_bytes(name))


def _recorded_source(session: Path) -> str | None:
    """``video.source`` of a session file, read from its header (the file may be damaged
    further on: the header comes first)."""
    try:
        with open(session, "rb") as handle:
            head = handle.read(256 * 1024).decode("utf-8", errors="replace")
    except OSError:
        return None
    end = head.find('"frames":[')
    if end < 0:
        return None
    try:
        document = json.loads(head[:end].rstrip().rstrip(",") + "}")
        source = document["video"]["source"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    return source if isinstance(source, str) else None


def _same_path(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError, ValueError):
        return a == b


# ============================================================================ finding
@dataclass(frozen=True)
class SessionPlace:
    """Where the session of a video is (or will be) kept.

    ``moved_from`` is the old path of a session found by its fingerprint (the video was moved
    or renamed); ``migrated`` says an older folder just got its ``video.json``.
    """

    folder: Path
    identity: VideoIdentity
    moved_from: str = ""
    migrated: bool = False

    @property
    def session_path(self) -> Path:
        return self.folder / SESSION_FILE

    def has_session(self) -> bool:
        return _has_session(self.folder)


def find_session(workspace: Path, name: str, identity: VideoIdentity) -> SessionPlace:
    """The session folder for the video ``identity`` (named ``name``) in ``workspace``.

    The folder for the same resolved path if there is one (an older folder without
    ``video.json`` gets one: migration); else the folder of a moved video with the same
    fingerprint whose old path is gone; else the first free ``<name>``, ``<name>-2``, ...
    """
    folders = _named_folders(workspace, name)
    identities = {folder: read_identity(folder) for folder in folders}
    for folder, known in identities.items():
        if known is not None and _same_path(known.source, identity.source):
            migrated = (
                not (folder / VIDEO_FILE).exists() or known.fingerprint != identity.fingerprint
            )
            return SessionPlace(folder, identity, migrated=migrated)
    if identity.fingerprint:
        for folder, known in identities.items():
            if (
                known is not None
                and known.fingerprint == identity.fingerprint
                and not Path(known.source).exists()
            ):
                return SessionPlace(folder, identity, moved_from=known.source)
    for folder in _candidate_folders(workspace, name):
        if folder not in identities or (identities[folder] is None and not _has_session(folder)):
            return SessionPlace(folder, identity)
    raise AssertionError("unreachable: the candidate folders never run out")


def claim(place: SessionPlace, name: str) -> None:
    """Write the folder's ``video.json`` (a new folder, a migrated one, a moved video)."""
    place.folder.mkdir(parents=True, exist_ok=True)
    write_identity(place.folder, name, place.identity)


def relocated(annotation: VideoAnnotation, source: str) -> VideoAnnotation:
    """``annotation`` with its video at ``source`` (a moved video's session, resumed)."""
    return VideoAnnotation(
        annotation.name,
        annotation.frame_count,
        source=source,
        frame_size=annotation.frame_size,
        fps=annotation.fps,
        language=annotation.language,
        attributes=annotation.attributes,
        frames=annotation.frames,
        language_attributes=annotation.language_attributes,
    )


def _candidate_folders(workspace: Path, name: str) -> Iterator[Path]:
    yield workspace / name
    for number in itertools.count(2):
        yield workspace / f"{name}-{number}"


def _named_folders(workspace: Path, name: str) -> list[Path]:
    """The ``<name>`` and ``<name>-<n>`` folders that exist, in that order."""
    if not workspace.is_dir():
        return []
    pattern = re.compile(re.escape(name) + r"(-[0-9]+)?")
    found = [p for p in workspace.iterdir() if p.is_dir() and pattern.fullmatch(p.name)]
    return sorted(found, key=lambda p: 0 if p.name == name else int(p.name.rsplit("-", 1)[1]))


def _has_session(folder: Path) -> bool:
    session = folder / SESSION_FILE
    return session.exists() or backup_path(session).exists()


# ============================================================================ setting aside
def set_aside(session_path: str | os.PathLike[str], label: str) -> list[Path]:
    """Move ``session.json`` and its ``.bak`` out of the way, never overwriting anything.

    They become ``session.<label>-<date>-<time>.json`` (and ``....json.bak``) beside the
    original, so a person finds them next to the session that replaces them. Returns the new
    paths (main file first; empty when there was nothing to move).
    """
    session_path = Path(session_path)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for number in itertools.count(1):
        extra = "" if number == 1 else f"-{number}"
        target = session_path.with_name(
            f"{session_path.stem}.{label}-{stamp}{extra}{session_path.suffix}"
        )
        if not target.exists() and not backup_path(target).exists():
            break
    moved = []
    for old, new in ((session_path, target), (backup_path(session_path), backup_path(target))):
        if old.exists():
            os.replace(old, new)
            moved.append(new)
    return moved
