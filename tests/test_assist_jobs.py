"""Planning and running assisted-annotation jobs with a scripted engine (no Qt, no tracker)."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.annotation import (
    FrameAnnotation,
    MarkVerified,
    Provenance,
    SetBox,
    SetFrames,
    UndoStack,
    VideoAnnotation,
)
from costcore.assist.flags import FlagRules
from costcore.assist.jobs import (
    CachedRunner,
    EngineRunner,
    checkpoints,
    fill_segment,
    keyframe_anchors,
    propagate,
    segment_job,
)
from costcore.assist.plan import (
    Extent,
    Segment,
    all_segments,
    has_automatic,
    plan_propagation,
    refill_segments,
    segment_at,
    trimmed,
)
from costcore.assist.updates import Anchor, frame_items
from costcore.boxes import Box
from costcore.engines.errors import EngineError
from costcore.errors import Cancelled
from tests.assist_fakes import IndexFrames, ScriptedEngine

K = Provenance.KEYFRAME


def annotation_with(count: int, keyframes: dict[int, tuple[float, ...]]) -> VideoAnnotation:
    annotation = VideoAnnotation("v", count)
    stack = UndoStack(annotation)
    for index, box in keyframes.items():
        stack.push(SetBox(index, box, K))
    return annotation


def test_propagation_plans() -> None:
    a = annotation_with(20, {2: (0, 0, 5, 5), 9: (0, 0, 5, 5)})
    assert list(plan_propagation(a, 2).frames) == list(range(3, 9))
    assert list(plan_propagation(a, 9, backwards=True).frames) == list(range(8, 2, -1))
    assert list(plan_propagation(a, 9).frames) == list(range(10, 20))
    assert list(plan_propagation(a, 2, backwards=True).frames) == [1, 0]
    assert list(plan_propagation(a, 2, extent=Extent.END).frames) == list(range(3, 20))
    assert list(plan_propagation(a, 2, extent="count", count=3).frames) == [3, 4, 5]
    assert list(plan_propagation(a, 18, extent="count", count=5).frames) == [19]
    assert list(plan_propagation(a, 1, backwards=True, extent="count", count=5).frames) == [0]
    with pytest.raises(ValueError):
        plan_propagation(a, 2, extent=Extent.COUNT)


def test_segments() -> None:
    a = annotation_with(20, {2: (0, 0, 5, 5), 9: (0, 0, 5, 5)})
    assert segment_at(a, 5) == Segment(2, 9, 20)
    assert segment_at(a, 2) == Segment(2, 9, 20)  # a keyframe: the following one
    assert list(segment_at(a, 0).frames) == [0, 1]
    assert [list(s.frames) for s in all_segments(a)] == [
        [0, 1],
        list(range(3, 9)),
        list(range(10, 20)),
    ]
    assert refill_segments(a, 9) == [Segment(9, None, 20)]
    assert refill_segments(a, 9, preceding=True) == [Segment(2, 9, 20), Segment(9, None, 20)]
    assert refill_segments(a, 19) == []
    # verified frames do not bound segments (they are checkpoints inside them)
    stack = UndoStack(a)
    stack.push(SetFrames([(5, FrameAnnotation((1, 1, 5, 5), provenance=Provenance.TRACKED))]))
    stack.push(MarkVerified([5]))
    assert segment_at(a, 6) == Segment(2, 9, 20)
    assert checkpoints(a, Segment(2, 9, 20)) == {5: Box(1, 1, 5, 5)}


def test_trimmed_open_segment_redoes_only_what_was_tracked() -> None:
    a = annotation_with(20, {2: (0, 0, 5, 5)})
    stack = UndoStack(a)
    tracked = FrameAnnotation((0, 0, 5, 5), provenance=Provenance.TRACKED)
    stack.push(SetFrames([(i, tracked) for i in range(3, 8)]))
    segment = Segment(2, None, 20)
    assert has_automatic(a, segment)
    assert list(trimmed(a, segment).frames) == [3, 4, 5, 6, 7]
    assert not has_automatic(a, Segment(None, 2, 20))


def test_propagate_forward_and_backward_from_the_start_box() -> None:
    engine = ScriptedEngine()
    runner = EngineRunner(lambda: engine, IndexFrames(12), "a red car")
    a = annotation_with(12, {4: (10, 0, 5, 5)})
    plan = plan_propagation(a, 4, extent="end")
    updates = list(propagate(runner, plan, Box(10, 0, 5, 5)))
    assert [u.index for u in updates] == list(range(5, 12))
    assert [u.box.x for u in updates] == [10 + 2 * k for k in range(1, 8)]
    assert engine.inits == [(4, Box(10, 0, 5, 5), "a red car")]
    back = list(propagate(runner, plan_propagation(a, 4, backwards=True), Box(10, 0, 5, 5)))
    assert [u.index for u in back] == [3, 2, 1, 0]
    assert all(u.provenance is Provenance.TRACKED and u.engine == "scripted" for u in back)


def test_engine_boxes_reach_the_annotation_clipped_to_the_frame() -> None:
    """Engines report their trackers' boxes (TransT's extend past the border); what the
    annotation shows and exports is the part inside the image."""
    engine = ScriptedEngine()  # 2 px right per frame
    runner = EngineRunner(lambda: engine, IndexFrames(8, size=(20, 16)))
    a = annotation_with(8, {0: (10, 13, 5, 5)})  # 2 px below the bottom edge already
    updates = list(propagate(runner, plan_propagation(a, 0, extent="end"), Box(10, 13, 5, 5)))
    boxes = {u.index: u.box for u in updates}
    assert boxes[1] == Box(12, 13, 5, 3)  # cut at the bottom
    assert boxes[3] == Box(16, 13, 4, 3)  # and at the right edge (x + w = 21 > 20)
    assert boxes[4] == Box(18, 13, 2, 3)
    assert boxes[5] == Box(20, 13, 5, 5)  # nothing inside: kept for the export checks to flag
    stack = UndoStack(a)
    stack.push(SetFrames(frame_items(updates)))
    assert a.frame(3).box == Box(16, 13, 4, 3)


def test_propagate_restarts_at_keyframes_and_stops_at_absent_ones() -> None:
    engine = ScriptedEngine()
    runner = EngineRunner(lambda: engine, IndexFrames(20))
    a = annotation_with(20, {0: (0, 0, 5, 5), 6: (100, 0, 5, 5)})
    plan = plan_propagation(a, 0, extent="end")
    anchors = keyframe_anchors(a, plan)
    updates = {u.index: u for u in propagate(runner, plan, Box(0, 0, 5, 5), anchors)}
    assert 6 not in updates
    assert updates[7].box.x == 102.0  # restarted from the keyframe's box
    assert [i for i, _b, _t in engine.inits] == [0, 6]
    anchors[10] = None  # an absent keyframe: the run stops there
    updates = list(propagate(runner, plan, Box(0, 0, 5, 5), anchors))
    assert max(u.index for u in updates) == 9


def test_propagate_stops_at_the_first_flag() -> None:
    engine = ScriptedEngine(scores={7: 0.1})
    runner = EngineRunner(lambda: engine, IndexFrames(20))
    a = annotation_with(20, {0: (0, 0, 5, 5)})
    plan = plan_propagation(a, 0, extent="end")
    updates = list(propagate(runner, plan, Box(0, 0, 5, 5), stop_at_flag=True, rules=FlagRules()))
    assert [u.index for u in updates] == list(range(1, 8))  # the flagged frame is shown


def test_cancel_raises_between_frames() -> None:
    runner = EngineRunner(ScriptedEngine, IndexFrames(20))
    calls = iter([False, False, True])
    plan = plan_propagation(annotation_with(20, {0: (0, 0, 5, 5)}), 0, extent="end")
    with pytest.raises(Cancelled):
        list(propagate(runner, plan, Box(0, 0, 5, 5), cancelled=lambda: next(calls)))


def test_fill_segment_streams_both_runs_then_the_combination() -> None:
    engines: list[ScriptedEngine] = []

    def make() -> ScriptedEngine:
        engines.append(ScriptedEngine(script=lambda i, s, b: b))  # a still target
        return engines[-1]

    runner = EngineRunner(make, IndexFrames(12))
    segment = Segment(2, 8, 12)
    updates = list(
        fill_segment(runner, segment, Anchor(2, Box(0, 0, 4, 4)), Anchor(8, Box(0, 0, 4, 4)))
    )
    provisional = [u for u in updates if not u.final]
    final = [u for u in updates if u.final]
    assert [u.index for u in provisional] == [3, 4, 5, 6, 7, 7, 6, 5, 4, 3]
    assert [u.index for u in final] == [3, 4, 5, 6, 7]
    assert all(u.source == "both" and u.agreement == pytest.approx(1.0) for u in final)
    # each run goes one frame further, onto the far keyframe (to measure its drift there)
    assert [i for e in engines for i, _b, _t in e.inits] == [2, 8]
    assert sum(e.steps for e in engines) == 12


def test_segment_job_picks_interpolation_or_one_sided_runs() -> None:
    a = annotation_with(10, {2: (0, 0, 4, 4), 6: (8, 0, 4, 4)})
    updates = list(segment_job(None, a, Segment(2, 6, 10)))
    assert [(u.index, u.box.x, u.provenance) for u in updates] == [
        (3, 2.0, Provenance.INTERPOLATED),
        (4, 4.0, Provenance.INTERPOLATED),
        (5, 6.0, Provenance.INTERPOLATED),
    ]
    with pytest.raises(EngineError):
        list(segment_job(None, a, Segment(6, None, 10)))
    runner = EngineRunner(ScriptedEngine, IndexFrames(10))
    tail = list(segment_job(runner, a, Segment(6, None, 10)))
    assert [u.index for u in tail] == [7, 8, 9] and all(u.final for u in tail)
    items = frame_items(tail)
    assert items[0][1] == FrameAnnotation(
        (10, 0, 4, 4), provenance=Provenance.TRACKED, score=0.9, engine="scripted"
    )


def test_cached_runner_reuses_and_extends_runs() -> None:
    engines: list[ScriptedEngine] = []

    def make() -> ScriptedEngine:
        engines.append(ScriptedEngine())
        return engines[-1]

    runner = CachedRunner(make, IndexFrames(30))
    anchor = Anchor(3, Box(0, 0, 4, 4))
    first = [u.box.x for u in runner.run(anchor, 10)]
    assert first == [2.0 * k for k in range(1, 7)]
    assert [u.box.x for u in runner.run(anchor, 8)] == first[:4]
    longer = [u.index for u in runner.run(anchor, 15)]
    assert longer == list(range(4, 15))
    assert len(engines) == 1 and engines[0].steps == 11 and runner.frames_tracked == 11
    back = [u.index for u in runner.run(anchor, -1, backwards=True)]
    assert back == [2, 1, 0] and len(engines) == 2
    assert np.isfinite(first).all()
