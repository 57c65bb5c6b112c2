"""``python -m costcore evaluate``: score tracker result files against a dataset.

Exit code 0 when every requested tracker was scored, 1 when some were skipped because of
missing, short, long or malformed result files (each listed on stderr by name), 2 when none
could be scored or the input is unusable.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from costcore.cli.progress import ProgressBar
from costcore.errors import CostcoreError
from costcore.evaluation import (
    evaluate_trackers,
    format_table,
    list_trackers,
    load_ground_truths,
)
from costcore.fileio import atomic_write_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score tracker results (AUC, P, P_norm, cAUC, mACC) like the MMOT toolkit",
        description=(
            "Score <results>/<tracker>/<sequence>.txt files against the sequences of a "
            "dataset folder (any supported layout), as the VL-SOT500 authors' MMOT toolkit "
            "does; prints a table sorted by AUC."
        ),
    )
    parser.add_argument("--dataset", required=True, type=Path, help="folder of sequences")
    parser.add_argument(
        "--results", required=True, type=Path, help="folder of <tracker>/<sequence>.txt"
    )
    parser.add_argument(
        "--trackers", nargs="+", metavar="NAME", help="trackers to score (default: all folders)"
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="write all scores as JSON")
    parser.add_argument("--plots", type=Path, metavar="DIR", help="write PNG plots here")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    ground_truths = load_ground_truths(args.dataset, ProgressBar("reading dataset"))
    trackers = args.trackers or list_trackers(args.results)
    if not trackers:
        raise CostcoreError(f"{args.results}: no tracker folders found")

    reports, problems = evaluate_trackers(
        args.results, trackers, ground_truths, ProgressBar("evaluating")
    )
    for tracker, tracker_problems in problems.items():
        print(f"skipped {tracker}: {len(tracker_problems)} problem(s)", file=sys.stderr)
        for problem in tracker_problems:
            print(f"  {problem}", file=sys.stderr)
    if not reports:
        print("error: no tracker could be scored", file=sys.stderr)
        return 2
    print(f"{len(ground_truths)} sequences, {sum(g.frame_count for g in ground_truths)} frames")
    print(format_table(reports))

    if args.json is not None:
        document = {report.tracker: report.to_dict() for report in reports}
        try:
            atomic_write_text(args.json, json.dumps(document, indent=2) + "\n")
        except OSError as error:
            raise CostcoreError(f"{args.json}: cannot write: {error.strerror or error}") from None
        print(f"wrote {args.json}")
    if args.plots is not None:
        from costcore.evaluation.plots import write_plots

        for path in write_plots(reports, args.plots):
            print(f"wrote {path}")
    return 1 if problems else 0
