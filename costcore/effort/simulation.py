"""Annotation effort with a simulated annotator: how much work each workflow leaves a person.

The annotator knows the ground truth; the tool never sees it except through the annotator's
actions (the boxes drawn, the frames verified). Costs: drawing a box (a keyframe, or marking a
frame absent) 1, checking a proposed frame that turns out fine (verify) 0.25; the box every
workflow starts with (the ground truth of frame 1) is not counted. Every workflow ends with one
playback of the video in
which the annotator corrects every frame still below ``tau`` (IoU with the ground truth), in
order, the tool refilling after each correction. What differs is what the tool does before:

- ``interpolation``: linear interpolation between keyframes; after the last keyframe its box
  is held (what interpolating annotation tools do). No proposals.
- ``tracking``: forward tracking from each keyframe to the end, restarted at each correction.
  No proposals.
- ``assisted``: the tool's own workflow, driven through the app's own
  :class:`~costcore.annotator.AssistSession`: track forward, then its review
  queue proposes one flagged frame per round (``ReviewQueue.proposal``: the frame's flags as
  the app shows them, proposed when ``FlagRules.review_reasons`` make them severe enough; a run
  ending in the open with trouble in it asks for its last frame first); the annotator draws
  it (keyframe, cost 1) or verifies it (0.25, a checkpoint for the combination) and the tool
  refills the segments on both sides (segment fill: forward + backward runs, combined). When
  nothing is proposed any more (or ``max_reviews``
  / ``patience`` is reached), playback.
- ``calibrated``: ``assisted`` with the review queue calibrated on the annotator's answers
  (``AssistSession.calibrated_review``, :mod:`costcore.assist.calibration`): a flag is
  proposed only while the proposals of its reason have found a wrong box at least as often
  as not on this video.
- ``every-N`` (not in the default set): the annotator draws every N-th frame up front, then
  the tool fills each gap with the segment fill, then playback. Not a workflow to use (the
  keyframes land where they land, not where tracking fails) but a measure of how far apart
  keyframes can be for the segment fill to hold, against the tracking anchor's draws.

During playback a correction refills only the frames after it (the annotator has seen the
ones before), exactly as the app re-propagates after a correction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from costcore.annotation import FrameAnnotation, Provenance, SetFrames, VideoAnnotation
from costcore.annotator.assist_session import AssistJob, AssistSession
from costcore.assist.combine import CombineRules
from costcore.assist.flags import FlagRules
from costcore.assist.jobs import INTERPOLATION, EngineRunner
from costcore.assist.plan import Extent
from costcore.assist.updates import FrameUpdate
from costcore.boxes import Box, iou

WORKFLOWS = ("interpolation", "tracking", "assisted", "calibrated")
#: the workflows with a review phase (the tool proposes frames to check before playback)
REVIEW_WORKFLOWS = ("assisted", "calibrated")
SPACED_PREFIX = "every-"


def keyframe_spacing(workflow: str) -> int | None:
    """N of an ``every-N`` workflow; None for the others (ValueError: not a workflow)."""
    if workflow in WORKFLOWS:
        return None
    if workflow.startswith(SPACED_PREFIX) and workflow[len(SPACED_PREFIX) :].isdigit():
        spacing = int(workflow[len(SPACED_PREFIX) :])
        if spacing >= 2:
            return spacing
    raise ValueError(
        f"unknown workflow {workflow!r}; choose from {', '.join(WORKFLOWS)} or every-N (N >= 2)"
    )


@dataclass(frozen=True)
class EffortCosts:
    draw: float = 1.0
    verify: float = 0.25


@dataclass
class EffortResult:
    """What one workflow cost on one sequence at one ``tau``.

    The effort is the corrections after frame 1 (each a box drawn or a frame marked absent)
    plus a quarter for each verification. Frame 1's box is drawn in every workflow, so it is
    not counted: where a tracker needs nothing more, the effort is 0, not 1, and ratios
    between workflows are not pulled towards 1 by a box they all pay for.
    """

    workflow: str
    sequence: str
    tau: float
    frames: int
    draws: int = 0  # boxes drawn (and frames marked absent), frame 1's included
    verifies: int = 0
    reviews: int = 0  # proposals checked (draws during review + verifies)
    engine_frames: int = 0
    seconds: float = 0.0
    complete: bool = False  # every frame acceptable at the end
    costs: EffortCosts = field(default_factory=EffortCosts)
    engine: str = ""  # which engine the workflow used ("" for interpolation)

    @property
    def corrections(self) -> int:
        """Boxes drawn after the mandatory first one."""
        return max(self.draws - 1, 0)

    @property
    def cost(self) -> float:
        return self.corrections * self.costs.draw + self.verifies * self.costs.verify

    @property
    def per_100(self) -> float:
        return 100.0 * self.cost / self.frames


class SimulatedAnnotator:
    """Knows the ground truth; judges frames and draws boxes, counting the cost."""

    def __init__(self, boxes: np.ndarray, absent: np.ndarray, tau: float) -> None:
        self.boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.absent = np.asarray(absent, dtype=bool).reshape(-1)
        self.tau = float(tau)
        self.draws = 0
        self.verifies = 0

    def acceptable(self, frame: FrameAnnotation, index: int) -> bool:
        if self.absent[index]:
            return frame.absent
        if frame.box is None:
            return False
        value = iou(np.array([tuple(frame.box)]), self.boxes[index : index + 1])[0]
        return bool(value >= self.tau)

    def correct(self, session: AssistSession, index: int) -> None:
        """Draw the true box (or mark the frame absent): a keyframe."""
        self.draws += 1
        if self.absent[index]:
            session.set_absent([index], True)
        else:
            session.set_box(index, Box(*self.boxes[index]))

    def verify(self, session: AssistSession, index: int) -> None:
        self.verifies += 1
        session.verify([index])


class _StreamingRun:
    """A job whose updates reach the annotation as playback reaches their frames.

    In the app a run streams in while the annotator watches; they never wait for frames
    behind them, and a correction stops the run (the refill after it starts a new one). Only
    for jobs whose updates come in frame order (:attr:`AssistJob.in_order`).
    """

    def __init__(self, session: AssistSession) -> None:
        self.session = session
        self._job: AssistJob | None = None
        self._updates: Iterator[FrameUpdate] | None = None
        self._next: FrameUpdate | None = None
        self._reached: int | None = None

    def start(self, job: AssistJob, runner: EngineRunner | None) -> None:
        self._job, self._updates, self._next = job, job.updates(runner), None
        self._reached = None
        self.session.begin_run(job)

    def stop(self) -> None:
        """A person's edit stops the run (what it did not reach yet stays owed)."""
        if self._job is not None:
            self.session.end_run(self._job, "stopped", reached=self._reached)
        self._job, self._updates, self._next = None, None, None

    def _finished(self) -> None:
        if self._job is not None:
            self.session.end_run(self._job, "done")
        self._job, self._updates, self._next = None, None, None

    def materialise(self, index: int) -> None:
        """Apply every update up to frame ``index``."""
        batch: list[FrameUpdate] = []
        while self._updates is not None:
            update = self._next if self._next is not None else next(self._updates, None)
            if update is None:
                self._finished()
                break
            if update.index > index:
                self._next = update
                break
            self._next = None
            batch.append(update)
            self._reached = update.index
        self.session.apply(batch)


