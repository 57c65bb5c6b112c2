"""Combine a forward run (from the left keyframe) and a backward run (from the right one).

First each run's drift is corrected: a run that reaches the other keyframe still on the target
is shifted and scaled so it passes through that keyframe, over at most ``drift_span`` frames
before it (see :func:`drift_corrected`). Then, per frame of the segment:

- where the runs agree (their centres, at a common size: IoU >= ``agree_iou``) the box is their
  average, weighted towards the run whose keyframe is nearer and, when the engine has scores,
  the more confident run: a confident frame. Boxes more than ``blend_max_size_ratio`` times
  wider or taller than each other are not averaged (the weightier run's box is taken);
- a run is *confirmed* at a frame where it agrees with the other run, with a person's box (the
  far keyframe, a verified frame) or both. Trackers rarely find a target again once they lose
  it, so the forward run is trusted up to its last confirmation and the backward run from its
  first one. Where they disagree and only one is trusted, that one wins (``resolved``);
- where neither (or both) is trusted, the run with the larger weight is taken and the frame is
  an unresolved disagreement: the flags rank these highest, the middle of the stretch first,
  so checking one frame splits the doubt in two.

Frames where the engine said it lost the target count as "no box" from that run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from costcore.assist.plan import Segment
from costcore.assist.updates import Anchor, FrameUpdate, RunStep
from costcore.boxes import Box, iou


@dataclass(frozen=True)
class CombineRules:
    """``agree_iou``: the runs agree on a frame when their boxes overlap at least this much."""

    agree_iou: float = 0.5
    #: how much the scores (when the engine has them) shift the weights, 0 = distance only
    score_weight: float = 1.0
    #: compare the runs' centres only (boxes resized to their mean size before the IoU): runs
    #: started from keyframes of different sizes keep different sizes for a while (CSRT
    #: barely rescales), which says nothing about whether they follow the same object
    centres_only: bool = True
    #: correct a run's drift when it reaches the far keyframe with at least this centre
    #: agreement (above 1: never)
    drift_min_agreement: float = 0.3
    #: remove a run's error at the far keyframe over at most this many frames before it
    #: (None: over the whole run). A tracker's error after thousands of frames (the target
    #: grew, the template aged) says nothing about its first frames: spread over the whole
    #: of a long segment, even its small share there moves boxes the run had right.
    drift_span: int | None = 200
    #: runs whose boxes agree on the centre but differ in width or height by more than
    #: this factor are not averaged (the run with the larger weight is taken): they do not
    #: measure the same extent, e.g. a run from a keyframe drawn when the target was ten
    #: times larger (None: always averaged)
    blend_max_size_ratio: float | None = 3.0


@dataclass(frozen=True)
class Combined:
    """One frame of a combined segment (see :func:`combine_runs`)."""

    index: int
    box: Box
    score: float | None
    source: str  # forward / backward / both
    agreement: float | None
    resolved: bool
    lost: bool


def centre_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of ``a`` and ``b`` after giving each pair the pair's mean width and height."""
    w = (a[:, 2] + b[:, 2]) / 2.0
    h = (a[:, 3] + b[:, 3]) / 2.0
    dx = np.abs((a[:, 0] + a[:, 2] / 2.0) - (b[:, 0] + b[:, 2] / 2.0))
    dy = np.abs((a[:, 1] + a[:, 3] / 2.0) - (b[:, 1] + b[:, 3] / 2.0))
    inter = np.clip(w - dx, 0, None) * np.clip(h - dy, 0, None)
    area = w * h
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, inter / np.where(area > 0, 2 * area - inter, 1.0), 0.0)


def _usable(step: RunStep | None) -> RunStep | None:
    return None if step is None or step.lost else step


