"""Annotation effort with a simulated annotator (what `python -m costcore bench effort` runs).

    python benchmarks/bench_effort.py [--data DIR] [--sequences Crossing,Skiing] [--max-frames N]

Prints the effort (corrections after frame 1 + 0.25 x verifications, summed over the
sequences) of the anchor workflows (linear interpolation, forward tracking restarted at each
correction) and of the tool's own assisted workflow, per engine (``--engines csrt,nanotrack``),
at tau = 0.5 and 0.7, and the ratios the targets are stated in. See ``costcore/effort/`` for
the protocol. airplane-1 (2,788 frames) dominates the
run time; ``--max-frames`` makes a quick run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from costcore.cli import bench  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_effort.py", description=bench.__doc__)
    subparsers = parser.add_subparsers(dest="command")
    bench.register(subparsers)
    args = parser.parse_args(["bench", "effort", *(sys.argv[1:] if argv is None else argv)])
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
