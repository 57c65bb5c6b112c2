"""Typed errors of getting and checking weights files.

Each message is one line a user can act on: which URL or file, what went wrong, and what to do
(download by hand and where to put it, run the command again to resume, ...). They derive from
:class:`costcore.errors.CostcoreError`, so the CLI prints them as one line with exit code 2 and
the app shows them as they are. A cancelled download raises :class:`costcore.errors.Cancelled`.
"""

from __future__ import annotations

from pathlib import Path

from costcore.errors import CostcoreError


class WeightsCatalogueError(CostcoreError):
    """A name that is not in the catalogue of known weights."""


class WeightsDownloadError(CostcoreError):
    """A download failed; ``url`` names what was asked for, ``target`` where it was to go."""

    def __init__(self, url: str, target: str | Path, message: str) -> None:
        self.url = url
        self.target = Path(target)
        super().__init__(message)


class WeightsOfflineError(WeightsDownloadError):
    """The server could not be reached (no network, DNS failure, refused, timed out, TLS)."""

    def __init__(self, url: str, target: str | Path, reason: str) -> None:
        target = Path(target)
        self.reason = reason
        super().__init__(
            url,
            target,
            f"no network: download {url} and put it in {target.parent} as {target.name} "
            f"(could not reach the server: {reason})",
        )


class WeightsHTTPError(WeightsDownloadError):
    """The server answered with an HTTP error status."""

    def __init__(self, url: str, target: str | Path, status: int, reason: str) -> None:
        self.status = status
        super().__init__(url, target, f"{url}: HTTP {status} {reason}".rstrip())


class WeightsTransferCutError(WeightsDownloadError):
    """The transfer stopped before the end; the partial file is kept for the next call."""

    def __init__(
        self, url: str, target: str | Path, partial: Path, done: int, total: int, reason: str
    ) -> None:
        self.partial = partial
        self.done = done
        self.total = total
        super().__init__(
            url,
            target,
            f"{url}: the transfer stopped after {done} of {total} bytes ({reason}); "
            f"the partial file {partial} is kept and the next download resumes from it",
        )


class WeightsChecksumError(WeightsDownloadError):
    """The bytes received or offered are not the published file; they were not installed."""

    def __init__(
        self, url: str, target: str | Path, source: str, expected: str, got: str, note: str
    ) -> None:
        self.expected = expected
        self.got = got
        super().__init__(url, target, f"{source}: SHA-256 is {got}, expected {expected}; {note}")


class WeightsSourceError(CostcoreError):
    """An offline install (``--from``) found no file with the published checksum."""
