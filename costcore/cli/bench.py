"""``python -m costcore bench``: benchmarks that need no GUI.

``bench effort``: annotation effort with a simulated annotator (see :mod:`costcore.effort`) on
every sequence of a dataset folder: the anchor workflows (linear interpolation, forward
tracking restarted at each correction) and the tool's own workflows (the app's assisted
workflow: tracking, review queue, refills; and the same with the review queue calibrated on the
annotator's answers), each tracking workflow once per engine. Effort =
corrections after frame 1 + 0.25 x verifications, summed over the sequences, at each IoU
threshold ``tau``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from costcore.errors import CostcoreError

#: the shared real sequences, relative to the project root (DESIGN.md section 7)
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sequences"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="benchmarks (annotation effort)", description=__doc__
    )
    kinds = parser.add_subparsers(dest="bench", metavar="BENCH")
    effort = kinds.add_parser(
        "effort",
        help="annotation effort with a simulated annotator",
        description=__doc__,
    )
    effort.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"dataset folder (default {DEFAULT_DATA})"
    )
    effort.add_argument(
        "--sequences", help="comma-separated sequence names to run (default: all in --data)"
    )
    effort.add_argument("--max-frames", type=int, help="use only the first N frames of each")
    effort.add_argument(
        "--taus", default="0.5,0.7", help="IoU thresholds of the annotator (default 0.5,0.7)"
    )
    effort.add_argument(
        "--engines",
        "--engine",
        dest="engines",
        default="csrt",
        help="comma-separated tracking engines, each NAME or LABEL=NAME to run one engine "
        "with different weights (e.g. csrt,v3=nanotrack,v2=nanotrack; default csrt)",
    )
    effort.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="[LABEL=]PATH",
        help="weights for the engines that take them; LABEL=PATH for one engine only (repeatable)",
    )
    effort.add_argument("--device", default="auto")
    effort.add_argument(
        "--workflows",
        default="interpolation,tracking,assisted,calibrated",
        help="comma-separated subset of interpolation,tracking,assisted,calibrated (assisted "
        "with the review queue calibrated on the annotator's answers); every-N (e.g. "
        "every-20: the annotator draws every N-th frame, then segment fill and playback) "
        "measures how far apart keyframes may be for the fill to hold",
    )
    effort.add_argument("--json", type=Path, help="also write the results as JSON here")
    effort.add_argument(
        "--run-cache",
        type=Path,
        help="keep engine runs in this folder and reuse them next time (runs depend only on "
        "the sequence, engine and start box, so a repeated benchmark tracks nothing again)",
    )
    effort.add_argument(
        "--reversed",
        action="store_true",
        help="also run every sequence played backwards (last frame first): annotation tasks "
        "no rule of the tool was tuned on",
    )
    effort.add_argument("--quiet", action="store_true", help="no per-workflow progress lines")
    effort.set_defaults(handler=run_effort)
    parser.set_defaults(handler=lambda args: _missing(parser))


def _missing(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _taus(text: str) -> tuple[float, ...]:
    """The annotator's IoU thresholds: numbers in (0, 1], comma-separated."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        try:
            value = float(part)
        except ValueError:
            value = float("nan")
        if not 0.0 < value <= 1.0:
            raise CostcoreError(f"--taus: {part!r} is not an IoU threshold in (0, 1]")
        values.append(value)
    return tuple(values)