def _distance_weights(segment: Segment, index: int, forward: bool, backward: bool) -> float:
    """Weight of the forward run at ``index`` (the backward run gets 1 minus it)."""
    if not backward:
        return 1.0
    if not forward:
        return 0.0
    left = segment.first - 1 if segment.left is None else segment.left
    right = segment.last + 1 if segment.right is None else segment.right
    return (right - index) / max(right - left, 1)


def drift_corrected(
    run: Mapping[int, RunStep], start: int, end: Anchor | None, rules: CombineRules
) -> dict[int, RunStep]:
    """The run with its error at the far keyframe spread linearly back over it.

    A run from keyframe ``start`` that reaches the other keyframe ``end`` still on the target
    (centres agreeing) is off there by some offset and scale: its template's bias, which a
    tracker carries all along. Removing that error in proportion to the distance from
    ``start`` (zero there, all of it at ``end``) makes the run pass through both keyframes.
    Farther than ``rules.drift_span`` frames from ``end`` the run is left as it is (the error
    is removed over the last ``drift_span`` frames). A run that lost the target on the way
    is left as it is.
    """
    out = {i: step for i, step in run.items() if end is None or i != end.index}
    if end is None or end.index not in run or rules.drift_min_agreement > 1.0:
        return out
    last = run[end.index]
    if last.lost:
        return out
    a, b = np.array([last.box], dtype=np.float64), np.array([end.box], dtype=np.float64)
    if centre_agreement(a, b)[0] < rules.drift_min_agreement:
        return out
    if min(last.box.w, last.box.h, end.box.w, end.box.h) <= 0:
        return out
    (fx, fy), (ex, ey) = last.box.center, end.box.center
    dx, dy = ex - fx, ey - fy
    sw, sh = np.log(end.box.w / last.box.w), np.log(end.box.h / last.box.h)
    span = abs(end.index - start)
    if rules.drift_span is not None:
        span = min(span, max(rules.drift_span, 1))
    for i, step in out.items():
        if step.lost:
            continue
        t = max(0.0, 1.0 - abs(end.index - i) / span)
        cx, cy = step.box.center
        w, h = step.box.w * np.exp(sw * t), step.box.h * np.exp(sh * t)
        cx, cy = cx + dx * t, cy + dy * t
        out[i] = RunStep(i, Box(cx - w / 2.0, cy - h / 2.0, w, h), step.score, step.lost)
    return out


