"""The assisted-annotation jobs: propagation, segment fill and interpolation, Qt-free.

Each job is a generator of :class:`~costcore.assist.updates.FrameUpdate`; the app runs it in a
worker thread and streams the updates into the annotation, the effort simulation runs the very
same generators synchronously. Jobs read frames and a snapshot of the anchors they need,
never the live annotation, so they are safe off the UI thread.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from costcore.annotation import Provenance, VideoAnnotation
from costcore.assist.appearance import AppearanceProbe
from costcore.assist.combine import CombineRules, combine_runs, combined_updates
from costcore.assist.flags import DriftWatch, FlagRules, step_reasons
from costcore.assist.plan import PropagationPlan, Segment
from costcore.assist.runstore import RunStore, StoredRun
from costcore.assist.updates import Anchor, FrameUpdate, RunStep
from costcore.attributes.speed import relative_speed
from costcore.boxes import Box
from costcore.engines.base import TrackerEngine
from costcore.engines.errors import EngineError
from costcore.engines.frame_loop import FrameReader, track_frames
from costcore.engines.interpolation import interpolate_segment
from costcore.errors import Cancelled
from costcore.video.ahead import FramesAhead
from costcore.video.reverse import ReverseFrames

#: the engine-picker name of plain linear interpolation (not a stepping engine)
INTERPOLATION = "interpolation"

EngineFactory = Callable[[], TrackerEngine]
CancelCheck = Callable[[], bool]


class EngineRunner:
    """Runs a fresh engine from an anchor, frame by frame (what every job calls).

    This is where engine boxes become annotation values, so it clips them to the frame
    (:func:`visible_box`); the engines themselves report their trackers' boxes unclipped.
    """

    #: backward runs read through a ReverseFrames (decoding ahead holds up to its budget of
    #: frames for as long as the run is alive)
    reads_backward_ahead = True
    #: forward runs read through a FramesAhead: the next frames decode on another core while
    #: the engine steps
    reads_forward_ahead = True

    def __init__(self, make_engine: EngineFactory, frames: FrameReader, text: str = "") -> None:
        self.make_engine = make_engine
        self.frames = frames
        self.text = text
        self.frames_tracked = 0  # engine steps taken, for benchmarks

    def run(
        self,
        anchor: Anchor,
        stop: int,
        backwards: bool = False,
        cancelled: CancelCheck | None = None,
    ) -> Iterator[FrameUpdate]:
        """Updates for the frames after ``anchor`` up to ``stop`` (exclusive).

        Going backwards, frames come through a :class:`~costcore.video.reverse.ReverseFrames`:
        decoded forward in chunks ahead of the run, not one seek per frame; going forwards,
        through a :class:`~costcore.video.ahead.FramesAhead`, decoded while the engine steps.
        """
        engine = self.make_engine()
        frames: ReverseFrames | FramesAhead | None = None
        if backwards and self.reads_backward_ahead:
            frames = ReverseFrames(self.frames)
        elif not backwards and self.reads_forward_ahead:
            frames = FramesAhead(self.frames, stop=stop)
        try:
            yield from self._steps(engine, anchor, stop, backwards, cancelled, frames)
        finally:
            if frames is not None:
                frames.close()

    def _steps(
        self,
        engine: TrackerEngine,
        anchor: Anchor,
        stop: int,
        backwards: bool,
        cancelled: CancelCheck | None,
        reader: ReverseFrames | FramesAhead | None,
    ) -> Iterator[FrameUpdate]:
        probe: AppearanceProbe | None = None
        steps = track_frames(
            engine,
            self.frames if reader is None else reader,
            anchor.box,
            self.text,
            start=anchor.index,
            stop=stop,
            backwards=backwards,
            cancelled=cancelled,
        )
        for step in steps:
            if step.initial:
                if step.frame is not None:
                    probe = AppearanceProbe(step.frame, anchor.box)
                continue
            self.frames_tracked += 1
            result = step.result
            appearance = None
            if probe is not None and step.frame is not None:
                appearance = probe.similarity(step.frame, Box(*result.box))
            yield FrameUpdate(
                step.index,
                visible_box(Box(*result.box), step.frame),
                result.engine,
                score=result.score,
                lost=result.lost,
                source="backward" if backwards else "forward",
                score_map=result.score_map,
                search_region=result.search_region,
                seconds=step.seconds,
                appearance=appearance,
            )


def visible_box(box: Box, frame: np.ndarray | None) -> Box:
    """The part of an engine's box inside ``frame``: what the annotation shows and exports.

    Engines report boxes as their authors' trackers do, and TransT's extend past the border
    when the target is at it; the annotation holds only what is in the image. A box with
    nothing inside the image is kept as it is (the export checks flag it).
    """
    if frame is None:
        return box
    height, width = frame.shape[:2]
    inside = box.clipped(width, height)
    return inside if inside.w > 0 and inside.h > 0 else box


@dataclass
class _CachedRun:
    updates: list[FrameUpdate] = field(default_factory=list)
    source: Iterator[FrameUpdate] | None = None
    done: bool = False
    saved: int = 0  # steps already in the run store


class CachedRunner(EngineRunner):
    """An :class:`EngineRunner` that remembers runs (same anchor, direction -> same frames).

    Engines are deterministic given the start frame and box, so a run that is asked for again,
    or for fewer or more frames, reuses what was computed and only extends it. For the effort
    simulation, where refills ask for the same runs over and over; the app does not need it.
    With a :class:`~costcore.assist.runstore.RunStore` the runs also outlive the process
    (:meth:`persist` writes what grew).
    """

    #: cached runs stay suspended half-way for the whole simulation: frames decoded ahead
    #: would stay held by each of them (the simulation reads image folders, which go
    #: backwards cheaply anyway)
    reads_backward_ahead = False

    def __init__(
        self,
        make_engine: EngineFactory,
        frames: FrameReader,
        text: str = "",
        store: RunStore | None = None,
    ) -> None:
        super().__init__(make_engine, frames, text)
        self.store = store
        self.store_errors: list[str] = []  # runs persist() could not write
        self._runs: dict[tuple[int, tuple[float, ...], bool], _CachedRun] = {}

    def _start(self, anchor: Anchor, backwards: bool) -> _CachedRun:
        """A new cached run: from the store when it has it, else a live engine run."""
        end = -1 if backwards else self.frames.frame_count
        stored = None if self.store is None else self.store.load(anchor, backwards)
        if stored is None:
            return _CachedRun(source=super().run(anchor, end, backwards))
        cached = _CachedRun(list(stored.updates), done=stored.complete, saved=len(stored.updates))
        if not stored.complete:  # a longer run is wanted later: track again, skip the known part
            live = super().run(anchor, end, backwards)
            cached.source = itertools.islice(live, len(stored.updates), None)
        return cached

    def persist(self) -> int:
        """Write every run that grew since it was loaded or last written; how many.

        A run that cannot be written (disk full, folder gone) is only a cache miss next time:
        the reason lands in :attr:`store_errors` and the caller's work goes on.
        """
        if self.store is None:
            return 0
        written = 0
        for (index, box, backwards), cached in self._runs.items():
            if len(cached.updates) > cached.saved:
                run = StoredRun(list(cached.updates), cached.done)
                anchor = Anchor(index, Box(*box))
                try:
                    self.store.save(anchor, backwards, run)
                except OSError as error:
                    path = self.store.path(anchor, backwards)
                    self.store_errors.append(f"{path}: {error.strerror or error}")
                    continue
                cached.saved = len(cached.updates)
                written += 1
        return written

    def run(
        self,
        anchor: Anchor,
        stop: int,
        backwards: bool = False,
        cancelled: CancelCheck | None = None,
    ) -> Iterator[FrameUpdate]:
        key = (anchor.index, tuple(anchor.box), backwards)
        cached = self._runs.get(key)
        if cached is None:
            cached = self._runs[key] = self._start(anchor, backwards)
        step = -1 if backwards else 1
        wanted = range(anchor.index + step, stop, step)
        # frames up to the video's start / end: a run that has them all is complete
        whole = anchor.index if backwards else self.frames.frame_count - 1 - anchor.index
        for position, _index in enumerate(wanted):
            if cancelled is not None and cancelled():
                raise Cancelled("tracking stopped")
            while position >= len(cached.updates) and not cached.done:
                assert cached.source is not None
                try:
                    cached.updates.append(next(cached.source))
                except StopIteration:
                    cached.done, cached.source = True, None
                if len(cached.updates) >= whole:  # the last frame: nothing more will come
                    cached.done, cached.source = True, None
            if position >= len(cached.updates):
                return
            yield cached.updates[position]


# ============================================================================ propagation
def propagate(
    runner: EngineRunner,
    plan: PropagationPlan,
    start_box: Box,
    anchors: Mapping[int, Box | None] | None = None,
    *,
    rules: FlagRules | None = None,
    stop_at_flag: bool = False,
    cancelled: CancelCheck | None = None,
) -> Iterator[FrameUpdate]:
    """Track from ``plan.start`` over ``plan.frames``.

    ``anchors`` are the keyframes inside the range (their box, or None when marked absent;
    :func:`keyframe_anchors`): the run restarts from every keyframe box it reaches (a
    person's box beats the tracker's) and stops at an absent one. With ``stop_at_flag`` it
    stops after the first frame a flag rule fires on (that frame is yielded, so the annotator
    sees it).
    """
    anchors = dict(anchors or {})
    rules = rules or FlagRules()
    current = Anchor(plan.start, Box(*start_box))
    while True:
        restart: Anchor | None = None
        previous = current.box
        speeds: list[float] = []
        watch = DriftWatch(rules)
        for update in runner.run(current, plan.stop, plan.backwards, cancelled):
            if update.index in anchors:
                box = anchors[update.index]
                if box is None:
                    return
                restart = Anchor(update.index, Box(*box))
                break
            yield update
            if stop_at_flag:
                reasons = step_reasons(
                    previous, update.box, update.score, update.lost, speeds, rules
                ) + watch.observe(update.box, update.appearance)
                if reasons:
                    return
                speeds.append(_speed(previous, update.box))
            previous = update.box
        if restart is None:
            return
        current = restart


def _speed(a: Box, b: Box) -> float:
    return float(relative_speed(np.array([tuple(a), tuple(b)], dtype=float), None)[1])


# ============================================================================ segment fill
def fill_segment(
    runner: EngineRunner,
    segment: Segment,
    left: Anchor | None,
    right: Anchor | None,
    *,
    rules: CombineRules | None = None,
    checkpoints: Mapping[int, Box] | None = None,
    cancelled: CancelCheck | None = None,
) -> Iterator[FrameUpdate]:
    """Track forward from ``left`` and backward from ``right``, then combine per frame.

    ``checkpoints`` are the verified boxes inside the segment (see ``combine_runs``).

    The runs' values stream out as provisional updates (``final=False``) so a view can show
    boxes as they come; the combined values follow, all final. With one anchor only, the one
    run's values are final at once.
    """
    if not len(segment):
        return
    forward: dict[int, RunStep] = {}
    backward: dict[int, RunStep] = {}
    originals: dict[tuple[str, int], FrameUpdate] = {}
    single = (left is None) != (right is None)
    name = ""
    if left is not None:
        # one frame further than the segment: the run's error at the right keyframe
        stop = segment.last + 1 if right is None else right.index + 1
        for update in runner.run(left, stop, False, cancelled):
            forward[update.index] = RunStep(
                update.index, update.box, update.score, update.lost, update.appearance
            )
            if update.index in segment:
                originals[("forward", update.index)] = update
                name = update.engine
                yield _as(update, final=single)
    if right is not None:
        stop = segment.first - 1 if left is None else left.index - 1
        for update in runner.run(right, stop, True, cancelled):
            backward[update.index] = RunStep(
                update.index, update.box, update.score, update.lost, update.appearance
            )
            if update.index in segment:
                originals[("backward", update.index)] = update
                name = update.engine
                yield _as(update, final=single)
    if single:
        return
    combined = combine_runs(segment, forward, backward, rules, left, right, checkpoints)
    yield from combined_updates(combined, name, originals)


def _as(update: FrameUpdate, final: bool) -> FrameUpdate:
    return update if update.final == final else replace(update, final=final)


def interpolate_fill(
    segment: Segment, left: Anchor | None, right: Anchor | None
) -> Iterator[FrameUpdate]:
    """Linear interpolation over a segment (needs an anchor box at both ends)."""
    if left is None or right is None:
        raise EngineError("interpolation needs a keyframe box at both ends of the gap")
    boxes = interpolate_segment(left.index, left.box, right.index, right.box)
    for index in segment.frames:
        if index in boxes:
            yield FrameUpdate(
                index,
                Box(*boxes[index]),
                INTERPOLATION,
                provenance=Provenance.INTERPOLATED,
                source="interpolation",
            )


# ============================================================================ choosing a job
def segment_job(
    runner: EngineRunner | None,
    annotation: VideoAnnotation,
    segment: Segment,
    *,
    rules: CombineRules | None = None,
    cancelled: CancelCheck | None = None,
) -> Iterator[FrameUpdate]:
    """The job that fills ``segment`` of ``annotation`` (a ``VideoAnnotation``).

    Anchors are read now (on the caller's thread); the returned generator touches only frames.
    ``runner=None`` means linear interpolation. With an engine: both runs and their
    combination when the segment has a box at both ends, else the one run there is.
    """
    left = Anchor.of(annotation, segment.left)
    right = Anchor.of(annotation, segment.right)
    if runner is None:
        return interpolate_fill(segment, left, right)
    return fill_segment(
        runner,
        segment,
        left,
        right,
        rules=rules,
        checkpoints=checkpoints(annotation, segment),
        cancelled=cancelled,
    )


def segment_steps(annotation: VideoAnnotation, segment: Segment, interpolation: bool) -> int:
    """How many frames of work :func:`segment_job` does for ``segment`` (its updates with
    ``step`` set): one run per anchor box with an engine, one pass for interpolation."""
    left = Anchor.of(annotation, segment.left)
    right = Anchor.of(annotation, segment.right)
    if interpolation:
        return len(segment) if left is not None and right is not None else 0
    return len(segment) * ((left is not None) + (right is not None))


def checkpoints(annotation: VideoAnnotation, segment: Segment) -> dict[int, Box]:
    """The verified boxes inside ``segment``."""
    out = {}
    for i in segment.frames:
        frame = annotation.frame(i)
        if frame.provenance is Provenance.VERIFIED and frame.box is not None:
            out[i] = Box(*frame.box)
    return out


def keyframe_anchors(annotation: VideoAnnotation, plan: PropagationPlan) -> dict[int, Box | None]:
    """The keyframes a propagation passes (box, or None where marked absent)."""
    return {
        i: (None if annotation.frame(i).box is None else Box(*annotation.frame(i).box))
        for i in plan.frames
        if annotation.frame(i).provenance is Provenance.KEYFRAME
    }
