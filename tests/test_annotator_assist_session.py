"""AssistSession: the decisions about automatic work, tested without Qt and with a scripted engine.

The scripted engine moves the box 2 px right per frame from wherever it started, so every
value written can be traced back to the run (start frame, direction) that produced it.
"""

from __future__ import annotations

import pytest

from costcore.annotation import Provenance, VideoAnnotation
from costcore.annotator import AssistRefused, AssistSession
from costcore.assist.jobs import INTERPOLATION, EngineRunner
from costcore.assist.plan import Extent
from costcore.boxes import Box
from tests.assist_fakes import IndexFrames, ScriptedEngine

COUNT = 30
BOX = Box(10.0, 20.0, 8.0, 8.0)


def make(method: str = "scripted") -> tuple[AssistSession, EngineRunner, list[ScriptedEngine]]:
    engines: list[ScriptedEngine] = []

    def engine() -> ScriptedEngine:
        engines.append(ScriptedEngine())
        return engines[-1]

    session = AssistSession(VideoAnnotation("v", COUNT), method=method)
    return session, EngineRunner(engine, IndexFrames(COUNT)), engines


def x_of(session: AssistSession, index: int) -> float:
    box = session.annotation.frame(index).box
    assert box is not None, f"frame {index} has no box"
    return box.x


def test_propagation_to_the_end_tracks_every_following_frame_as_one_undo_step() -> None:
    session, runner, engines = make()
    session.set_box(0, BOX)
    job = session.propagation(0, extent=Extent.END)
    assert (job.kind, job.first, job.last, job.total) == ("propagate", 1, COUNT - 1, COUNT - 1)
    assert job.in_order and job.uses_engine
    assert session.run(job, runner) == COUNT - 1
    assert [x_of(session, i) for i in (1, 10, 29)] == [12.0, 30.0, 68.0]
    assert session.annotation.frame(5).provenance is Provenance.TRACKED
    session.stack.undo()  # the whole run is one step: only the drawn box is left
    assert session.annotation.frame(1).box is None and session.annotation.frame(0).box is not None


def test_propagation_stops_at_the_next_keyframe_and_refuses_what_it_cannot_do() -> None:
    session, runner, _ = make()
    with pytest.raises(AssistRefused, match="no box to track from"):
        session.propagation(0)
    session.set_box(0, BOX)
    session.set_box(10, BOX)
    job = session.propagation(0)  # up to (not into) the next keyframe
    assert (job.first, job.last) == (1, 9)
    session.run(job, runner)
    assert session.annotation.frame(10).provenance is Provenance.KEYFRAME
    assert x_of(session, 10) == BOX.x and x_of(session, 9) == BOX.x + 18
    session.set_box(11, BOX)
    with pytest.raises(AssistRefused, match="Nothing to propagate"):
        session.propagation(10)


def test_backward_propagation_runs_in_reverse() -> None:
    session, runner, engines = make()
    session.set_box(20, BOX)
    job = session.propagation(20, backwards=True, extent=Extent.COUNT, count=5)
    assert (job.first, job.last) == (15, 19) and not job.in_order
    session.run(job, runner)
    assert x_of(session, 15) == BOX.x - 10 and session.annotation.frame(14).box is None
    assert engines[-1].inits[0][0] == 20


def test_segment_fill_combines_both_runs_and_keeps_keyframes() -> None:
    session, runner, engines = make()
    session.set_box(0, BOX)
    session.set_box(10, BOX._replace(x=BOX.x + 20))  # where the forward run also arrives
    with pytest.raises(AssistRefused, match="keyframe on both sides"):
        session.segment_fill(15)
    job = session.segment_fill(5)
    assert (job.kind, job.first, job.last, job.total) == ("fill", 1, 9, 18)
    assert job.planned == tuple(range(1, 10))
    session.run(job, runner)
    starts = sorted(e.inits[0][0] for e in engines)
    assert starts == [0, 10]  # one run from each keyframe
    assert all(session.annotation.frame(i).provenance is Provenance.TRACKED for i in range(1, 10))
    assert session.annotation.frame(10).provenance is Provenance.KEYFRAME


def test_a_correction_refills_the_following_segment_only_as_far_as_the_work_went() -> None:
    session, runner, engines = make()
    session.set_box(0, BOX)
    session.run(session.propagation(0, extent=Extent.COUNT, count=15), runner)
    assert session.annotation.frame(16).box is None
    # a correction at frame 8: frames 9..15 are redone from it, nothing beyond 15 is tracked
    session.set_box(8, BOX._replace(x=100.0))
    job = session.refill(8)
    assert job is not None and (job.kind, job.first, job.last) == ("refill", 9, 15)
    session.run(job, runner)
    assert x_of(session, 9) == 102.0 and x_of(session, 15) == 114.0
    assert session.annotation.frame(16).box is None
    assert x_of(session, 7) == BOX.x + 14  # the frames before it are left alone


def test_a_new_keyframe_in_untracked_frames_is_not_a_correction() -> None:
    session, runner, _ = make()
    session.set_box(0, BOX)
    session.set_box(12, BOX)
    assert session.refill(0) is None and session.refill(12) is None


