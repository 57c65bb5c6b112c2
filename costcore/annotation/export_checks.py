"""What would make an export wrong, checked on the in-memory annotation before writing.

The same rules ``costcore.formats.validate_vlsot500`` applies to a written folder (DESIGN.md
section 3), asked of the annotation instead, so the annotator fixes problems before waiting
for an export. Reported as costcore ``Issue`` objects (file = the export file the problem would
land in, line = the 1-based frame number), so both reports read the same.
"""

from __future__ import annotations

from pathlib import Path

from costcore.annotation import VideoAnnotation
from costcore.annotation.word_pieces import MAX_WORD_PIECES, WordPieceCounter
from costcore.formats import Issue
from costcore.formats import vlsot500_spec as spec
from costcore.language import POSITION_SUGGESTIONS, is_known_position

ERROR, WARNING = "error", "warning"
MAX_LISTED = 20  # per kind; the rest are summarised


def check_before_export(
    annotation: VideoAnnotation,
    *,
    float_boxes: bool = False,
    counter: WordPieceCounter | None = None,
) -> list[Issue]:
    """Errors block the export; warnings are shown and confirmed."""
    issues: list[Issue] = []
    gt = Path(spec.GROUNDTRUTH)
    count = annotation.frame_count
    if count < 2:
        issues.append(
            Issue(ERROR, gt, None, "at least 2 frames are needed (the toolkit fails on one)")
        )
    missing = annotation.unannotated()
    for index in missing[:MAX_LISTED]:
        issues.append(Issue(ERROR, gt, index + 1, "frame has neither a box nor an absent mark"))
    if len(missing) > MAX_LISTED:
        more = len(missing) - MAX_LISTED
        issues.append(
            Issue(ERROR, gt, None, f"... and {more} more frames without a box or absent mark")
        )
    _check_boxes(annotation, issues)
    if float_boxes and count and annotation.frame(0).absent:
        issues.append(
            Issue(
                ERROR,
                gt,
                1,
                "float boxes need a box on frame 1 (the toolkit reads line 1's format)",
            )
        )
    language = " ".join(annotation.language.split())
    if not language:
        issues.append(Issue(ERROR, Path(spec.LANGUAGE), None, "the language description is empty"))
    else:
        pieces = (counter or WordPieceCounter()).count(language)
        if pieces > MAX_WORD_PIECES:
            issues.append(
                Issue(
                    WARNING,
                    Path(spec.LANGUAGE),
                    1,
                    f"{pieces} word pieces; COST reads only the first {MAX_WORD_PIECES}",
                )
            )
    for problem in spec.attribute_problems(annotation.attributes):
        issues.append(Issue(ERROR, Path(spec.ATTRIBUTES), 1, problem))
    _check_language_attributes(annotation, issues)
    return issues


def _check_language_attributes(annotation: VideoAnnotation, issues: list[Issue]) -> None:
    """The attribute words are optional, but written only as all four."""
    words = annotation.language_attributes
    path = Path(spec.LANGUAGE_ATTRIBUTES)
    if words.is_empty:
        return
    if not words.is_complete:
        message = f"{words.missing_message()} (or clear them all: the file is optional)"
        issues.append(Issue(ERROR, path, 1, message))
    position = words.initial_position
    if position and not is_known_position(position):
        message = (
            f"initial position {position[:40]!r} is not built from the usual position words "
            f"({', '.join(POSITION_SUGGESTIONS[:5])}, ...)"
        )
        issues.append(Issue(WARNING, path, 1, message))


def _check_boxes(annotation: VideoAnnotation, issues: list[Issue]) -> None:
    gt = Path(spec.GROUNDTRUTH)
    size = annotation.frame_size
    counts = {"empty": 0, "outside": 0, "partly": 0}
    for index, frame in enumerate(annotation.frames):
        box = frame.box
        if box is None:
            continue
        if box.w <= 0 or box.h <= 0:
            counts["empty"] += 1
            if counts["empty"] <= MAX_LISTED:
                issues.append(Issue(ERROR, gt, index + 1, "box has no area; mark the frame absent"))
            continue
        if size is None:
            continue
        width, height = size
        clipped = box.clipped(width, height)
        if clipped.w <= 0 or clipped.h <= 0:
            kind, text = "outside", f"box is entirely outside the {width}x{height} image"
        elif clipped != box:
            kind, text = "partly", f"box is partly outside the {width}x{height} image"
        else:
            continue
        counts[kind] += 1
        if counts[kind] <= MAX_LISTED:
            issues.append(Issue(WARNING, gt, index + 1, text))
    for kind, label in (("outside", "entirely"), ("partly", "partly")):
        if counts[kind] > MAX_LISTED:
            more = counts[kind] - MAX_LISTED
            issues.append(Issue(WARNING, gt, None, f"... and {more} more boxes {label} outside"))


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.severity == ERROR for issue in issues)
