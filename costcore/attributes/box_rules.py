"""Attribute rules that need only the boxes: LEN, FM, SV, ARV (exact) and FO, OV (heuristic).

Each rule returns a :class:`Proposal` whose sentence carries the measured numbers, so the
annotator can check the value instead of trusting it.
"""

from __future__ import annotations

import numpy as np

from costcore.attributes.definitions import (
    LENGTH_MEDIUM_MAX,
    LENGTH_SHORT_MAX,
    attribute,
    length_level,
)
from costcore.attributes.presence import boxes_and_presence, runs
from costcore.attributes.proposal import Proposal
from costcore.attributes.speed import relative_speed
from costcore.boxes import Box

#: SV and ARV: a ratio to the first present frame outside [RATIO_MIN, RATIO_MAX] is a variation
RATIO_MIN = 0.5
RATIO_MAX = 2.0
#: FM: relative speed (frame time base) above this means "moved more than its own size"
FAST_MOTION_SPEED = 1.0
#: FO/OV: a box within this many pixels of an image edge "touches the border"
BORDER_MARGIN = 3.0


def propose_length(frame_count: int) -> Proposal:
    """LEN from the number of frames (exact)."""
    level = length_level(frame_count)
    if level == 0:
        where = f"n <= {LENGTH_SHORT_MAX}"
    elif level == 1:
        where = f"{LENGTH_SHORT_MAX} < n <= {LENGTH_MEDIUM_MAX}"
    else:
        where = f"n > {LENGTH_MEDIUM_MAX}"
    label = attribute("LEN").label(level)
    return Proposal.make("LEN", level, f"n = {frame_count} frames ({where}) -> {label}", "exact")


def propose_fast_motion(boxes: object, absent: object | None) -> Proposal:
    """FM: 1 when some frame has relative speed delta_t > 1 in the frame time base (exact).

    "Motion larger than the object's size" made precise with Eq. 1: the centre moves, between
    two consecutive frames that both show the target, by more than sqrt(s_{t-1} s_t), the
    geometric mean of the two sizes. Frames next to an absence give no measurement.
    """
    array, present = boxes_and_presence(boxes, absent)
    speed = relative_speed(array, ~present)
    measured = np.zeros_like(present)
    measured[1:] = present[1:] & present[:-1]
    if not measured.any():
        return Proposal.make(
            "FM",
            0,
            "no two consecutive frames show the target; speed not measurable -> no",
            "exact",
        )
    fast = np.flatnonzero(speed > FAST_MOTION_SPEED)
    peak = int(np.argmax(np.where(measured, speed, -np.inf)))
    if fast.size:
        rule = (
            f"relative speed delta > {FAST_MOTION_SPEED:g} (centre moved more than the object's "
            f"size in one frame) on {fast.size} frame{_s(fast.size)}, largest "
            f"{speed[peak]:.4g} at frame {peak + 1} -> yes"
        )
        return Proposal.make("FM", 1, rule, "exact", fast)
    rule = (
        f"largest relative speed delta = {speed[peak]:.4g} at frame {peak + 1} "
        f"(<= {FAST_MOTION_SPEED:g}) -> no"
    )
    return Proposal.make("FM", 0, rule, "exact", [peak])


def propose_scale_variation(boxes: object, absent: object | None) -> Proposal:
    """SV: 1 when sqrt(w_t h_t) / sqrt(w_1 h_1) < 0.5 or > 2 on some present frame (exact).

    The reference is the first frame that shows the target. The test runs on the area ratio
    against [0.25, 4], which is the same condition without a rounding square root, so ratios of
    exactly 0.5 and 2 stay inside.
    """
    array, present = boxes_and_presence(boxes, absent)
    frames = np.flatnonzero(present)
    if frames.size == 0:
        return Proposal.make("SV", 0, "no frame shows the target -> no", "exact")
    first = frames[0]
    w, h = array[frames, 2], array[frames, 3]
    area_ratio = (w * h) / (array[first, 2] * array[first, 3])
    outside = (area_ratio < RATIO_MIN**2) | (area_ratio > RATIO_MAX**2)
    return _ratio_proposal(
        "SV", "size ratio sqrt(w*h) / sqrt(w1*h1)", np.sqrt(area_ratio), outside, frames
    )