def run_effort(args: argparse.Namespace) -> int:
    from costcore.effort import effort_on_sequence, format_effort_table, keyframe_spacing
    from costcore.effort.reversal import ReversedFrames, ReversedSequence
    from costcore.engines import create_engine
    from costcore.formats import read_sequence
    from costcore.formats.detect import iter_sequences
    from costcore.video import open_frame_source

    data = Path(args.data)
    if not data.is_dir():
        raise CostcoreError(f"{data}: no such dataset folder (use --data)")
    if args.run_cache is not None:
        try:
            args.run_cache.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = error.strerror or str(error)
            message = f"{args.run_cache}: cannot keep engine runs here ({reason})"
            raise CostcoreError(message) from None
    paths = sorted(iter_sequences(data), key=lambda p: p.name.lower())
    if args.sequences:
        wanted = {name.strip().lower() for name in args.sequences.split(",") if name.strip()}
        paths = [p for p in paths if p.name.lower() in wanted]
        missing = wanted - {p.name.lower() for p in paths}
        if missing:
            raise CostcoreError(f"{data}: no sequence named {', '.join(sorted(missing))}")
    if not paths:
        raise CostcoreError(f"{data}: no sequences found")
    taus = _taus(args.taus)
    workflows = tuple(w.strip() for w in args.workflows.split(",") if w.strip())
    if not workflows:
        raise CostcoreError("--workflows: name at least one workflow, e.g. tracking,assisted")
    for workflow in workflows:
        try:
            keyframe_spacing(workflow)
        except ValueError as error:
            raise CostcoreError(str(error)) from None
    engines = _engine_specs(args.engines)
    weights = _weights_specs(args.weights, engines)
    makers, keys = {}, {}
    for engine_label, name in engines.items():
        path = weights.get(engine_label)
        create_engine(name, path, args.device)  # fail early on a bad engine or weights

        def make(name: str = name, path: str | None = path) -> object:
            return create_engine(name, path, args.device)

        makers[engine_label] = make
        keys[engine_label] = _engine_key(name, path)

    def say(text: str) -> None:
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    rows = []
    started = time.perf_counter()
    for path in paths:
        sequence = read_sequence(path)
        source = open_frame_source(sequence.frames, cache_bytes=256 * 1024 * 1024)
        views = [(sequence, source, "")]
        if args.reversed:
            views.append((ReversedSequence.of(sequence), ReversedFrames(source), "|reversed"))
        try:
            for shown, frames, tag in views:
                rows += effort_on_sequence(
                    shown,
                    frames,
                    makers,
                    taus,
                    workflows,
                    max_frames=args.max_frames,
                    progress=say,
                    run_cache=args.run_cache,
                    engine_keys={k: f"{v}|{path.resolve()}{tag}" for k, v in keys.items()},
                )
        finally:
            source.close()
    print(f"Annotation effort ({', '.join(engines)}; correction = 1, verify = 0.25)")
    print(format_effort_table(rows))
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json:
        payload = [
            {
                "sequence": row.sequence,
                "frames": row.frames,
                "tau": row.tau,
                "workflows": {
                    name: {
                        "engine": r.engine,
                        "cost": r.cost,
                        "per_100": r.per_100,
                        "corrections": r.corrections,
                        "draws": r.draws,
                        "verifies": r.verifies,
                        "reviews": r.reviews,
                        "engine_frames": r.engine_frames,
                        "seconds": r.seconds,
                        "complete": r.complete,
                    }
                    for name, r in row.results.items()
                },
            }
            for row in rows
        ]
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    incomplete = [r for row in rows for r in row.results.values() if not r.complete]
    return 1 if incomplete else 0


def _engine_specs(text: str) -> dict[str, str]:
    """``csrt,v3=nanotrack`` -> {label: engine name}; labels must be unique."""
    from costcore.engines import engine_info

    specs: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name_label, _, name = part.partition("=")
        name = (name or name_label).strip()
        name_label = name_label.strip()
        if "/" in name_label or not name_label:
            raise CostcoreError(f"--engines: {part!r} is not NAME or LABEL=NAME")
        if name_label in specs:
            raise CostcoreError(f"--engines: {name_label!r} is named twice")
        engine_info(name)  # an unknown engine is an error listing the known ones
        specs[name_label] = name
    if not specs:
        raise CostcoreError("--engines: name at least one engine, e.g. csrt")
    return specs


def _weights_specs(values: list[str], engines: dict[str, str]) -> dict[str, str]:
    """``--weights PATH`` (every engine) and ``--weights LABEL=PATH`` -> {label: path}."""
    out: dict[str, str] = {}
    for value in values:
        name_label, sep, path = value.partition("=")
        if sep and name_label in engines:
            out[name_label] = path
        else:
            for engine_label in engines:
                out.setdefault(engine_label, value)
    return out


def _engine_key(name: str, weights: str | None) -> str:
    """What identifies an engine's runs in the run cache: its name and its weights' content.

    The content's SHA-256, not the file's path or date: a copied, moved or touched weights
    file still finds its runs, and other weights under the same name never do.
    """
    from costcore.weights.integrity import sha256_of_file

    key = name
    if weights:
        path = Path(weights).resolve()
        key += f"|sha256:{sha256_of_file(path)}" if path.is_file() else f"|{path}"
    return key
