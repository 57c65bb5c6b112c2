"""``python -m costcore weights list | download NAME... | verify [NAME...] | path NAME``.

Fetches the published weights of the catalogue (:mod:`costcore.weights`) into the per-user
cache, checks them, and says where they are. ``download --from FILE_OR_FOLDER`` installs a
file downloaded elsewhere (no network here), accepted by its SHA-256.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from costcore.cli.progress import ProgressBar
from costcore.errors import Cancelled, CostcoreError
from costcore.weights import (
    CACHE_ENV_VAR,
    DEFAULT_TIMEOUT_S,
    WeightsEntry,
    WeightsStatus,
    catalogue_entries,
    check_entry,
    download_entry,
    entry_folder,
    find_entry,
    install_from,
    installed_path,
    verify_entry,
    weights_cache_dir,
)
from costcore.weights.status import combine_status

#: the name that stands for every entry of the catalogue in ``download``
ALL = "all"


def _positive_seconds(value: str) -> float:
    seconds = float(value)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value}")
    return seconds


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``weights`` subcommand and its actions."""
    parser = subparsers.add_parser(
        "weights",
        help="list, download and verify the published weights of the tracking engines",
        description=__doc__,
    )
    parser.set_defaults(handler=lambda _args: _help(parser))
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="each entry: engine, size, license, status")
    listing.set_defaults(handler=run_list)

    download = actions.add_parser(
        "download",
        help="download (or, with --from, install) weights into the cache, checking SHA-256",
    )
    download.add_argument("names", nargs="+", metavar="NAME", help=f"entry name(s), or '{ALL}'")
    download.add_argument(
        "--from",
        dest="sources",
        action="append",
        metavar="FILE_OR_FOLDER",
        help="install from this file or folder instead of the network (repeatable)",
    )
    download.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT_S,
        help=f"network timeout in seconds (default {DEFAULT_TIMEOUT_S:g})",
    )
    download.set_defaults(handler=run_download)

    verify = actions.add_parser("verify", help="re-hash installed files: OK or corrupt per file")
    verify.add_argument("names", nargs="*", metavar="NAME", help="entries (default: all present)")
    verify.set_defaults(handler=run_verify)

    path = actions.add_parser("path", help="print the installed weights' path (for --weights)")
    path.add_argument("name", metavar="NAME")
    path.set_defaults(handler=run_path)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _cache_line() -> str:
    return f"weights cache: {weights_cache_dir()} (set {CACHE_ENV_VAR} to use another folder)"


def run_list(_args: argparse.Namespace) -> int:
    print(_cache_line())
    rows = [("NAME", "ENGINE", "SIZE", "LICENSE", "STATUS", "DESCRIPTION")]
    for entry in catalogue_entries():
        status = combine_status(check_entry(entry))
        rows.append(
            (
                entry.name,
                entry.engine,
                _megabytes(entry.size),
                entry.license,
                status.value,
                entry.description,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
    return 0


def _byte_progress(label: str) -> Callable[[int, int], None]:
    """A progress bar counting KiB (the shared bar prints raw counts)."""
    bar = ProgressBar(f"{label} (KiB)")
    return lambda done, total: bar(done // 1024, max(total // 1024, 1))


def _requested(names: list[str]) -> list[WeightsEntry]:
    if ALL in names:
        return list(catalogue_entries())
    return [find_entry(name) for name in dict.fromkeys(names)]


def run_download(args: argparse.Namespace) -> int:
    failed = False
    for entry in _requested(args.names):
        path = installed_path(entry)
        if path is not None:
            print(f"{entry.name}: already installed: {path}")
            continue
        try:
            if args.sources:
                path = install_from(entry, args.sources)
            else:
                path = download_entry(
                    entry, progress=_byte_progress(entry.name), timeout=args.timeout
                )
        except Cancelled:
            raise
        except CostcoreError as error:
            print(f"error: {entry.name}: {error}", file=sys.stderr)
            failed = True
            continue
        print(f"{entry.name}: installed {path}")
    return 2 if failed else 0


def run_verify(args: argparse.Namespace) -> int:
    entries = _requested(args.names) if args.names else list(catalogue_entries())
    print(_cache_line())
    bad = False
    shown = 0
    for entry in entries:
        checks = verify_entry(entry)
        if not args.names and all(c.status is WeightsStatus.MISSING for c in checks):
            continue
        for check in checks:
            where = f"{entry.name}/{check.file.name}"
            shown += 1
            if check.status is WeightsStatus.INSTALLED:
                print(f"OK       {where}")
                continue
            if check.status is WeightsStatus.CORRUPT:
                hint = f"; `python -m costcore weights download {entry.name}` replaces it"
                print(f"CORRUPT  {where}: {check.detail}{hint}")
            else:
                print(f"{check.status.value.upper():<8} {where}: {check.detail}")
            bad = True
    if shown == 0:
        print(f"no weights installed in {weights_cache_dir()}")
    return 1 if bad else 0


def run_path(args: argparse.Namespace) -> int:
    entry = find_entry(args.name)
    path = installed_path(entry)
    if path is None:
        print(
            f"error: {entry.name} is not installed in {entry_folder(entry)}; "
            f"run `python -m costcore weights download {entry.name}`",
            file=sys.stderr,
        )
        return 1
    print(path)
    return 0
