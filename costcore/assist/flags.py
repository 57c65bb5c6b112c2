"""Which automatic frames deserve a person's look, and how urgently.

A frame is flagged when its engine score is low, when the engine said it lost the target,
when the box jumps or changes size abnormally from the frame before, when the forward and
backward runs of a segment fill disagree, or when what the box shows drifts from what its
keyframe showed (``costcore.assist.appearance``): a box whose size has not changed for many
frames while its content stopped looking like the keyframe's (the target grew or shrank out
of it, as CSRT and KCF boxes do), or a box whose content is unlike the keyframe's whatever its
size (the track left the target). Only automatic values are flagged (tracked,
interpolated, imported); keyframes and verified frames are a person's word. A very low score
(or a lost target) *proposes* "absent": a proposal for the annotator, never an edit.

``severity`` (0..1) ranks the review queue. Disagreements the order of the runs cannot settle
rank highest, the middle of such a stretch first, so checking the top flag splits the doubt in
two; settled disagreements and single-frame rules rank lower.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from costcore.annotation import Provenance, VideoAnnotation
from costcore.assist.state import Diagnostics
from costcore.attributes.presence import runs
from costcore.attributes.speed import relative_speed
from costcore.boxes import Box


class FlagReason(str, Enum):
    LOW_SCORE = "low score"
    LOST = "lost"
    JUMP = "jump"
    SIZE = "size change"
    DISAGREE = "runs disagree"
    OPEN_END = "no keyframe after"
    FROZEN = "size frozen, view changed"
    UNLIKE = "unlike the keyframe"
    STALE = "not re-tracked: the run was interrupted"


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the flag rules (the app's tracking panel edits the main ones)."""

    #: tracker score below this flags the frame
    score_threshold: float = 0.35
    #: tracker score below this proposes "target absent"
    absent_score: float = 0.1
    #: a jump: relative speed (Eq. 1, box sizes per frame) above this ...
    jump_speed: float = 0.5
    #: ... and this many times the median speed of the frames around it
    jump_factor: float = 4.0
    #: frames on each side for that median
    jump_window: int = 15
    #: a size change: sqrt(w*h) grows or shrinks by more than this factor in one frame
    size_ratio: float = 1.3
    #: an aspect change: w/h changes by more than this factor in one frame
    aspect_ratio: float = 1.5
    #: forward and backward runs disagree where their IoU is below this
    disagree_iou: float = 0.5
    #: severity of a disagreement the order of the runs settles (unsettled ones reach 1)
    resolved_severity: float = 0.25
    #: the appearance rules read the median likeness of a box to its run's anchor (1 = the
    #: same picture, 0 = unrelated) over this many frames (one odd frame flags nothing)
    appearance_window: int = 9
    #: a frozen box: at least this many automatic frames in a row whose width and height
    #: stay within ``frozen_tolerance`` (relative) of the frame before ...
    frozen_frames: int = 20
    frozen_tolerance: float = 0.01
    #: ... while the likeness is below this. Measured (BENCHMARKS.md, bench_drift_flags):
    #: CSRT on airplane-1 with its box frozen at 41x16 is flagged from frame 395 (IoU 0.37,
    #: the plane ~75 px wide; IoU < 0.3 from frame 441); on good runs 0.2 % of frames
    frozen_appearance: float = 0.3
    #: a box unlike its keyframe at any size: likeness below this (the ground truth of the
    #: four real sequences replayed as a run stays above it on all but 0.25 % of frames)
    unlike_appearance: float = -0.05
    #: a frame an interrupted run planned to re-track but did not reach
    stale_severity: float = 0.9
    #: what the review workflow proposes (one frame a round, most severe first): flags at
    #: least this severe, counting only ``review_reasons``. The review list shows every
    #: flag; these two only decide what is worth a person's check unasked
    review_min_severity: float = 0.55
    #: runs disagreeing are shown and settled by the combination where the order of the runs
    #: allows, but are not proposed: with engines that give no score (CSRT), checking them
    #: cost more verifications than it saved corrections (``costcore bench effort``)
    review_reasons: tuple[FlagReason, ...] = (
        FlagReason.LOST,
        FlagReason.LOW_SCORE,
        FlagReason.JUMP,
        FlagReason.SIZE,
        FlagReason.OPEN_END,
        FlagReason.FROZEN,
        FlagReason.UNLIKE,
        FlagReason.STALE,
    )
    #: the last frame is flagged when this many tracked frames or more follow the last
    #: keyframe and the run there raised a flag: nothing checks a run that ends in the open
    #: (a box there gives the tool a backward run); 0 = never
    open_end_frames: int = 20
    open_end_severity: float = 1.0


