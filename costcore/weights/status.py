"""Which weights are on this machine: cheap status for start-up, full re-hash on request.

``entry_status`` and ``installed_path`` trust a file whose size and modification time match
the stamp recorded when it was last hashed (see :mod:`costcore.weights.integrity`); a file
without a valid stamp (copied in by hand, replaced, touched) is hashed once and stamped, with
the bytes it was found to have, so a damaged file is not hashed again on every check either.
``verify_entry`` re-hashes every present file.

``quick=True`` (start-up questions: which engines are ready, which engine is the default)
reads no file's bytes at all: a file counts by its stamp, and a right-size file without one
(copied in by hand) counts as installed until an engine loads it, which hashes it then.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from costcore.weights.cache_folder import entry_folder, partial_path
from costcore.weights.catalogue import (
    WeightsEntry,
    WeightsFile,
    entries_for_engine,
    find_entry,
)
from costcore.weights.errors import WeightsCatalogueError
from costcore.weights.integrity import Stamp, read_stamps, record_stamp, sha256_of_file


class WeightsStatus(str, enum.Enum):
    """State of one file, or of an entry (the worst of its files)."""

    #: present with the published checksum
    INSTALLED = "installed"
    #: nothing there
    MISSING = "missing"
    #: a download stopped part way (resumable), or only some of an entry's files are there
    PARTIAL = "partial"
    #: present but not the published bytes (wrong size or checksum)
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class FileCheck:
    """The state of one file of an entry; ``actual_sha256`` is set when it was hashed."""

    file: WeightsFile
    path: Path
    status: WeightsStatus
    actual_sha256: str | None = None
    #: the size on disk (``None`` when missing)
    actual_size: int | None = None

    @property
    def detail(self) -> str:
        """One line on what is wrong, empty when installed."""
        if self.status is WeightsStatus.CORRUPT:
            if self.actual_size is None:
                return "not a readable file"
            if self.actual_size is not None and self.actual_size != self.file.size:
                return f"{self.actual_size} bytes, expected {self.file.size}"
            return f"SHA-256 {self.actual_sha256}, expected {self.file.sha256}"
        if self.status is WeightsStatus.PARTIAL:
            done = partial_path(self.path).stat().st_size if self._has_partial() else 0
            return f"download stopped at {done} of {self.file.size} bytes"
        if self.status is WeightsStatus.MISSING:
            return "not downloaded"
        return ""

    def _has_partial(self) -> bool:
        return partial_path(self.path).is_file()


def _resolve(entry: WeightsEntry | str) -> WeightsEntry:
    return find_entry(entry) if isinstance(entry, str) else entry


def check_file(
    folder: Path, file: WeightsFile, stamps: dict[str, Stamp], rehash: bool, quick: bool = False
) -> FileCheck:
    """The state of ``file`` in ``folder``; hashes only without a matching stamp or if asked
    (``rehash``), never with ``quick`` (an unstamped right-size file then counts as installed).
    """
    path = folder / file.name
    try:
        info = path.stat()
    except OSError:
        partial = partial_path(path).is_file()
        return FileCheck(file, path, WeightsStatus.PARTIAL if partial else WeightsStatus.MISSING)
    if not path.is_file() or info.st_size != file.size:
        size = info.st_size if path.is_file() else None
        return FileCheck(file, path, WeightsStatus.CORRUPT, actual_size=size)
    stamp = stamps.get(file.name)
    if not rehash and stamp is not None and stamp.matches(path):
        # the bytes were hashed since the file last changed: the stamp says what they are
        good = stamp.sha256 == file.sha256
        status = WeightsStatus.INSTALLED if good else WeightsStatus.CORRUPT
        return FileCheck(
            file, path, status, None if good else stamp.sha256, actual_size=info.st_size
        )
    if quick:
        return FileCheck(file, path, WeightsStatus.INSTALLED, actual_size=info.st_size)
    try:
        got = sha256_of_file(path)
    except OSError:
        return FileCheck(file, path, WeightsStatus.CORRUPT, actual_size=info.st_size)
    record_stamp(folder, file.name, Stamp.of(path, got))
    status = WeightsStatus.INSTALLED if got == file.sha256 else WeightsStatus.CORRUPT
    return FileCheck(file, path, status, actual_sha256=got, actual_size=info.st_size)


def check_entry(
    entry: WeightsEntry | str, root: Path | None = None, rehash: bool = False, quick: bool = False
) -> list[FileCheck]:
    """The state of each of ``entry``'s files, in catalogue order (``quick``: see the module)."""
    entry = _resolve(entry)
    folder = entry_folder(entry, root)
    stamps = read_stamps(folder)
    return [check_file(folder, f, stamps, rehash, quick) for f in entry.files]