def test_review_corrections_refill_both_neighbouring_segments() -> None:
    session, runner, engines = make()
    session.set_box(0, BOX)
    session.run(session.propagation(0, extent=Extent.END), runner)
    session.set_box(12, BOX._replace(x=50.0))
    job = session.refill(12, preceding=True)
    assert job is not None and (job.first, job.last) == (1, COUNT - 1)
    session.run(job, runner)
    # the segment 1..11 is now a fill between frame 0 and frame 12: both runs started there
    starts = [e.inits[0][0] for e in engines[1:]]
    assert sorted(starts) == [0, 12, 12]
    assert session.annotation.frame(11).provenance is Provenance.TRACKED


def test_frames_a_stopped_run_did_not_reach_stay_owed_to_the_refill() -> None:
    session, runner, _ = make()
    session.set_box(0, BOX)
    job = session.propagation(0, extent=Extent.END)
    updates = job.updates(runner)
    record = session.begin_run(job)
    assert record.unfinished() == list(range(1, COUNT))
    with session.run_step(job):
        session.apply([next(updates) for _ in range(6)])  # frames 1..6 arrived
    assert session.running is not None and session.running.unfinished()[0] == 7
    session.end_run(job, "stopped", reached=6)
    assert session.running is None
    session.set_box(4, BOX._replace(x=70.0))
    refill = session.refill(4)
    assert refill is not None and (refill.first, refill.last) == (5, COUNT - 1)
    session.run(refill, runner)
    assert x_of(session, COUNT - 1) == 70.0 + 2 * (COUNT - 1 - 4)
    assert session.unfinished == []
    # cancelled (Esc) rather than stopped by an edit: nothing is owed
    session.begin_run(job)
    session.end_run(job, "cancelled", reached=6)
    assert session.unfinished == []


def test_verification_recombines_only_a_closed_segment() -> None:
    session, runner, _ = make()
    session.set_box(0, BOX)
    session.set_box(10, BOX._replace(x=BOX.x + 20))
    session.run(session.segment_fill(5), runner)
    session.verify([5])
    job = session.recombine(5)
    assert job is not None and (job.kind, job.first, job.last) == ("recombine", 1, 9)
    session.run(job, runner)
    assert session.annotation.frame(5).provenance is Provenance.VERIFIED
    session.run(session.propagation(10, extent=Extent.END), runner)
    session.verify([20])
    assert session.recombine(20) is None  # one keyframe, one run: nothing to recombine


def test_fill_all_fills_every_gap_after_keyframes_drawn_up_front() -> None:
    session, runner, engines = make()
    for index in (0, 10, 20):
        session.set_box(index, BOX._replace(x=BOX.x + 2 * index))
    job = session.fill_all()
    assert job is not None and (job.first, job.last) == (1, COUNT - 1)
    session.run(job, runner)
    assert all(session.annotation.frame(i).box is not None for i in range(COUNT))
    assert x_of(session, 25) == BOX.x + 50


def test_interpolation_fills_gaps_between_keyframes_and_refuses_open_ones() -> None:
    session, _, _ = make(INTERPOLATION)
    session.set_box(0, BOX)
    session.set_box(10, BOX._replace(x=BOX.x + 100))
    job = session.propagation(0, extent=Extent.END)  # interpolation fills the gaps it passes
    assert not job.uses_engine
    session.run(job, None)
    assert x_of(session, 5) == pytest.approx(BOX.x + 50)
    assert session.annotation.frame(5).provenance is Provenance.INTERPOLATED
    with pytest.raises(AssistRefused, match="both ends"):
        session.propagation(10, extent=Extent.END)
    assert session.recombine(5) is None


def test_apply_keeps_the_last_value_of_a_frame_and_its_diagnostics() -> None:
    session, runner, _ = make()
    session.set_box(0, BOX)
    session.set_box(10, BOX._replace(x=BOX.x + 20))
    job = session.segment_fill(5)
    updates = list(job.updates(runner))
    assert len(updates) > 9 and not updates[0].final  # provisional values come first
    with session.run_step(job):
        change = session.apply(updates)
    assert change is not None and change.frames == frozenset(range(1, 10))
    diagnostics = session.state.diagnostics(session.annotation)
    assert diagnostics.agreement[5] == pytest.approx(1.0)  # the combined values were recorded


def test_review_proposal_reads_fresh_flags() -> None:
    def lose_after_five(index: int, start: int, box: Box) -> Box:
        steps = min(index - start, 5) if index >= start else max(index - start, -5)
        return box._replace(x=box.x + 2.0 * steps)

    engines: list[ScriptedEngine] = []

    def engine() -> ScriptedEngine:
        engines.append(
            ScriptedEngine(script=lose_after_five, scores={i: 0.05 for i in range(8, 30)})
        )
        return engines[-1]

    session = AssistSession(VideoAnnotation("v", COUNT))
    runner = EngineRunner(engine, IndexFrames(COUNT))
    session.set_box(0, BOX)
    assert session.review_proposal() is None
    session.run(session.propagation(0, extent=Extent.END), runner)
    flag = session.review_proposal()
    assert flag is not None and flag.index >= 8
    assert session.queue.get(flag.index) is not None
