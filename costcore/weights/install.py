"""Install weights from files already on this machine (offline users, mirrors, tests).

A user without network downloads the published URL elsewhere and hands the file (or a folder
holding it) to :func:`install_from`. The file is accepted by its checksum, not its name, so a
browser's ``nanotrackv3 (1).pth`` works too; its bytes are copied beside the target, hashed as
copied and renamed into place only when they are the published ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from costcore.fileio import fsync_directory
from costcore.weights.cache_folder import entry_folder
from costcore.weights.catalogue import WeightsEntry, WeightsFile, find_entry
from costcore.weights.errors import WeightsChecksumError, WeightsSourceError
from costcore.weights.integrity import Stamp, record_stamp, sha256_of_file
from costcore.weights.status import WeightsStatus, check_entry

_CHUNK = 1 << 20


def install_from(
    entry: WeightsEntry | str, sources: Sequence[str | os.PathLike[str]], root: Path | None = None
) -> Path:
    """Copy ``entry``'s files from ``sources`` (files or folders) into the cache.

    Every missing file must be found (by size and SHA-256) before anything is copied, so a
    failed install changes nothing. Returns what ``installed_path`` returns.
    """
    entry = find_entry(entry) if isinstance(entry, str) else entry
    paths = [Path(s).expanduser() for s in sources]
    for path in paths:
        if not path.exists():
            raise WeightsSourceError(f"{path}: no such file or folder")
    chosen: list[tuple[WeightsFile, Path, Path]] = []
    for check in check_entry(entry, root):
        if check.status is not WeightsStatus.INSTALLED:
            chosen.append((check.file, _find_source(entry, check.file, paths), check.path))
    for file, source, target in chosen:
        try:
            _copy_checked(file, source, target)
        except OSError as error:
            raise WeightsSourceError(
                f"{target.parent}: cannot install {source} here ({error})"
            ) from error
    folder = entry_folder(entry, root)
    return folder / entry.files[0].name if len(entry.files) == 1 else folder


def _candidates(paths: Iterable[Path], file: WeightsFile) -> Iterator[Path]:
    """Files of the published size under ``paths``, those with the published name first."""
    named: list[Path] = []
    other: list[Path] = []
    for path in paths:
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in found:
            with contextlib.suppress(OSError):
                if candidate.stat().st_size == file.size:
                    (named if candidate.name == file.name else other).append(candidate)
    yield from named
    yield from other


def _find_source(entry: WeightsEntry, file: WeightsFile, paths: list[Path]) -> Path:
    for candidate in _candidates(paths, file):
        if sha256_of_file(candidate) == file.sha256:
            return candidate
    where = ", ".join(str(p) for p in paths)
    raise WeightsSourceError(
        f"{where}: no file with the SHA-256 of {entry.name}'s {file.name} "
        f"({file.sha256}, {file.size} bytes); download {file.url} and pass that file"
    )


def _copy_checked(file: WeightsFile, source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary sibling, checking the copied bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # a plain open() (not mkstemp) so the file gets the user's usual mode, not 0600
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.copy")
    try:
        digest = hashlib.sha256()
        with open(tmp, "xb") as out, open(source, "rb") as src:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != file.sha256:  # the source changed while it was copied
            raise WeightsChecksumError(
                file.url,
                target,
                str(source),
                file.sha256,
                digest.hexdigest(),
                "the file changed while it was copied; nothing was installed",
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)
    record_stamp(target.parent, target.name, Stamp.of(target, file.sha256))