def combine_runs(
    segment: Segment,
    forward: Mapping[int, RunStep],
    backward: Mapping[int, RunStep],
    rules: CombineRules | None = None,
    left: Anchor | None = None,
    right: Anchor | None = None,
    checkpoints: Mapping[int, Box] | None = None,
) -> list[Combined]:
    """The combined value of every frame of ``segment`` that at least one run reached.

    ``forward`` may include the right keyframe's frame and ``backward`` the left one's (their
    error there corrects their drift and confirms them); ``checkpoints`` are verified boxes
    inside the segment (they confirm the runs that agree with them).
    """
    rules = rules or CombineRules()
    frames = list(segment.frames)
    people: dict[int, Box] = dict(checkpoints or {})
    if left is not None:
        people[left.index] = left.box
    if right is not None:
        people[right.index] = right.box
    forward_confirmed = _confirmations(forward, people, rules)
    backward_confirmed = _confirmations(backward, people, rules)
    if left is not None:
        forward = drift_corrected(forward, left.index, right, rules)
    if right is not None:
        backward = drift_corrected(backward, right.index, left, rules)

    agreement: dict[int, float] = {}
    both = [i for i in frames if _usable(forward.get(i)) and _usable(backward.get(i))]
    if both:
        f = np.array([forward[i].box for i in both], dtype=np.float64)
        b = np.array([backward[i].box for i in both], dtype=np.float64)
        values = centre_agreement(f, b) if rules.centres_only else iou(f, b)
        agreement = dict(zip(both, values.tolist(), strict=True))
    agreeing = [i for i in both if agreement[i] >= rules.agree_iou]
    forward_confirmed += agreeing
    backward_confirmed += agreeing
    forward_trusted_to = max(forward_confirmed, default=-1)
    backward_trusted_from = min(backward_confirmed, default=segment.frame_count + 1)

    out: list[Combined] = []
    for i in frames:
        f_step, b_step = forward.get(i), backward.get(i)
        if f_step is None and b_step is None:
            continue
        fu, bu = _usable(f_step), _usable(b_step)
        if fu is None and bu is None:  # both lost (or the only run lost): keep it, say so
            step = f_step or b_step
            assert step is not None
            source = "forward" if step is f_step else "backward"
            out.append(Combined(i, step.box, step.score, source, None, False, True))
            continue
        if fu is None or bu is None:
            step = fu or bu
            assert step is not None
            source = "forward" if step is fu else "backward"
            out.append(Combined(i, step.box, step.score, source, None, False, False))
            continue
        wf = _distance_weights(segment, i, True, True)
        wb = 1.0 - wf
        if rules.score_weight and fu.score is not None and bu.score is not None:
            wf *= max(fu.score, 1e-3) ** rules.score_weight
            wb *= max(bu.score, 1e-3) ** rules.score_weight
            total = wf + wb
            wf, wb = wf / total, wb / total
        value = agreement[i]
        if value >= rules.agree_iou and _alike_sizes(fu.box, bu.box, rules.blend_max_size_ratio):
            box = Box(*(wf * np.asarray(fu.box) + wb * np.asarray(bu.box)).tolist())
            score = None
            if fu.score is not None and bu.score is not None:
                score = wf * fu.score + wb * bu.score
            out.append(Combined(i, box, score, "both", value, False, False))
            continue
        forward_trusted = i <= forward_trusted_to
        backward_trusted = i >= backward_trusted_from
        if forward_trusted != backward_trusted:
            step, source = (fu, "forward") if forward_trusted else (bu, "backward")
            out.append(Combined(i, step.box, step.score, source, value, True, False))
            continue
        step, source = (fu, "forward") if wf >= wb else (bu, "backward")
        out.append(Combined(i, step.box, step.score, source, value, False, False))
    return out


def _alike_sizes(a: Box, b: Box, ratio: float | None) -> bool:
    """Whether neither box is more than ``ratio`` times wider or taller than the other."""
    if ratio is None or min(a.w, a.h, b.w, b.h) <= 0:
        return True
    return max(a.w / b.w, b.w / a.w, a.h / b.h, b.h / a.h) <= ratio


def _confirmations(
    run: Mapping[int, RunStep], people: Mapping[int, Box], rules: CombineRules
) -> list[int]:
    """Frames where ``run`` agrees with a person's box (keyframe or verified frame)."""
    hits = [i for i in people if i in run and not run[i].lost]
    if not hits:
        return []
    a = np.array([run[i].box for i in hits], dtype=np.float64)
    b = np.array([people[i] for i in hits], dtype=np.float64)
    values = centre_agreement(a, b) if rules.centres_only else iou(a, b)
    return [i for i, v in zip(hits, values.tolist(), strict=True) if v >= rules.agree_iou]


def combined_updates(
    combined: list[Combined], engine: str, maps: Mapping[tuple[str, int], FrameUpdate] | None = None
) -> list[FrameUpdate]:
    """Final :class:`FrameUpdate` values; ``maps`` gives each run's update (for score maps)."""
    out = []
    for c in combined:
        run = "forward" if c.source in ("forward", "both") else "backward"
        origin = None if maps is None else maps.get((run, c.index))
        out.append(
            FrameUpdate(
                c.index,
                c.box,
                engine,
                score=c.score,
                agreement=c.agreement,
                resolved=c.resolved,
                lost=c.lost,
                source=c.source,
                score_map=None if origin is None else origin.score_map,
                search_region=None if origin is None else origin.search_region,
                appearance=None if origin is None else origin.appearance,
                step=False,
            )
        )
    return out
