"""Combining a forward and a backward run over a segment (costcore.assist.combine)."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.assist.combine import CombineRules, centre_agreement, combine_runs
from costcore.assist.plan import Segment
from costcore.assist.updates import Anchor, RunStep
from costcore.boxes import Box

SEGMENT = Segment(0, 10, 11)  # frames 1..9 between keyframes 0 and 10
LEFT, RIGHT = Anchor(0, Box(0, 0, 10, 10)), Anchor(10, Box(0, 0, 10, 10))


def run(boxes: dict[int, tuple[float, ...]], lost: set[int] = frozenset()) -> dict[int, RunStep]:
    return {i: RunStep(i, Box(*b), None, i in lost) for i, b in boxes.items()}


def still(first: int, last: int, x: float = 0.0) -> dict[int, tuple[float, ...]]:
    return {i: (x, 0.0, 10.0, 10.0) for i in range(first, last + 1)}


def by_index(combined):
    return {c.index: c for c in combined}


def test_agreeing_runs_are_blended_towards_the_nearer_keyframe() -> None:
    forward = run(still(1, 10, x=0.0))
    backward = run(still(0, 9, x=2.0))
    rules = CombineRules(drift_min_agreement=2.0)  # no drift correction: see the raw blend
    out = by_index(combine_runs(SEGMENT, forward, backward, rules, LEFT, RIGHT))
    assert set(out) == set(range(1, 10))
    assert out[1].source == "both" and out[1].agreement == pytest.approx(2 / 3, abs=0.01)
    assert out[1].box.x == pytest.approx(0.9 * 0.0 + 0.1 * 2.0)
    assert out[9].box.x == pytest.approx(0.1 * 0.0 + 0.9 * 2.0)
    assert not any(c.resolved for c in out.values())


def test_drift_correction_makes_each_run_pass_through_the_far_keyframe() -> None:
    # forward drifts 0.3 px per frame but is still on target at frame 10 (3 px off there)
    forward = run({i: (0.3 * i, 0.0, 10.0, 10.0) for i in range(1, 11)})
    backward = run(still(0, 9))
    out = by_index(combine_runs(SEGMENT, forward, backward, None, LEFT, RIGHT))
    # corrected forward = 0.3 i - 0.3 i = 0 everywhere; it agrees with the backward run
    for c in out.values():
        assert c.box.x == pytest.approx(0.0, abs=1e-9)
        assert c.source == "both" and c.agreement == pytest.approx(1.0)


def test_a_run_confirmed_by_the_far_keyframe_wins_where_the_runs_disagree() -> None:
    forward = run(still(1, 10))  # still on target at the right keyframe: trusted everywhere
    backward = run({**still(6, 9), **still(0, 5, x=50.0)})  # left the target at frame 5
    out = by_index(combine_runs(SEGMENT, forward, backward, None, LEFT, RIGHT))
    for i in range(1, 6):
        assert out[i].source == "forward" and out[i].resolved
        assert out[i].box.x == 0.0
    assert out[8].source == "both"


def test_order_of_the_runs_settles_disagreements_around_an_agreement() -> None:
    # forward leaves the target after frame 6, backward before frame 4; they agree on 4..6
    forward = run({**still(1, 6), **still(7, 10, x=60.0)})
    backward = run({**still(4, 9), **still(0, 3, x=-60.0)})
    out = by_index(combine_runs(SEGMENT, forward, backward, None, LEFT, RIGHT))
    assert [out[i].source for i in (1, 2, 3)] == ["forward"] * 3
    assert [out[i].source for i in (7, 8, 9)] == ["backward"] * 3
    assert all(out[i].resolved for i in (1, 2, 3, 7, 8, 9))
    assert all(out[i].box.x == 0.0 for i in range(1, 10))


def test_unresolved_disagreement_takes_the_nearer_run_and_says_so() -> None:
    forward = run({**still(1, 4), **still(5, 10, x=60.0)})
    backward = run({**still(6, 9), **still(0, 5, x=-60.0)})
    out = by_index(combine_runs(SEGMENT, forward, backward, None, LEFT, RIGHT))
    assert out[2].source == "forward" and out[8].source == "backward"
    assert not any(c.resolved for c in out.values())
    assert all(c.agreement == 0.0 for c in out.values())


def test_runs_agreeing_on_the_centre_but_not_the_size_are_not_averaged() -> None:
    # a box drawn at the end of a long video where the target is six times larger: the
    # backward run from it keeps a box far too large for the frames near the left keyframe
    segment = Segment(0, 1000, 1001)
    left, right = Anchor(0, Box(0, 0, 10, 10)), Anchor(1000, Box(-25, -25, 60, 60))
    forward = run(still(1, 999))
    backward = run({i: (-25.0, -25.0, 60.0, 60.0) for i in range(1, 1000)})
    rules = CombineRules(blend_max_size_ratio=2.0, drift_min_agreement=2.0)
    out = by_index(combine_runs(segment, forward, backward, rules, left, right))
    for i in (1, 100, 499):  # the nearer run's box as it was, though the centres agree
        assert tuple(out[i].box) == (0.0, 0.0, 10.0, 10.0) and out[i].source == "forward"
        assert out[i].agreement is not None and out[i].agreement >= rules.agree_iou
    for i in (501, 999):
        assert tuple(out[i].box) == (-25.0, -25.0, 60.0, 60.0) and out[i].source == "backward"
    # averaged (the rule before), 10 % of the far run's size spoils the box at frame 100
    blended = CombineRules(blend_max_size_ratio=None, drift_min_agreement=2.0)
    whole = by_index(combine_runs(segment, forward, backward, blended, left, right))
    assert whole[100].source == "both" and whole[100].box.w == pytest.approx(15.0)


def test_boxes_within_the_size_ratio_are_still_averaged() -> None:
    forward = run(still(1, 10))
    backward = run({i: (-2.5, -2.5, 15.0, 15.0) for i in range(0, 10)})  # 1.5 x: the same target
    rules = CombineRules(blend_max_size_ratio=2.0, drift_min_agreement=2.0)
    out = by_index(combine_runs(SEGMENT, forward, backward, rules, LEFT, RIGHT))
    assert out[5].source == "both" and out[5].box.w == pytest.approx(12.5)


def test_drift_over_a_long_segment_is_removed_over_the_last_span_frames_only() -> None:
    segment, rules = Segment(0, 200, 201), CombineRules(drift_span=50)
    left, right = Anchor(0, Box(0, 0, 10, 10)), Anchor(200, Box(4, 0, 10, 10))
    forward = run(still(1, 200))  # 4 px off at the right keyframe, still on the target
    out = by_index(combine_runs(segment, forward, {}, rules, left, right))
    assert out[100].box.x == 0.0 and out[150].box.x == 0.0
    assert out[175].box.x == pytest.approx(2.0)  # half-way through the last 50 frames
    assert out[199].box.x == pytest.approx(4.0 * 49 / 50)
    spread = by_index(
        combine_runs(segment, forward, {}, CombineRules(drift_span=None), left, right)
    )
    assert spread[100].box.x == pytest.approx(2.0)  # over the whole run: half of it at 100


def test_a_segment_within_the_drift_span_is_corrected_over_all_of_it() -> None:
    forward = run({i: (0.3 * i, 0.0, 10.0, 10.0) for i in range(1, 11)})
    backward = run(still(0, 9, x=2.0))
    short = combine_runs(SEGMENT, forward, backward, CombineRules(drift_span=10), LEFT, RIGHT)
    whole = combine_runs(SEGMENT, forward, backward, CombineRules(drift_span=None), LEFT, RIGHT)
    assert short == whole


def test_checkpoints_confirm_the_run_that_agrees_with_them() -> None:
    forward = run({**still(1, 7), **still(8, 10, x=60.0)})
    backward = run({**still(8, 9), **still(0, 7, x=-60.0)})
    without = by_index(combine_runs(SEGMENT, forward, backward, None, LEFT, RIGHT))
    assert not without[6].resolved
    out = by_index(
        combine_runs(SEGMENT, forward, backward, None, LEFT, RIGHT, {7: Box(0, 0, 10, 10)})
    )
    assert all(out[i].source == "forward" and out[i].resolved for i in range(1, 7))


def test_lost_steps_count_as_no_box() -> None:
    forward = run(still(1, 10), lost={3})
    backward = run(still(0, 9, x=1.0), lost={3, 5})
    out = by_index(combine_runs(SEGMENT, forward, backward, None, LEFT, RIGHT))
    assert out[3].lost and out[3].agreement is None
    assert out[5].source == "forward" and not out[5].lost


def test_one_sided_segments_take_the_one_run() -> None:
    tail = Segment(4, None, 8)
    forward = run(still(5, 7, x=3.0))
    out = combine_runs(tail, forward, {}, None, Anchor(4, Box(3, 0, 10, 10)), None)
    assert [c.index for c in out] == [5, 6, 7]
    assert all(c.source == "forward" and c.agreement is None for c in out)


def test_centre_agreement_ignores_size_differences() -> None:
    a = np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    b = np.array([[-5.0, -5.0, 20.0, 20.0], [15.0, 0.0, 10.0, 10.0]])
    assert centre_agreement(a, b).tolist() == pytest.approx([1.0, 0.0])
