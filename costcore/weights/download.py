"""Download an entry's files: streamed, resumable, checked, and only then put in place.

Bytes go to ``<name>.partial`` beside the final file. A later call resumes it with an HTTP
``Range`` request, or starts again from zero when the server ignores the range. The whole file
is checked against the catalogue's SHA-256 and size before one rename puts it under its final
name, so a reader (the app, an engine) never sees a half-written or wrong file there. Only the
standard library is used (``urllib``), which also honours the usual ``https_proxy`` settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from costcore import __version__
from costcore.errors import Cancelled
from costcore.fileio import fsync_directory
from costcore.weights.cache_folder import entry_folder, partial_path
from costcore.weights.catalogue import WeightsEntry, WeightsFile, find_entry
from costcore.weights.errors import (
    WeightsChecksumError,
    WeightsDownloadError,
    WeightsHTTPError,
    WeightsOfflineError,
    WeightsTransferCutError,
)
from costcore.weights.integrity import Stamp, record_stamp
from costcore.weights.status import WeightsStatus, check_entry

#: ``progress(done_bytes, total_bytes)``
ProgressCallback = Callable[[int, int], None]
#: ``cancel() -> True`` stops the download (the partial file is kept for resuming)
CancelCallback = Callable[[], bool]

DEFAULT_TIMEOUT_S = 30.0
_CHUNK = 64 * 1024
_USER_AGENT = f"cost-annotator/{__version__} (+python-urllib)"
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)


def download_entry(
    entry: WeightsEntry | str,
    root: Path | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Path:
    """Fetch every file of ``entry`` not yet installed; return what ``installed_path`` returns.

    ``progress`` sees the bytes of the whole entry (files already installed count as done).
    Raises a :class:`~costcore.weights.errors.WeightsDownloadError` subclass or
    :class:`~costcore.errors.Cancelled`; either way no final file is half-written.
    """
    entry = find_entry(entry) if isinstance(entry, str) else entry
    folder = entry_folder(entry, root)
    total = entry.size
    done_before = 0
    for check in check_entry(entry, root):
        if check.status is not WeightsStatus.INSTALLED:

            def file_progress(done: int, _size: int, offset: int = done_before) -> None:
                if progress is not None:
                    progress(offset + done, total)

            download_file(
                check.file, check.path, progress=file_progress, cancel=cancel, timeout=timeout
            )
        done_before += check.file.size
        if progress is not None:
            progress(done_before, total)
    return folder / entry.files[0].name if len(entry.files) == 1 else folder


def download_file(
    file: WeightsFile,
    target: Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Download ``file.url`` to ``target``, resuming ``target``'s ``.partial`` when there is one."""
    try:
        _download_file(file, target, progress, cancel, timeout)
    except OSError as error:  # network failures are turned into typed errors before this
        raise WeightsDownloadError(
            file.url, target, f"{target.parent}: cannot write the weights here ({error})"
        ) from error


def _download_file(
    file: WeightsFile,
    target: Path,
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
    timeout: float,
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    # two tries: a resumed request the server answers oddly (416, a different range) is
    # retried once from zero
    for _ in range(2):
        offset = partial.stat().st_size if partial.is_file() else 0
        if offset > file.size:
            partial.unlink()
            offset = 0
        if offset == file.size:
            # a finished download that was not yet renamed (killed at the last moment)
            if _finish(file, target, partial, _hash_prefix(partial)):
                return
            offset = 0
        restarted = _transfer(file, target, partial, offset, progress, cancel, timeout)
        if not restarted:
            return
    raise WeightsDownloadError(
        file.url, target, f"{file.url}: the server does not answer resumed requests consistently"
    )


class _TooLongError(Exception):
    """The body runs past the published size (internal: turned into a download error)."""


def _open(file: WeightsFile, target: Path, offset: int, timeout: float):
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(file.url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:
            return None
        raise WeightsHTTPError(file.url, target, error.code, str(error.reason or "")) from error
    except urllib.error.URLError as error:
        raise WeightsOfflineError(file.url, target, str(error.reason)) from error
    except (OSError, http.client.HTTPException) as error:
        raise WeightsOfflineError(file.url, target, str(error) or type(error).__name__) from error


def _resumed_from(response, offset: int) -> bool:
    """Whether the answer continues at ``offset`` (206 with a matching Content-Range)."""
    if not offset or response.status != 206:
        return False
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
    return bool(match) and int(match.group(1)) == offset


def _transfer(
    file: WeightsFile,
    target: Path,
    partial: Path,
    offset: int,
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
    timeout: float,
) -> bool:
    """One request; True when it must be retried from zero, False when the file is in place."""
    response = _open(file, target, offset, timeout)
    if response is None:  # 416: the partial file does not fit what the server has
        partial.unlink(missing_ok=True)
        return True
    with response:
        if offset and not _resumed_from(response, offset):
            if response.status == 206:  # a range we did not ask for: start again cleanly
                partial.unlink(missing_ok=True)
                return True
            offset = 0  # the server ignores Range and sends the whole file: restart from zero
        digest = _hash_prefix(partial) if offset else hashlib.sha256()
        done = offset
        try:
            with open(partial, "ab" if offset else "wb") as out:
                try:
                    done = _copy_body(
                        file, target, partial, response, out, digest, done, progress, cancel
                    )
                finally:
                    out.flush()
                    with contextlib.suppress(OSError):
                        os.fsync(out.fileno())
        except _TooLongError:
            partial.unlink(missing_ok=True)
            raise WeightsDownloadError(
                file.url,
                target,
                f"{file.url}: the server sent more than the published {file.size} bytes; "
                "not the published file: the bad file was deleted and nothing was installed",
            ) from None
    if done < file.size:
        raise WeightsTransferCutError(
            file.url, target, partial, done, file.size, "the connection closed early"
        )
    if not _finish(file, target, partial, digest):
        raise WeightsChecksumError(
            file.url,
            target,
            f"downloaded {file.url}",
            file.sha256,
            digest.hexdigest(),
            "the bad file was deleted and nothing was installed",
        )
    return False


def _copy_body(
    file: WeightsFile,
    target: Path,
    partial: Path,
    response,
    out,
    digest,
    done: int,
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
) -> int:
    """Stream the body into ``out``; return the bytes now in the partial file."""
    if progress is not None:
        progress(done, file.size)
    while True:
        if cancel is not None and cancel():
            raise Cancelled(
                f"download of {file.url} cancelled at {done} of {file.size} bytes; "
                f"{partial} is kept and the next download resumes from it"
            )
        try:
            # read1: what has arrived, without waiting to fill the chunk (a stall then
            # times out with every received byte saved in the partial file)
            chunk = response.read1(_CHUNK)
        except (OSError, http.client.HTTPException) as error:
            reason = str(error) or type(error).__name__
            raise WeightsTransferCutError(
                file.url, target, partial, done, file.size, reason
            ) from error
        if not chunk:
            return done
        if done + len(chunk) > file.size:
            raise _TooLongError
        out.write(chunk)
        digest.update(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, file.size)


def _hash_prefix(path: Path):
    """A SHA-256 object fed with the bytes already in ``path`` (to continue a resumed file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest


def _finish(file: WeightsFile, target: Path, partial: Path, digest) -> bool:
    """Rename a complete, correct partial file into place; delete it when it is wrong."""
    if partial.stat().st_size != file.size or digest.hexdigest() != file.sha256:
        partial.unlink(missing_ok=True)
        return False
    os.replace(partial, target)
    fsync_directory(target.parent)
    record_stamp(target.parent, target.name, Stamp.of(target, file.sha256))
    return True
