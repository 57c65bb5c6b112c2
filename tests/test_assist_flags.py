"""Flag rules, severity ranking and the review queue (costcore.assist.flags / review)."""

from __future__ import annotations

import numpy as np

from costcore.annotation import FrameAnnotation, Provenance, VideoAnnotation
from costcore.assist.flags import FlagReason, FlagRules, flag_frames, step_reasons
from costcore.assist.review import ReviewQueue
from costcore.assist.state import AssistState
from costcore.assist.updates import FrameUpdate
from costcore.boxes import Box

TRACKED = Provenance.TRACKED


def video(count: int = 30, step: float = 1.0) -> VideoAnnotation:
    """Keyframe 0, tracked frames moving ``step`` px per frame, score 0.9."""
    frames = [FrameAnnotation((0, 0, 10, 10), provenance=Provenance.KEYFRAME)]
    frames += [
        FrameAnnotation((step * i, 0, 10, 10), provenance=TRACKED, score=0.9, engine="x")
        for i in range(1, count)
    ]
    return VideoAnnotation("v", count, frames=frames)


def with_frame(annotation: VideoAnnotation, index: int, value: FrameAnnotation) -> VideoAnnotation:
    frames = list(annotation.frames)
    frames[index] = value
    return VideoAnnotation("v", len(frames), frames=frames)


def flags_of(annotation: VideoAnnotation, state: AssistState | None = None, **rules):
    state = state or AssistState(annotation.frame_count)
    defaults = {"open_end_frames": 0}
    return {
        f.index: f
        for f in flag_frames(
            annotation, state.diagnostics(annotation), FlagRules(**(defaults | rules))
        )
    }


def test_smooth_confident_tracking_raises_no_flag() -> None:
    assert flags_of(video()) == {}


def test_low_score_flags_and_very_low_proposes_absent() -> None:
    annotation = video()
    annotation = with_frame(
        annotation, 7, FrameAnnotation((7, 0, 10, 10), provenance=TRACKED, score=0.2)
    )
    annotation = with_frame(
        annotation, 9, FrameAnnotation((9, 0, 10, 10), provenance=TRACKED, score=0.02)
    )
    flags = flags_of(annotation)
    assert set(flags) == {7, 9}
    assert flags[7].reasons == (FlagReason.LOW_SCORE,) and not flags[7].absent_proposed
    assert flags[9].absent_proposed and flags[9].severity > flags[7].severity


def test_jumps_and_size_changes_are_flagged_on_the_automatic_frame() -> None:
    annotation = video()
    annotation = with_frame(annotation, 12, FrameAnnotation((40, 0, 10, 10), provenance=TRACKED))
    annotation = with_frame(annotation, 20, FrameAnnotation((20, 0, 20, 20), provenance=TRACKED))
    flags = flags_of(annotation)
    assert FlagReason.JUMP in flags[12].reasons  # into the jump
    assert FlagReason.JUMP in flags[13].reasons  # and back
    assert FlagReason.SIZE in flags[20].reasons
    assert 11 not in flags and 19 not in flags


def test_keyframes_and_verified_frames_are_never_flagged() -> None:
    annotation = video()
    annotation = with_frame(
        annotation, 5, FrameAnnotation((5, 0, 10, 10), provenance=Provenance.VERIFIED, score=0.01)
    )
    annotation = with_frame(
        annotation, 6, FrameAnnotation((90, 0, 10, 10), provenance=Provenance.KEYFRAME)
    )
    flags = flags_of(annotation)
    assert 5 not in flags and 6 not in flags
    # the jump into the keyframe is blamed on the tracked frame before it
    assert FlagReason.JUMP in flags[7].reasons


def test_unresolved_disagreement_ranks_the_middle_of_the_stretch_first() -> None:
    annotation = video(30)
    state = AssistState(30)
    for i in range(10, 21):
        box = annotation.frame(i).box
        state.record(FrameUpdate(i, Box(*box), "x", agreement=0.0))
    for i in (3, 4):  # a disagreement the order of the runs settled
        state.record(
            FrameUpdate(i, Box(*annotation.frame(i).box), "x", agreement=0.1, resolved=True)
        )
    flags = flags_of(annotation, state)
    queue = ReviewQueue(flags.values())
    assert queue.top().index == 15
    assert flags[3].severity < flags[10].severity < flags[15].severity
    assert all(FlagReason.DISAGREE in flags[i].reasons for i in range(10, 21))