@dataclass(frozen=True)
class Flag:
    """A flagged frame: its reasons, most severe first, with each reason's severity."""

    index: int
    severity: float
    reasons: tuple[FlagReason, ...]
    absent_proposed: bool = False
    #: the severity of each reason (same order as ``reasons``)
    severities: tuple[float, ...] = ()

    def severity_for(self, reasons: Collection[FlagReason]) -> float:
        """The severity counting only ``reasons`` (0 when the flag has none of them)."""
        values = [
            v
            for r, v in zip(self.reasons, self.severities or (self.severity,), strict=False)
            if r in reasons
        ]
        if not values:
            return 0.0
        return min(1.0, max(values) + 0.05 * (len(values) - 1))

    def describe(self) -> str:
        text = ", ".join(r.value for r in self.reasons)
        return text + (" — absent?" if self.absent_proposed else "")


_FLAGGABLE = (Provenance.TRACKED, Provenance.INTERPOLATED, Provenance.IMPORTED)


def flag_frames(
    annotation: VideoAnnotation, diagnostics: Diagnostics, rules: FlagRules | None = None
) -> list[Flag]:
    """Flags of every automatic frame of ``annotation``, in frame order."""
    frames = annotation.frames
    candidate = np.fromiter(
        (f.provenance in _FLAGGABLE and f.box is not None for f in frames),
        dtype=bool,
        count=len(frames),
    )
    flags = compute_flags(
        annotation.boxes_array(),
        annotation.scores_array(),
        diagnostics,
        candidate,
        rules,
    )
    rules = rules or FlagRules()
    last = annotation.frame_count - 1
    keyframes = annotation.keyframes()
    automatic = frames[last].provenance in (Provenance.TRACKED, Provenance.INTERPOLATED)
    if (
        rules.open_end_frames > 0
        and keyframes
        and automatic
        and frames[last].box is not None
        and last - keyframes[-1] >= rules.open_end_frames
        and any(f.index > keyframes[-1] for f in flags)  # the run shows trouble
    ):
        flags = [f for f in flags if f.index != last]
        severity = rules.open_end_severity
        flags.append(Flag(last, severity, (FlagReason.OPEN_END,), False, (severity,)))
    return flags


