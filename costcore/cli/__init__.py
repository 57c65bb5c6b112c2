"""The ``python -m costcore`` command line.

Each subcommand lives in its own module of this package and exposes
``register(subparsers) -> None``, which adds its parser and sets ``handler`` (a function taking
the parsed namespace and returning an exit code). Adding a subcommand = adding a module and
naming it in ``SUBCOMMAND_MODULES``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from costcore import __version__
from costcore.errors import Cancelled, CostcoreError

#: modules under costcore.cli that define a subcommand, in the order `--help` lists them
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "convert",
    "validate",
    "track",
    "run",
    "evaluate",
    "train",
    "bench",
    "weights",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m costcore",
        description="COST Annotator's headless tools: formats, tracking, evaluation, training.",
    )
    parser.add_argument("--version", action="version", version=f"costcore {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"costcore.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; bad input is reported as one clear line and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except CostcoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