def test_diagnostics_of_a_changed_box_are_ignored() -> None:
    annotation = video(10)
    state = AssistState(10)
    state.record(FrameUpdate(4, Box(99, 0, 10, 10), "x", agreement=0.0, lost=True))
    assert flags_of(annotation, state) == {}


def test_open_end_asks_for_the_last_frame_of_a_troubled_run() -> None:
    assert flags_of(video(40), open_end_frames=20) == {}  # a smooth run: no need
    annotation = with_frame(
        video(40), 30, FrameAnnotation((30, 0, 10, 10), provenance=TRACKED, score=0.2)
    )
    flags = flags_of(annotation, open_end_frames=20)
    assert list(flags) == [30, 39] and flags[39].reasons == (FlagReason.OPEN_END,)
    short = with_frame(video(15), 10, annotation.frame(30))
    assert 14 not in flags_of(short, open_end_frames=20)  # too close to the keyframe


def test_review_queue_orders_and_walks_in_time() -> None:
    annotation = video(30)
    for i, score in ((4, 0.3), (10, 0.05), (20, 0.2)):
        annotation = with_frame(
            annotation, i, FrameAnnotation((i, 0, 10, 10), provenance=TRACKED, score=score)
        )
    queue = ReviewQueue(flags_of(annotation).values())
    assert [f.index for f in queue] == [10, 20, 4]
    assert queue.top(exclude=[10]).index == 20
    assert queue.next_after(4).index == 10 and queue.next_after(20).index == 4  # wraps
    assert queue.previous_before(4).index == 20 and queue.previous_before(11).index == 10
    assert 10 in queue and queue.get(11) is None
    assert ReviewQueue([]).top() is None and ReviewQueue([]).next_after(0) is None
    assert len(ReviewQueue(queue, min_severity=0.8)) == 1


def test_step_rules_for_stop_at_first_flag() -> None:
    a, b = Box(0, 0, 10, 10), Box(1, 0, 10, 10)
    assert step_reasons(a, b, 0.9, False, [0.1] * 5) == ()
    assert FlagReason.JUMP in step_reasons(a, Box(30, 0, 10, 10), 0.9, False, [0.1] * 5)
    assert FlagReason.SIZE in step_reasons(a, Box(0, 0, 20, 20), 0.9, False, [0.1] * 5)
    assert step_reasons(a, b, 0.1, True, []) == (FlagReason.LOST, FlagReason.LOW_SCORE)
    assert np.isfinite(FlagRules().score_threshold)


def test_the_review_workflow_proposes_only_what_is_worth_a_check() -> None:
    annotation = video(30)
    annotation = with_frame(
        annotation, 20, FrameAnnotation((20, 0, 10, 10), provenance=TRACKED, score=0.3)
    )
    state = AssistState(30)
    for i in range(5, 12):  # an unresolved disagreement: shown, ranked first, not proposed
        state.record(FrameUpdate(i, Box(*annotation.frame(i).box), "x", agreement=0.0))
    rules = FlagRules(open_end_frames=0)
    flags = flag_frames(annotation, state.diagnostics(annotation), rules)
    queue = ReviewQueue(flags)
    assert queue.top().index == 8 and FlagReason.DISAGREE in queue.top().reasons
    low = queue.get(20)
    assert low.severities == (low.severity,)
    assert low.severity_for([FlagReason.DISAGREE]) == 0.0
    assert queue.proposal(FlagRules(review_min_severity=0.5)).index == 20
    assert queue.proposal(FlagRules(review_min_severity=0.9)) is None
    assert queue.proposal(FlagRules(review_min_severity=0.5), exclude=[20]) is None
    everything = FlagRules(review_min_severity=0.0, review_reasons=tuple(FlagReason))
    assert queue.proposal(everything).index == 8


def test_local_median_equals_nanmedian_over_each_window() -> None:
    """The sort-based local median gives numpy's nanmedian of every window, NaN where a window
    holds no finite value (gaps, ends of the video, all-NaN stretches)."""
    import warnings

    from costcore.assist.flags import _local_median

    rng = np.random.default_rng(7)
    for _ in range(100):
        count, window = int(rng.integers(1, 80)), int(rng.integers(1, 9))
        values = rng.normal(size=count) * 10
        values[rng.random(count) < rng.random()] = np.nan
        values[rng.random(count) < 0.05] = np.inf  # a value like any other, as for nanmedian
        padded = np.concatenate([np.full(window, np.nan), values, np.full(window, np.nan)])
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            expected = np.nanmedian(windows, axis=1)
        np.testing.assert_allclose(_local_median(values, window), expected, equal_nan=True)
    assert _local_median(np.array([]), 3).shape == (0,)