def compute_flags(
    boxes: np.ndarray,
    scores: np.ndarray,
    diagnostics: Diagnostics,
    candidate: np.ndarray,
    rules: FlagRules | None = None,
) -> list[Flag]:
    """The array core of :func:`flag_frames` (``boxes`` NaN rows = no box)."""
    rules = rules or FlagRules()
    count = len(boxes)
    present = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    severity: list[dict[FlagReason, float]] = [{} for _ in range(count)]

    def add(i: int, reason: FlagReason, value: float) -> None:
        if candidate[i]:
            severity[i][reason] = max(severity[i].get(reason, 0.0), float(value))

    # --- score and lost
    with np.errstate(invalid="ignore"):
        low = np.flatnonzero(scores < rules.score_threshold)
    for i in low:
        gap = (rules.score_threshold - scores[i]) / max(rules.score_threshold, 1e-9)
        add(int(i), FlagReason.LOW_SCORE, 0.5 + 0.5 * min(1.0, gap))
    for i in np.flatnonzero(diagnostics.lost):
        add(int(i), FlagReason.LOST, 1.0)
    if diagnostics.stale is not None:
        for i in np.flatnonzero(diagnostics.stale):
            add(int(i), FlagReason.STALE, rules.stale_severity)

    # --- jumps and size changes between consecutive frames
    safe = np.where(present[:, None], boxes, 0.0)
    speed = relative_speed(safe, ~present)
    pair = np.zeros(count, dtype=bool)
    pair[1:] = present[1:] & present[:-1]
    median = _local_median(np.where(pair, speed, np.nan), rules.jump_window)
    with np.errstate(invalid="ignore"):
        jumps = pair & (speed > rules.jump_speed) & (speed > rules.jump_factor * median)
    size = np.sqrt(np.clip(safe[:, 2] * safe[:, 3], 1e-12, None))
    aspect = np.clip(safe[:, 2], 1e-9, None) / np.clip(safe[:, 3], 1e-9, None)
    size_step = np.zeros(count)
    aspect_step = np.zeros(count)
    size_step[1:] = np.abs(np.log(size[1:] / size[:-1]))
    aspect_step[1:] = np.abs(np.log(aspect[1:] / aspect[:-1]))
    size_limit, aspect_limit = np.log(rules.size_ratio), np.log(rules.aspect_ratio)
    resized = pair & ((size_step > size_limit) | (aspect_step > aspect_limit))
    for t in np.flatnonzero(jumps | resized):
        # the transition t-1 -> t is abnormal: blame the automatic frame of the two
        target = int(t) if candidate[t] else int(t) - 1
        if jumps[t]:
            excess = speed[t] / rules.jump_speed - 1.0
            add(target, FlagReason.JUMP, 0.4 + 0.4 * min(1.0, excess / 4.0))
        if resized[t]:
            excess = max(size_step[t] / size_limit, aspect_step[t] / aspect_limit) - 1.0
            add(target, FlagReason.SIZE, 0.3 + 0.4 * min(1.0, excess / 2.0))

    # --- what the box shows, against its keyframe
    frozen, unlike, likeness = drift_rules(boxes, diagnostics.appearance_or_nan(), candidate, rules)
    for i in np.flatnonzero(frozen):
        depth = (rules.frozen_appearance - likeness[i]) / 0.5
        add(int(i), FlagReason.FROZEN, 0.6 + 0.3 * min(1.0, depth))
    for i in np.flatnonzero(unlike):
        depth = (rules.unlike_appearance - likeness[i]) / 0.3
        add(int(i), FlagReason.UNLIKE, 0.5 + 0.3 * min(1.0, depth))

    # --- forward/backward disagreement
    agreement = diagnostics.agreement
    with np.errstate(invalid="ignore"):
        disagree = candidate & (agreement < rules.disagree_iou)
    unresolved = disagree & ~diagnostics.resolved
    for i in np.flatnonzero(disagree & diagnostics.resolved):
        add(int(i), FlagReason.DISAGREE, rules.resolved_severity * (1.0 - agreement[i]))
    for first, last in runs(unresolved):
        half = (last - first) / 2.0
        for i in range(first, last + 1):
            centrality = 1.0 - abs(i - (first + half)) / (half + 1.0)
            doubt = 1.0 - agreement[i]
            add(i, FlagReason.DISAGREE, 0.55 + 0.25 * doubt + 0.2 * centrality)

    flags = []
    for i in range(count):
        values = severity[i]
        if not values:
            continue
        reasons = tuple(sorted(values, key=lambda r: -values[r]))
        value = min(1.0, max(values.values()) + 0.05 * (len(values) - 1))
        absent = FlagReason.LOST in values or bool(scores[i] < rules.absent_score)
        each = tuple(round(values[r], 6) for r in reasons)
        flags.append(Flag(i, round(value, 6), reasons, absent, each))
    return flags


