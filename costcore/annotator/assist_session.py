"""One video's assisted annotation: the annotation, its undo stack, what the tools know about it,
and every decision about automatic work.

The app and the effort benchmark (``bench effort``) both drive this class, so the workflow a
benchmark measures is the workflow an annotator gets. It decides *what* to run (a propagation,
a segment fill, the refill after a correction, the recombination after a verification) and
applies what a run produced; it never runs anything itself on a thread: a decision is an
:class:`AssistJob`, whose updates the caller streams (the app in a worker, the benchmark and
the tests synchronously through :meth:`AssistSession.run`).

Rules it keeps (DESIGN.md section 2): automatic work never overwrites a keyframe or a verified
frame (``SetFrames`` skips them); a correction re-runs the automatic work around it; a run is
one undo step, also when it is stopped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from costcore.annotation import (
    Change,
    ClearFrames,
    MarkVerified,
    Provenance,
    SetAbsent,
    SetBox,
    SetFrames,
    UndoStack,
    VideoAnnotation,
)
from costcore.assist.calibration import ReviewCalibration
from costcore.assist.combine import CombineRules
from costcore.assist.flags import Flag, FlagRules, flag_frames
from costcore.assist.interrupted import RunRecord, stale_frames
from costcore.assist.jobs import (
    INTERPOLATION,
    EngineRunner,
    keyframe_anchors,
    propagate,
    segment_job,
    segment_steps,
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
from costcore.assist.review import ReviewQueue
from costcore.assist.series import TimelineSeries, timeline_series
from costcore.assist.state import AssistState
from costcore.assist.updates import Anchor, FrameUpdate
from costcore.boxes import Box
from costcore.errors import CostcoreError

CancelCheck = Callable[[], bool]
JobBody = Callable[[EngineRunner | None, CancelCheck | None], Iterator[FrameUpdate]]


class AssistRefused(CostcoreError):
    """A job cannot start as asked; the message says why and what to do instead."""


@dataclass(frozen=True)
class AssistJob:
    """A decided piece of automatic work, not yet run.

    ``kind`` is ``propagate``, ``fill``, ``refill`` or ``recombine``; ``text`` names it for
    the undo history and the status bar; ``total`` is how many frames of work it does (engine
    steps or interpolated frames: the progress bar's length); ``first``..``last`` bound the
    frames it may write and ``planned`` lists them. ``uses_engine`` is False for linear
    interpolation (no runner needed). ``resume`` rebuilds the job from a frame onwards (a
    propagation stopped by a language edit starts again from where it was).
    """

    kind: str
    text: str
    total: int
    first: int
    last: int
    uses_engine: bool
    body: JobBody
    resume: Callable[[int], AssistJob | None] | None = None
    #: its updates come one per frame, in frame order, each final (a single forward run), so
    #: a consumer may apply them as far as it needs (the effort simulation's playback)
    in_order: bool = False
    planned: tuple[int, ...] = ()

    def updates(
        self, runner: EngineRunner | None, cancelled: CancelCheck | None = None
    ) -> Iterator[FrameUpdate]:
        """The job's frame updates (``runner`` may be None when ``uses_engine`` is False)."""
        if self.uses_engine and runner is None:
            raise ValueError(f"{self.text}: needs an engine runner")
        return self.body(runner, cancelled)


class AssistSession:
    """The annotation of one video with its undo stack, diagnostics, flags and job decisions.

    ``method`` is the engine the annotator picked (a registry name) or ``"interpolation"``;
    it decides how gaps are filled and goes into the jobs' texts.
    """

    def __init__(
        self,
        annotation: VideoAnnotation,
        *,
        method: str = "csrt",
        state: AssistState | None = None,
        flag_rules: FlagRules | None = None,
        combine_rules: CombineRules | None = None,
        undo_limit: int = 1000,
        calibrated_review: bool = False,
    ) -> None:
        self.annotation = annotation
        self.stack = UndoStack(annotation, limit=undo_limit)
        self.state = state or AssistState(annotation.frame_count)
        self.method = method
        self.flag_rules = flag_rules or FlagRules()
        self.combine_rules = combine_rules or CombineRules()
        self.flags: list[Flag] = []
        self.queue = ReviewQueue([])
        #: the timeline plots' series as of the last :meth:`update_flags`
        self.series: TimelineSeries | None = None
        #: frame ranges of runs a person's edit stopped before they got there: the refill
        #: after that edit still owes them (the annotator asked for them to be tracked)
        self.unfinished: list[tuple[int, int]] = []
        #: the run in progress: what it plans to write and what it has finished
        self.running: RunRecord | None = None
        #: propose a check only where the annotator's answers so far say it pays
        #: (:mod:`costcore.assist.calibration`); the answers are counted either way
        self.calibrated_review = bool(calibrated_review)
        self.calibration = ReviewCalibration()

    @property
    def interpolating(self) -> bool:
        return self.method == INTERPOLATION

    # ============================================================ a person's edits
    def push(self, command: object) -> Change:
        """Apply an edit command through the undo stack (errors propagate to the caller)."""
        return self.stack.push(command)  # type: ignore[arg-type]

    def set_box(
        self, index: int, box: Iterable[float], *, text: str = "", merge: str | None = None
    ):
        """A person drew or corrected the box of ``index``: it becomes a keyframe."""
        return self.push(
            SetBox(index, tuple(box), Provenance.KEYFRAME, merge_key=merge, text=text or None)
        )

    def set_absent(self, indices: Iterable[int], absent: bool = True, *, text: str = "") -> Change:
        return self.push(SetAbsent(list(indices), absent, text=text or None))

    def verify(self, indices: Iterable[int], *, text: str = "") -> Change:
        return self.push(MarkVerified(list(indices), text=text or None))

    def clear(self, indices: Iterable[int], *, text: str = "") -> Change:
        return self.push(ClearFrames(list(indices), text=text or None))

    # ============================================================ decisions
    def propagation(
        self,
        start: int,
        *,
        backwards: bool = False,
        extent: Extent | str = Extent.NEXT_KEYFRAME,
        count: int | None = None,
        stop_at_flag: bool = False,
    ) -> AssistJob:
        """Track from frame ``start`` (its box) forward or backward (T / Shift+T).

        With interpolation, the keyframe gaps the range overlaps are filled instead.
        """
        annotation = self.annotation
        start_frame = annotation.frame(start)
        if start_frame.box is None:
            raise AssistRefused(f"Frame {start + 1} has no box to track from: draw one first.")
        plan = plan_propagation(annotation, start, backwards=backwards, extent=extent, count=count)
        if not len(plan):
            raise AssistRefused(
                "Nothing to propagate: the next frame is already a keyframe or the end."
            )
        direction = "backward" if backwards else "forward"
        if self.interpolating:
            first, last = sorted((plan.frames[0], plan.frames[-1]))
            # the gaps with a keyframe at both ends; an open end has nothing to interpolate to
            segments = [
                s
                for s in segments_in(annotation, first, last)
                if s.left is not None and s.right is not None
            ]
            if not segments:
                raise AssistRefused("Interpolation needs a keyframe at both ends of the gap.")
            return self._segments_job(
                segments, "propagate", f"Fill {direction} from frame {start + 1} ({self.method})"
            )
        anchors = keyframe_anchors(annotation, plan)
        box = Box(*start_frame.box)
        rules = self.flag_rules

        def body(runner: EngineRunner | None, cancelled: CancelCheck | None):
            assert runner is not None
            return propagate(
                runner, plan, box, anchors, rules=rules, stop_at_flag=stop_at_flag,
                cancelled=cancelled,
            )  # fmt: skip

        def resume(frame: int) -> AssistJob | None:
            remaining = abs(plan.stop - frame) - 1
            if remaining <= 0 or self.annotation.frame(frame).box is None:
                return None
            again = Extent.COUNT if Extent(extent) is Extent.COUNT else extent
            return self.propagation(
                frame, backwards=backwards, extent=again, count=remaining,
                stop_at_flag=stop_at_flag,
            )  # fmt: skip

        first, last = sorted((plan.frames[0], plan.frames[-1]))
        return AssistJob(
            "propagate",
            f"Track {direction} from frame {start + 1} ({self.method})",
            len(plan),
            first,
            last,
            True,
            body,
            resume,
            in_order=not backwards,
            planned=tuple(plan.frames),
        )

    def segment_fill(self, index: int) -> AssistJob:
        """Fill the keyframe gap holding frame ``index`` from both ends (B)."""
        segment = segment_at(self.annotation, index)
        if segment.left is None or segment.right is None:
            raise AssistRefused(
                "Segment fill needs a keyframe on both sides of this frame "
                "(use Track forward / backward towards the video's ends)."
            )
        if not len(segment):
            raise AssistRefused("The keyframes are adjacent: nothing to fill.")
        text = f"Fill frames {segment.first + 1}–{segment.last + 1} ({self.method})"
        return self._segments_job([segment], "fill", text)

    def refill(self, index: int, *, preceding: bool = False) -> AssistJob | None:
        """The work to redo after a person corrected frame ``index`` (None: nothing to redo).

        Always the following segment (up to the next keyframe); with ``preceding`` also the
        one before (when the correction was made while reviewing, the frames before it have
        not been looked at either). Only segments that hold automatic work are redone, and an
        open-ended one only as far as that work went: a new keyframe in untracked frames is
        not a correction, and a correction does not start tracking a long video nobody asked
        to track yet.
        """
        annotation = self.annotation
        if annotation.frame(index).box is None and not annotation.frame(index).absent:
            return None
        segments = [
            self._owed(s)
            for s in refill_segments(annotation, index, following=True, preceding=preceding)
            if has_automatic(annotation, s) or self._owes(s)
        ]
        segments = [s for s in segments if len(s)]
        if self.interpolating:
            segments = [s for s in segments if s.left is not None and s.right is not None]
        if not segments:
            return None
        text = f"Re-propagate around frame {index + 1} ({self.method})"
        if not preceding:
            text = f"Re-propagate after frame {index + 1} ({self.method})"
        return self._segments_job(segments, "refill", text)

    def fill_all(self) -> AssistJob | None:
        """Fill every gap between keyframes (after drawing keyframes up front, e.g. every N
        frames); with interpolation only the gaps that have a keyframe at both ends."""
        segments = all_segments(self.annotation)
        if self.interpolating:
            segments = [s for s in segments if s.left is not None and s.right is not None]
        segments = [s for s in segments if s.left is not None or s.right is not None]
        if not segments:
            return None
        return self._segments_job(segments, "fill", f"Fill every gap ({self.method})")

    def recombine(self, index: int) -> AssistJob | None:
        """After a person verified frame ``index``: combine its segment's runs again with the
        verified box as a checkpoint (None where that changes nothing: no engine, or a
        segment with a keyframe on one side only, which has a single run)."""
        if self.interpolating:
            return None
        segment = segment_at(self.annotation, index)
        if segment.left is None or segment.right is None or not len(segment):
            return None
        text = f"Recombine frames {segment.first + 1}–{segment.last + 1} ({self.method})"
        return self._segments_job([segment], "recombine", text)

    def _owes(self, segment: Segment) -> bool:
        return any(
            first <= segment.last and last >= segment.first for first, last in self.unfinished
        )

    def _owed(self, segment: Segment) -> Segment:
        """``segment`` cut after its last automatic frame, or the last frame a stopped run
        still owes, whichever is later (an open-ended segment; closed ones as they are)."""
        cut = trimmed(self.annotation, segment)
        if segment.right is not None:
            return cut
        owed = [min(last, segment.last) for first, last in self.unfinished if last >= segment.first]
        end = max([cut.frame_count, *(o + 1 for o in owed)])
        return Segment(segment.left, None, end)

    # ============================================================ runs starting and ending
    def begin_run(self, job: AssistJob) -> RunRecord:
        """``job`` starts running: remember what it plans to write (:attr:`running`), so a
        crash before it ends leaves a trace in the saved session."""
        self.running = RunRecord(job.text, frozenset(job.planned))
        return self.running

    def end_run(self, job: AssistJob, outcome: str, reached: int | None = None) -> None:
        """``job`` ended: ``done``, ``cancelled`` (Esc), ``failed``, or ``stopped`` by a
        person's edit. Stopped by an edit, the frames it did not reach stay owed (the refill
        after the edit covers them; ``reached``: the last frame an in-order run wrote); done,
        nothing in its range is owed any more."""
        self.running = None
        if outcome == "done":
            kept: list[tuple[int, int]] = []
            for first, last in self.unfinished:
                if first < job.first:
                    kept.append((first, min(last, job.first - 1)))
                if last > job.last:
                    kept.append((max(first, job.last + 1), last))
            self.unfinished = kept
        elif outcome == "stopped" and job.uses_engine:
            first = job.first
            if job.in_order and reached is not None:
                first = max(first, reached + 1)
            if first <= job.last:
                self.unfinished.append((first, job.last))

    def mark_interrupted(self, record: RunRecord) -> list[int]:
        """A run record found in a reopened session: the app died during that run. The
        automatic frames it planned but did not finish hold older boxes: they are marked
        stale (flagged) and returned."""
        stale = stale_frames(self.annotation, record)
        if stale:
            self.state.mark_stale(stale, self.annotation)
        return stale

    def _segments_job(self, segments: list[Segment], kind: str, text: str) -> AssistJob:
        interpolating = self.interpolating
        if interpolating and any(s.left is None or s.right is None for s in segments):
            raise AssistRefused("Interpolation needs a keyframe at both ends of the gap.")
        if not segments:
            raise AssistRefused("Nothing to fill here.")
        # anchors and checkpoints are read now, on the caller's thread: the job may run on
        # another one while the annotation changes
        snapshot = self.annotation.copy()
        rules = self.combine_rules

        def body(runner: EngineRunner | None, cancelled: CancelCheck | None):
            for segment in segments:
                yield from segment_job(
                    None if interpolating else runner, snapshot, segment, rules=rules,
                    cancelled=cancelled,
                )  # fmt: skip

        total = sum(segment_steps(snapshot, s, interpolating) for s in segments)
        first = min(s.first for s in segments)
        last = max(s.last for s in segments)
        forward_only = not interpolating and all(
            s.right is None and Anchor.of(snapshot, s.left) is not None for s in segments
        )
        ordered = forward_only and all(
            a.last < b.first for a, b in zip(segments, segments[1:], strict=False)
        )
        planned = tuple(i for s in segments for i in s.frames)
        return AssistJob(
            kind, text, total, first, last, not interpolating, body,
            in_order=ordered, planned=planned,
        )  # fmt: skip

    # ============================================================ applying results
    def apply(self, updates: Sequence[FrameUpdate], text: str | None = None) -> Change | None:
        """Write a batch of a job's updates (the last one of each frame wins) and remember
        their diagnostics. Keyframes and verified frames are left as they are."""
        latest: dict[int, FrameUpdate] = {}
        for update in updates:
            latest[update.index] = update
        if not latest:
            return None
        values = list(latest.values())
        if self.running is not None:
            self.running = self.running.finish(u.index for u in values if u.final)
        change = self.push(SetFrames([(u.index, u.annotation()) for u in values], text=text))
        self.state.record_all(values)
        return change

    @contextlib.contextmanager
    def run_step(self, job: AssistJob) -> Iterator[None]:
        """Everything applied inside is one undo step named after ``job``."""
        with self.stack.macro(job.text):
            yield

    def run(
        self,
        job: AssistJob,
        runner: EngineRunner | None,
        cancelled: CancelCheck | None = None,
    ) -> int:
        """Run ``job`` here and now and apply it as one undo step; the number of updates."""
        self.begin_run(job)
        try:
            updates = list(job.updates(runner, cancelled))
            with self.run_step(job):
                self.apply(updates, job.text)
        except BaseException:
            self.end_run(job, "failed")
            raise
        self.end_run(job, "done")
        return len(updates)

    # ============================================================ what deserves a look
    def update_flags(self) -> None:
        """Recompute the flags, the review queue and the plots' series from the diagnostics."""
        diagnostics = self.state.diagnostics(self.annotation)
        self.flags = flag_frames(self.annotation, diagnostics, self.flag_rules)
        self.queue = ReviewQueue(self.flags)
        self.series = timeline_series(self.annotation, diagnostics)

    def review_proposal(self, exclude: Iterable[int] = ()) -> Flag | None:
        """The frame the review workflow asks a person to check next (fresh flags).

        The answer to the previous proposal (corrected or verified since) is counted first;
        with :attr:`calibrated_review`, flags whose reason has stopped finding failures are
        passed over (:class:`~costcore.assist.calibration.ReviewCalibration`).
        """
        self.calibration.settle(self.annotation)
        self.update_flags()
        flag = self.queue.proposal(self.flag_rules, exclude, self._review_worth())
        if flag is not None:
            self.calibration.proposed(flag, self.method, self.flag_rules.review_reasons)
        return flag

    def proposable_frames(self) -> frozenset[int]:
        """The flagged frames the review workflow may still propose (see
        :meth:`ReviewQueue.proposable`): with :attr:`calibrated_review`, by the answers
        counted so far (the one pending is counted at the next proposal)."""
        return self.queue.proposable(self.flag_rules, self._review_worth())

    def _review_worth(self) -> Callable[[Flag], bool] | None:
        """The calibrated queue's test of a flag (None: every severe flag is worth a check)."""
        if not self.calibrated_review:
            return None
        calibration, method = self.calibration, self.method
        reasons = self.flag_rules.review_reasons
        return lambda flag: calibration.worth(flag, method, reasons)


def segments_in(annotation: VideoAnnotation, first: int, last: int) -> list[Segment]:
    """The keyframe gaps overlapping frames ``first..last`` (interpolation's propagation)."""
    out: list[Segment] = []
    index = first
    while index <= last:
        segment = segment_at(annotation, index)
        if len(segment) and segment not in out:
            out.append(segment)
        index = segment.last + 1 if len(segment) else index + 1
        if segment.right is not None and index == segment.right:
            index += 1
    return out
