"""Attribute rules that need the frames: BRI (exact when every frame is read), IV and MB.

They work on :class:`FrameMeasures`, so the frames are decoded once for all three.
"""

from __future__ import annotations

import numpy as np

from costcore.attributes.definitions import (
    BRIGHTNESS_LOW_MAX,
    BRIGHTNESS_MEDIUM_MAX,
    attribute,
    brightness_level,
)
from costcore.attributes.image_measures import FrameMeasures
from costcore.attributes.proposal import Proposal

#: IV: the target region's mean grey level must move, from its first measured value, by more
#: than this many grey levels (of 255) ...
ILLUMINATION_CHANGE = 30.0
#: ... and by more than this fraction of that first value
ILLUMINATION_RATIO = 0.4
#: MB: a frame whose target-region sharpness is below this fraction of the median is blurred
BLUR_FRACTION = 0.25
#: MB: fewer measurable frames than this give no meaningful median
BLUR_MIN_FRAMES = 3


def propose_brightness(measures: FrameMeasures) -> Proposal:
    """BRI from the mean over frames of each frame's mean grey level.

    Exact when every frame was read; with a stride it is an estimate and says so.
    """
    b = float(measures.frame_brightness.mean())
    level = brightness_level(b)
    if level == 0:
        where = f"b <= {BRIGHTNESS_LOW_MAX:g}"
    elif level == 1:
        where = f"{BRIGHTNESS_LOW_MAX:g} < b <= {BRIGHTNESS_MEDIUM_MAX:g}"
    else:
        where = f"b > {BRIGHTNESS_MEDIUM_MAX:g}"
    label = attribute("BRI").label(level)
    if measures.sampled:
        rule = (
            f"mean brightness b = {b:.2f} ({where}) -> {label}; estimated from every "
            f"{_nth(measures.stride)} frame ({measures.indices.size} of "
            f"{measures.frame_count}), not exact"
        )
        return Proposal.make("BRI", level, rule, "heuristic")
    return Proposal.make("BRI", level, f"mean brightness b = {b:.2f} ({where}) -> {label}", "exact")


def propose_illumination_variation(
    measures: FrameMeasures,
    threshold: float = ILLUMINATION_CHANGE,
    ratio: float = ILLUMINATION_RATIO,
) -> Proposal:
    """IV: the target region's mean grey level moves far from its first value on some frame.

    A frame counts when the change exceeds ``threshold`` grey levels *and* ``ratio`` times the
    first value. Both are needed: on real sequences the box's content (background, the
    target turning) moves a bright region's mean by 30-40 levels without any lighting change,
    while for a dark region a few levels of noise are already a large fraction. ``ratio=0``
    gives the plain grey-level rule. It stays a heuristic: a colour change of the target
    looks the same as a lighting change.
    """
    valid = np.flatnonzero(np.isfinite(measures.region_brightness))
    if valid.size == 0:
        return Proposal.make(
            "IV", 0, "heuristic: the target region is never measurable -> no", "heuristic"
        )
    values = measures.region_brightness[valid]
    frames = measures.indices[valid]
    reference = values[0]
    change = np.abs(values - reference)
    flagged = frames[(change > threshold) & (change > ratio * reference)]
    peak = int(np.argmax(change))
    start = (
        f"heuristic: mean grey level of the target region changes by up to {change[peak]:.1f} "
        f"({100 * change[peak] / max(reference, 1e-9):.0f} %, frame {frames[peak] + 1}) from "
        f"{reference:.1f} in frame {frames[0] + 1}"
    )
    limit = f"{threshold:g} grey levels and {100 * ratio:g} %"
    if flagged.size:
        rule = (
            f"{start}; more than {limit} on {flagged.size} frame{_s(flagged.size)} "
            f"(first: frame {flagged[0] + 1}){_sampled(measures)} -> yes"
        )
        return Proposal.make("IV", 1, rule, "heuristic", flagged)
    return Proposal.make(
        "IV", 0, f"{start}; never more than {limit}{_sampled(measures)} -> no", "heuristic"
    )


def propose_motion_blur(
    measures: FrameMeasures,
    fraction: float = BLUR_FRACTION,
    min_frames: int = BLUR_MIN_FRAMES,
) -> Proposal:
    """MB: the target region's sharpness drops below ``fraction`` of its median on some frame.

    Sharpness is the variance of the Laplacian; blur removes the high frequencies it measures.
    Comparing with the sequence's own median makes it independent of the target's texture. A
    heuristic: low-contrast moments or a defocused background inside the box also score low.
    """
    valid = np.flatnonzero(np.isfinite(measures.region_sharpness))
    if valid.size < min_frames:
        return Proposal.make(
            "MB",
            0,
            f"heuristic: the target region is large enough to judge sharpness on only "
            f"{valid.size} frame{_s(valid.size)} (needs {min_frames}) -> no",
            "heuristic",
        )
    values = measures.region_sharpness[valid]
    frames = measures.indices[valid]
    median = float(np.median(values))
    if median <= 0:
        return Proposal.make(
            "MB",
            0,
            "heuristic: the target region has no texture (median sharpness 0) -> no",
            "heuristic",
        )
    low = int(np.argmin(values))
    flagged = frames[values < fraction * median]
    start = (
        f"heuristic: target-region sharpness (variance of the Laplacian) has median "
        f"{median:.4g}, lowest {values[low]:.4g} at frame {frames[low] + 1}"
    )
    if flagged.size:
        rule = (
            f"{start}; below {fraction:g} x median on {flagged.size} frame{_s(flagged.size)} "
            f"(first: frame {flagged[0] + 1}){_sampled(measures)} -> yes"
        )
        return Proposal.make("MB", 1, rule, "heuristic", flagged)
    return Proposal.make(
        "MB",
        0,
        f"{start} (never below {fraction:g} x median){_sampled(measures)} -> no",
        "heuristic",
    )


def _sampled(measures: FrameMeasures) -> str:
    return f", every {_nth(measures.stride)} frame sampled" if measures.sampled else ""


def _nth(n: int) -> str:
    if n == 1:
        return ""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"
