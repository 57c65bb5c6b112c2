"""``python -m costcore convert SRC DST``: any supported sequence -> one VL-SOT500 video folder.

Attributes are written where DESIGN.md §5 calls the rule exact (LEN, BRI, FM, SV, ARV) and 0
elsewhere; heuristic proposals are printed for the annotator to confirm, never written. A
VL-SOT500 source keeps its own (human) attributes; the proposals are then printed beside them.

VLT's four attribute words go to the optional ``language_attributes.txt`` (one line
"major class,root class,colour,initial position"): from ``--language-attributes``, else from the
source's own ``language_attributes.txt`` when it has one; ``language.txt`` keeps the sentence.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from costcore.attributes import (
    ATTRIBUTES,
    Proposal,
    proposals_to_values,
    propose_attributes,
    relative_speed,
)
from costcore.cli.language_options import add_attribute_words
from costcore.cli.progress import ProgressBar
from costcore.errors import CostcoreError
from costcore.formats import (
    LAYOUTS,
    format_report,
    has_errors,
    read_sequence,
    validate_vlsot500,
    write_vlsot500,
)
from costcore.video import open_frame_source

#: the VL-SOT500 subsets; VL-SOT270 is the one that ships relative_speed.txt
SUBSETS = ("230", "270")


def frame_rate(value: str) -> float:
    """A finite frame rate above 0 (argparse's float() lets nan, inf and -5 through)."""
    try:
        fps = float(value)
    except ValueError:
        fps = math.nan
    if not (math.isfinite(fps) and 0.0 < fps <= 1000.0):
        raise argparse.ArgumentTypeError(
            f"expected a frame rate in frames per second (above 0, at most 1000), got {value!r}"
        )
    return fps


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert one sequence (any supported layout) to a VL-SOT500 video folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("src", type=Path, help="sequence folder (layout auto-detected)")
    parser.add_argument("dst", type=Path, help="VL-SOT500 video folder to create")
    parser.add_argument(
        "--subset",
        choices=SUBSETS,
        default="230",
        help="VL-SOT230 (default) or VL-SOT270, which adds relative_speed.txt",
    )
    parser.add_argument("--language", help="the one-sentence description (default: the source's)")
    add_attribute_words(
        parser, "written to language_attributes.txt; default: the source's, if it has them"
    )
    parser.add_argument("--layout", choices=LAYOUTS, help="skip auto-detection")
    parser.add_argument("--float", dest="float_boxes", action="store_true", help="float boxes")
    parser.add_argument(
        "--speed-time",
        choices=("frames", "seconds"),
        default="frames",
        help="time base of relative_speed.txt (seconds use the frame rate)",
    )
    parser.add_argument(
        "--fps", type=frame_rate, help="frame rate of an image sequence (default 30)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing DST")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    sequence = read_sequence(args.src, layout=args.layout)
    print(f"read {sequence.layout} sequence {sequence.name!r}: {sequence.frame_count} frames")
    language = (args.language if args.language is not None else sequence.language).strip()
    if not language:
        raise CostcoreError(
            f"{args.src}: the sequence has no language description; give one with --language"
        )
    words = args.language_attributes or sequence.language_attributes
    if words is not None:
        print(f"attribute words: {words.line()}")
    frames = open_frame_source(sequence.frames, cache_bytes=0, fps=args.fps)
    try:
        proposals = propose_attributes(
            sequence.boxes,
            sequence.absent,
            frames.frame_size,
            sequence.frame_count,
            frames,
            progress=ProgressBar("measuring frames"),
        )
    finally:
        frames.close()
    attributes = _attributes_to_write(proposals, sequence.attributes)
    _print_attributes(proposals, attributes, kept_from_source=sequence.attributes is not None)

    speed = None
    if args.subset == "270":
        fps = frames.fps if args.speed_time == "seconds" else None
        speed = relative_speed(sequence.boxes, sequence.absent, fps=fps)
    out = write_vlsot500(
        args.dst,
        frames=sequence.frames,
        boxes=sequence.boxes,
        absent=sequence.absent,
        language=language,
        attributes=attributes,
        float_boxes=args.float_boxes,
        relative_speed=speed,
        language_attributes=words,
        overwrite=args.overwrite,
        progress=ProgressBar("writing frames"),
    )
    issues = validate_vlsot500(out)
    print(format_report(issues, out))
    if has_errors(issues):
        return 1
    print(f"wrote {out}")
    return 0


def _attributes_to_write(proposals: list[Proposal], source: list[int] | None) -> list[int]:
    """A source's own attributes win (a person set them); otherwise the exact proposals."""
    if source is not None:
        return list(source)
    return proposals_to_values(p for p in proposals if p.kind == "exact")


def _print_attributes(
    proposals: list[Proposal], written: list[int], *, kept_from_source: bool
) -> None:
    by_index = {p.index: p for p in proposals}
    origin = "kept from the source" if kept_from_source else "exact rules, 0 elsewhere"
    print(f"attributes ({origin}):")
    for definition in ATTRIBUTES:
        value = written[definition.index]
        proposal = by_index.get(definition.index)
        line = f"  {definition.code:<4} {value}  {definition.label(value):<10}"
        if proposal is None:
            line += "  manual: no rule, set by the annotator"
        elif proposal.kind == "exact" and not kept_from_source:
            line += f"  {proposal.rule}"
        else:
            line += f"  [{proposal.kind} proposal: {proposal.value}] {proposal.rule}"
        print(line)
    sys.stdout.flush()
