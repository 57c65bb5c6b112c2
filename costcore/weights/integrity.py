"""SHA-256 of files, and the stamps that spare re-hashing them on every status check.

The app asks at start-up which weights are installed; hashing every file each time would cost
a read of every megabyte. Once a file has been hashed and found right, its size and
modification time are recorded (``.verified.json`` in the entry's folder); while both are
unchanged the file counts as verified. Replacing or editing the file changes its stamp, which
triggers a new hash; ``verify`` always re-hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from costcore.fileio import atomic_write_text

STAMP_FILE_NAME = ".verified.json"
_CHUNK = 1 << 20


def sha256_of_file(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Stamp:
    """What a file looked like when it was last hashed, and the hash."""

    size: int
    mtime_ns: int
    sha256: str

    @classmethod
    def of(cls, path: Path, sha256: str) -> Stamp:
        info = path.stat()
        return cls(info.st_size, info.st_mtime_ns, sha256)

    def matches(self, path: Path) -> bool:
        """Whether ``path`` still has the size and modification time recorded."""
        try:
            info = path.stat()
        except OSError:
            return False
        return info.st_size == self.size and info.st_mtime_ns == self.mtime_ns


def read_stamps(folder: Path) -> dict[str, Stamp]:
    """The stamps recorded in ``folder``; a missing or damaged record counts as empty."""
    try:
        raw = json.loads((folder / STAMP_FILE_NAME).read_text(encoding="utf-8"))
        return {
            name: Stamp(int(v["size"]), int(v["mtime_ns"]), str(v["sha256"]))
            for name, v in raw.items()
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def record_stamp(folder: Path, name: str, stamp: Stamp | None) -> None:
    """Record (or with ``None`` forget) the stamp of file ``name`` in ``folder``.

    A cache the user cannot write (a read-only shared copy) simply stays unrecorded: the files
    are then hashed on each check, which is slower but still right.
    """
    stamps = read_stamps(folder)
    if stamp is None:
        if stamps.pop(name, None) is None:
            return
    else:
        stamps[name] = stamp
    payload = {
        key: {"size": s.size, "mtime_ns": s.mtime_ns, "sha256": s.sha256}
        for key, s in sorted(stamps.items())
    }
    with contextlib.suppress(OSError):
        atomic_write_text(folder / STAMP_FILE_NAME, json.dumps(payload, indent=1) + "\n")
