"""``python -m costcore validate FOLDER``: check a VL-SOT500 video folder against DESIGN.md §3."""

from __future__ import annotations

import argparse
from pathlib import Path

from costcore.formats import format_report, has_errors, validate_vlsot500


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check VL-SOT500 video folders; list every violation with file and line",
        description=__doc__,
    )
    parser.add_argument("folders", type=Path, nargs="+", help="VL-SOT500 video folder(s)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    failed = False
    for folder in args.folders:
        issues = validate_vlsot500(folder)
        print(format_report(issues, folder))
        failed = failed or has_errors(issues)
    return 1 if failed else 0