def drift_rules(
    boxes: np.ndarray, appearance: np.ndarray, candidate: np.ndarray, rules: FlagRules
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The appearance rules over arrays: ``(frozen, unlike, likeness)``.

    ``likeness`` is the median appearance over the last ``appearance_window`` frames of the
    same stretch of automatic frames (a keyframe starts a new run with a new anchor), NaN
    until half a window is measured. :class:`DriftWatch` is the same rule, step by step.
    """
    count = len(boxes)
    index = np.arange(count)
    stretch_start = np.maximum.accumulate(np.where(~candidate, index + 1, 0))
    window = max(1, rules.appearance_window)
    padded = np.concatenate([np.full(window - 1, np.nan), np.asarray(appearance, float)])
    values = np.lib.stride_tricks.sliding_window_view(padded, window).copy()
    positions = index[:, None] - (window - 1) + np.arange(window)[None, :]
    values[positions < stretch_start[:, None]] = np.nan
    enough = np.isfinite(values).sum(axis=1) >= (window + 1) // 2
    likeness = np.where(enough & candidate, _row_nanmedian(values), np.nan)
    same = np.zeros(count, dtype=bool)
    if count > 1:
        w, h = boxes[:, 2], boxes[:, 3]
        tolerance = rules.frozen_tolerance
        with np.errstate(invalid="ignore"):
            same[1:] = (
                candidate[1:]
                & candidate[:-1]
                & (np.abs(w[1:] - w[:-1]) <= tolerance * np.abs(w[:-1]))
                & (np.abs(h[1:] - h[:-1]) <= tolerance * np.abs(h[:-1]))
            )
    frozen_for = index - np.maximum.accumulate(np.where(~same, index, -1))
    with np.errstate(invalid="ignore"):
        frozen = (frozen_for >= rules.frozen_frames) & (likeness < rules.frozen_appearance)
        unlike = likeness < rules.unlike_appearance
    return frozen, unlike, likeness


class DriftWatch:
    """The appearance rules of :func:`drift_rules` for one run, frame by frame (for
    stop-at-the-first-flag while a propagation runs)."""

    def __init__(self, rules: FlagRules | None = None) -> None:
        self.rules = rules or FlagRules()
        self._looks: list[float] = []
        self._previous: Box | None = None
        self._frozen_for = 0

    def observe(self, box: Box, appearance: float | None) -> tuple[FlagReason, ...]:
        rules = self.rules
        previous, self._previous = self._previous, box
        tolerance = rules.frozen_tolerance
        if (
            previous is not None
            and abs(box.w - previous.w) <= tolerance * abs(previous.w)
            and abs(box.h - previous.h) <= tolerance * abs(previous.h)
        ):
            self._frozen_for += 1
        else:
            self._frozen_for = 0
        self._looks.append(np.nan if appearance is None else float(appearance))
        recent = np.asarray(self._looks[-max(1, rules.appearance_window) :])
        recent = recent[np.isfinite(recent)]
        if len(recent) < (max(1, rules.appearance_window) + 1) // 2:
            return ()
        likeness = float(np.median(recent))
        reasons = []
        if self._frozen_for >= rules.frozen_frames and likeness < rules.frozen_appearance:
            reasons.append(FlagReason.FROZEN)
        if likeness < rules.unlike_appearance:
            reasons.append(FlagReason.UNLIKE)
        return tuple(reasons)


def _local_median(values: np.ndarray, window: int) -> np.ndarray:
    """Median of the values (NaN: none) within ``window`` frames of each frame."""
    if len(values) == 0:
        return np.full(0, np.nan)
    padded = np.concatenate([np.full(window, np.nan), values, np.full(window, np.nan)])
    return _row_nanmedian(np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1))


def _row_nanmedian(rows: np.ndarray) -> np.ndarray:
    """``np.nanmedian(rows, axis=1)`` (NaN where a row has only NaN), by one sort (NaN
    sorts last) and the middle of each row's finite values: nanmedian's masked-array path
    took ~40 ms on a 2,800-frame video, holding the GIL, on every live flags update."""
    out = np.full(len(rows), np.nan)
    ordered = np.sort(rows, axis=1)
    finite = (~np.isnan(rows)).sum(axis=1)
    kept = np.flatnonzero(finite)
    low = ordered[kept, (finite[kept] - 1) // 2]
    high = ordered[kept, finite[kept] // 2]
    out[kept] = (low + high) / 2.0
    return out


def step_reasons(
    previous: Box | None,
    box: Box,
    score: float | None,
    lost: bool,
    recent_speeds: Sequence[float],
    rules: FlagRules | None = None,
) -> tuple[FlagReason, ...]:
    """The flag rules for one new step of a running propagation (stop-at-first-flag).

    ``recent_speeds`` are the relative speeds of the run's previous steps (for the jump rule's
    median); the disagreement rule needs both runs and does not apply here.
    """
    rules = rules or FlagRules()
    reasons: list[FlagReason] = []
    if lost:
        reasons.append(FlagReason.LOST)
    if score is not None and score < rules.score_threshold:
        reasons.append(FlagReason.LOW_SCORE)
    if previous is not None and previous.w > 0 and previous.h > 0 and box.w > 0 and box.h > 0:
        speed = float(
            relative_speed(np.array([tuple(previous), tuple(box)], dtype=np.float64), None)[1]
        )
        recent = [s for s in recent_speeds[-2 * rules.jump_window :] if np.isfinite(s)]
        median = float(np.median(recent)) if recent else 0.0
        if speed > rules.jump_speed and speed > rules.jump_factor * median:
            reasons.append(FlagReason.JUMP)
        size_step = abs(np.log(box.size / previous.size))
        aspect_step = abs(np.log((box.w / box.h) / (previous.w / previous.h)))
        if size_step > np.log(rules.size_ratio) or aspect_step > np.log(rules.aspect_ratio):
            reasons.append(FlagReason.SIZE)
    return tuple(reasons)