def hold_after(session: AssistSession, index: int) -> None:
    """The interpolation anchor's fill after a keyframe: hold its box up to the next one
    (what interpolating annotation tools do past the last keyframe)."""
    annotation = session.annotation
    box = annotation.frame(index).box
    if box is None:
        return
    end = annotation.next_keyframe(index)
    end = annotation.frame_count if end is None else end
    value = FrameAnnotation(box, provenance=Provenance.INTERPOLATED, engine="interpolation")
    session.push(SetFrames([(i, value) for i in range(index + 1, end)]))


def _run(session: AssistSession, job: AssistJob | None, runner: EngineRunner | None) -> None:
    if job is not None:
        session.run(job, runner)


def simulate(
    workflow: str,
    name: str,
    boxes: np.ndarray,
    absent: np.ndarray,
    tau: float,
    runner: EngineRunner | None,
    *,
    flag_rules: FlagRules | None = None,
    combine_rules: CombineRules | None = None,
    max_reviews: int | None = None,
    patience: int | None = None,
    costs: EffortCosts | None = None,
    progress: Callable[[str], None] | None = None,
    log: Callable[[str], None] | None = None,
    engine_name: str = "",
) -> EffortResult:
    """Run one workflow on one sequence (``runner`` may be shared: its cache is reused).

    The tool side is the app's own :class:`~costcore.annotator.AssistSession`: the same
    decisions (propagate, fill, refill after a correction, recombine after a verification,
    the review proposal) the annotator gets in the app.
    """
    spacing = keyframe_spacing(workflow)
    started = time.perf_counter()
    frames_before = 0 if runner is None else runner.frames_tracked
    count = len(boxes)
    annotator = SimulatedAnnotator(boxes, absent, tau)
    interpolating = workflow == "interpolation"
    session = AssistSession(
        VideoAnnotation(name, count),
        method=INTERPOLATION if interpolating else (engine_name or "engine"),
        flag_rules=flag_rules or FlagRules(),
        combine_rules=combine_rules or CombineRules(),
        undo_limit=10,
        calibrated_review=workflow == "calibrated",
    )
    engine = None if interpolating else runner
    streaming = _StreamingRun(session)
    result = EffortResult(
        workflow, name, tau, count, costs=costs or EffortCosts(), engine=engine_name
    )

    # frame 1: the annotator draws the true box, then starts the tool
    annotator.correct(session, 0)
    if interpolating:
        hold_after(session, 0)
    elif spacing is not None:
        for index in range(spacing, count, spacing):
            annotator.correct(session, index)
        _run(session, session.fill_all(), engine)
    elif count > 1:
        track = session.propagation(0, extent=Extent.END)  # T: track forward to the end
        if workflow in REVIEW_WORKFLOWS:
            session.run(track, engine)
        else:
            streaming.start(track, engine)

    if workflow in REVIEW_WORKFLOWS:
        limit = max_reviews if max_reviews is not None else count
        idle = 0  # proposals in a row that needed no correction
        while result.reviews < limit and (patience is None or idle < patience):
            flag = session.review_proposal()
            if flag is None:
                break
            result.reviews += 1
            index = flag.index
            ok = annotator.acceptable(session.annotation.frame(index), index)
            if log is not None:
                verdict = "ok" if ok else "DRAW"
                log(f"review {index} sev {flag.severity:.2f} {flag.describe()} -> {verdict}")
            if ok:
                idle += 1
                annotator.verify(session, index)
                _run(session, session.recombine(index), engine)
            else:
                idle = 0
                annotator.correct(session, index)
                _run(session, session.refill(index, preceding=True), engine)
            if progress is not None and result.reviews % 10 == 0:
                progress(f"{name} tau={tau}: {result.reviews} reviews")

    # playback: the annotator corrects every frame below tau, in order
    for index in range(count):
        streaming.materialise(index)
        if annotator.acceptable(session.annotation.frame(index), index):
            continue
        if log is not None:
            log(f"playback correct {index} ({session.annotation.frame(index).engine})")
        streaming.stop()  # an edit stops the running job
        annotator.correct(session, index)
        if interpolating:
            hold_after(session, index)
            continue
        refill = session.refill(index)
        if refill is not None and refill.in_order:
            streaming.start(refill, engine)
        else:
            _run(session, refill, engine)
    result.complete = all(
        annotator.acceptable(session.annotation.frame(i), i) for i in range(count)
    )
    result.draws, result.verifies = annotator.draws, annotator.verifies
    result.engine_frames = 0 if runner is None else runner.frames_tracked - frames_before
    result.seconds = time.perf_counter() - started
    return result