def propose_aspect_ratio_variation(boxes: object, absent: object | None) -> Proposal:
    """ARV: 1 when (w_t / h_t) / (w_1 / h_1) < 0.5 or > 2 on some present frame (exact).

    The reference is the first frame that shows the target; the ratio is computed as one
    division, (w_t h_1) / (h_t w_1), so integer boxes hit 0.5 and 2 exactly.
    """
    array, present = boxes_and_presence(boxes, absent)
    frames = np.flatnonzero(present)
    if frames.size == 0:
        return Proposal.make("ARV", 0, "no frame shows the target -> no", "exact")
    first = frames[0]
    ratio = (array[frames, 2] * array[first, 3]) / (array[frames, 3] * array[first, 2])
    outside = (ratio < RATIO_MIN) | (ratio > RATIO_MAX)
    return _ratio_proposal("ARV", "aspect-ratio ratio (w/h) / (w1/h1)", ratio, outside, frames)


def propose_occlusion_and_out_of_view(
    boxes: object,
    absent: object | None,
    frame_size: tuple[int, int],
    margin: float = BORDER_MARGIN,
) -> tuple[Proposal, Proposal]:
    """FO and OV from the runs of absent frames (heuristic).

    For each run of absent frames, look at its neighbours: the last present box before it and
    the first after it. A target that vanishes next to the image border most likely left the
    frame (OV); one that vanishes with every neighbouring box away from the border (more than
    ``margin`` px) was most likely hidden (FO). A run with no neighbour (the whole video) says
    nothing. It is only a guess: a target can be occluded at the border or leave quickly.
    """
    width, height = frame_size
    array, present = boxes_and_presence(boxes, absent)
    count = array.shape[0]
    hidden: list[tuple[int, int]] = []
    left: list[tuple[int, int]] = []
    for first, last in runs(~present):
        neighbours = [i for i in (first - 1, last + 1) if 0 <= i < count]
        if not neighbours:
            continue
        at_border = any(Box(*array[i]).touches_border(width, height, margin) for i in neighbours)
        (left if at_border else hidden).append((first, last))
    if not hidden and not left:
        none = "no absent frames next to a visible box"
        return (
            Proposal.make("FO", 0, f"heuristic: {none} -> no", "heuristic"),
            Proposal.make("OV", 0, f"heuristic: {none} -> no", "heuristic"),
        )
    if hidden:
        fo = Proposal.make(
            "FO",
            1,
            f"heuristic: absent frames {_spans(hidden)} lie between boxes away from the image "
            f"border (> {margin:g} px), so the target was probably hidden -> yes",
            "heuristic",
            [a for a, _ in hidden],
        )
    else:
        fo = Proposal.make(
            "FO",
            0,
            "heuristic: every absent run is next to a box touching the image border "
            "(counted as out of view) -> no",
            "heuristic",
        )
    if left:
        ov = Proposal.make(
            "OV",
            1,
            f"heuristic: absent frames {_spans(left)} are next to a box touching the image "
            f"border (within {margin:g} px), so the target probably left the frame -> yes",
            "heuristic",
            [a for a, _ in left],
        )
    else:
        ov = Proposal.make(
            "OV",
            0,
            f"heuristic: no absent run is next to a box touching the image border "
            f"(within {margin:g} px) -> no",
            "heuristic",
        )
    return fo, ov


def _ratio_proposal(
    code: str, what: str, ratio: np.ndarray, outside: np.ndarray, frames: np.ndarray
) -> Proposal:
    reference = f"to the first present frame ({frames[0] + 1})"
    spread = f"ranges {ratio.min():.4g} to {ratio.max():.4g}"
    bounds = f"[{RATIO_MIN:g}, {RATIO_MAX:g}]"
    flagged = frames[outside]
    if flagged.size:
        rule = (
            f"{what} {reference} {spread}; outside {bounds} on {flagged.size} "
            f"frame{_s(flagged.size)} (first: frame {flagged[0] + 1}) -> yes"
        )
        return Proposal.make(code, 1, rule, "exact", flagged)
    return Proposal.make(code, 0, f"{what} {reference} {spread}, inside {bounds} -> no", "exact")


def _spans(spans: list[tuple[int, int]], limit: int = 5) -> str:
    """``"40-52, 100"`` in 1-based frame numbers, at most ``limit`` spans then "and N more"."""
    text = ", ".join(f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in spans[:limit])
    if len(spans) > limit:
        text += f" and {len(spans) - limit} more run{_s(len(spans) - limit)}"
    return text


def _s(count: int) -> str:
    return "" if count == 1 else "s"