def combine_status(checks: list[FileCheck]) -> WeightsStatus:
    """An entry's status from its files': corrupt beats partial beats missing/installed."""
    states = {c.status for c in checks}
    if states == {WeightsStatus.INSTALLED}:
        return WeightsStatus.INSTALLED
    if WeightsStatus.CORRUPT in states:
        return WeightsStatus.CORRUPT
    if states == {WeightsStatus.MISSING}:
        return WeightsStatus.MISSING
    return WeightsStatus.PARTIAL


def entry_status(
    entry: WeightsEntry | str, root: Path | None = None, quick: bool = False
) -> WeightsStatus:
    """installed / missing / partial / corrupt, without re-hashing stamped files (``quick``:
    without hashing any file)."""
    return combine_status(check_entry(entry, root, quick=quick))


def installed_path(
    entry: WeightsEntry | str, root: Path | None = None, quick: bool = False
) -> Path | None:
    """The checked local weights of ``entry``: its file, or its folder when it has several.

    ``None`` when anything is missing, partial or corrupt. ``quick``: hash nothing (see the
    module); what an engine loads must come from a call without it.
    """
    entry = _resolve(entry)
    if entry_status(entry, root, quick) is not WeightsStatus.INSTALLED:
        return None
    folder = entry_folder(entry, root)
    return folder / entry.files[0].name if len(entry.files) == 1 else folder


class WeightsNotInstalledError(WeightsCatalogueError):
    """An engine asked for weights that are not (completely, correctly) in the cache."""

    def __init__(self, entry: WeightsEntry, folder: Path, status: WeightsStatus) -> None:
        self.entry = entry
        self.folder = folder
        self.status = status
        super().__init__(
            f"{folder}: weights '{entry.name}' are {status.value}; get them with "
            f"`python -m costcore weights download {entry.name}`"
        )


def require_installed(entry: WeightsEntry | str, root: Path | None = None) -> Path:
    """Like :func:`installed_path`, but a missing entry is an error saying how to get it."""
    entry = _resolve(entry)
    path = installed_path(entry, root)
    if path is None:
        raise WeightsNotInstalledError(entry, entry_folder(entry, root), entry_status(entry, root))
    return path


def first_installed(
    engine: str, root: Path | None = None, quick: bool = False
) -> tuple[WeightsEntry, Path] | None:
    """The preferred installed entry of ``engine`` and its path, or ``None`` if it has none.

    ``quick``: judge by sizes and stamps only, for start-up questions (see the module).
    """
    for entry in entries_for_engine(engine):
        path = installed_path(entry, root, quick)
        if path is not None:
            return entry, path
    return None


def install_hint(entry: WeightsEntry | str) -> str:
    """How a user gets ``entry``: the download command, and the offline way."""
    name = _resolve(entry).name
    return f"run `python -m costcore weights download {name}` (or `... --from FILE` offline)"


def verify_entry(entry: WeightsEntry | str, root: Path | None = None) -> list[FileCheck]:
    """Re-hash every present file of ``entry`` (missing ones are reported as missing)."""
    return check_entry(entry, root, rehash=True)
