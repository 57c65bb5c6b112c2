"""Tracker-assisted annotation in the app: runs costcore's jobs in a worker and streams them in.

The controller decides nothing about boxes: what to run comes from ``costcore.assist.plan``,
the jobs (propagation, segment fill, interpolation, evaluation) are costcore generators, the
flags and the review queue are costcore's. This module only

- runs a job in a :class:`~app.workers.StreamTask` on its own uncached frame source, with
  progress and cancel;
- pushes the streamed values into the annotation as ``SetFrames`` commands inside one undo
  macro per run (so a run is one undo step, also when it is cancelled);
- keeps the video's :class:`~costcore.assist.state.AssistState` (diagnostics, score maps) and
  saves it beside ``session.json``;
- re-propagates the following segment after a person corrects a box (debounced, can be off).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from app.session_controller import SessionController
from app.settings import AppSettings
from app.workers import StreamTask, Task
from costcore.annotation import Change, SetFrames, VideoAnnotation
from costcore.assist.evaluate import EvaluationRun, evaluate_run
from costcore.assist.flags import Flag, FlagRules, flag_frames
from costcore.assist.interrupted import RUN_KEY, RunRecord, stale_frames
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
    has_automatic,
    plan_propagation,
    refill_segments,
    segment_at,
    trimmed,
)
from costcore.assist.review import ReviewQueue
from costcore.assist.scoremaps import StoredMap
from costcore.assist.series import TimelineSeries, timeline_series
from costcore.assist.state import STATE_FILE, AssistState
from costcore.assist.updates import FrameUpdate
from costcore.boxes import Box
from costcore.engines import (
    EngineInfo,
    TrackerEngine,
    create_engine,
    default_engine_name,
    engine_info,
    engine_infos,
    weights_engine,
)
from costcore.errors import CostcoreError
from costcore.language import LanguageError
from costcore.video import open_frame_source

#: seconds to wait after the last box edit before re-propagating (arrow-key nudges come fast)
REPROPAGATE_DELAY_MS = 350
#: after an edit, flags wait this long for the next one (a burst of nudges: one update)
FLAGS_DELAY_MS = 120
#: while a run streams boxes in, flags, the review list and the plots refresh this often
LIVE_FLAGS_MS = 1000


def engine_choices() -> dict[str, tuple[str, str]]:
    """Engines for the picker, name -> (label, description): the registry's, plus plain
    linear interpolation."""
    choices = {info.name: (info.display_name, info.description) for info in engine_infos()}
    choices[INTERPOLATION] = (
        "Interpolation",
        "Linear interpolation between keyframes (no tracking)",
    )
    return choices


class _WorkerFrames:
    """The job's own uncached frame source, opened on first use (in the worker thread)."""

    def __init__(self, spec: Any, frame_count: int) -> None:
        self._spec = spec
        self.frame_count = frame_count
        self._source: Any = None

    def _opened(self) -> Any:
        if self._source is None:
            self._source = open_frame_source(self._spec, cache_bytes=0)
        return self._source

    def frame(self, index: int) -> Any:
        return self._opened().frame(index)

    @property
    def frame_size(self) -> tuple[int, int]:
        return self._opened().frame_size

    def previous_keyframe(self, index: int) -> int | None:
        """Where decoding frame ``index`` starts (backward runs plan their chunks by it)."""
        known = getattr(self._opened(), "previous_keyframe", None)
        return known(index) if callable(known) else None

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None


@dataclass
class _Run:
    """One running job and its undo macro."""

    serial: int
    kind: str  # propagate / fill / refill
    text: str
    task: StreamTask
    macro: contextlib.ExitStack
    total: int
    started: float = field(default_factory=time.perf_counter)
    done: int = 0
    engine_seconds: float = 0.0
    engine_frames: int = 0
    last_index: int | None = None
    restart: Callable[[int], None] | None = None  # re-run from a frame (language change)
    #: what the run plans to write and has finished, kept in the session while it runs
    record: RunRecord | None = None


class TrackingController(QObject):
    """Engine choice, the running job, the assist state, flags and the review queue."""

    busyChanged = Signal(bool)
    progress = Signal(int, int)
    #: "csrt · CPU · 41 fps" for the status bar
    statusChanged = Signal(str)
    flagsChanged = Signal()
    #: a run ended: its message for the status bar
    runEnded = Signal(str)
    evaluationReady = Signal(object)  # EvaluationRun
    evaluationProgress = Signal(int, int)
    evaluationFailed = Signal(str)
    #: an evaluation started (True) or ended, however it ended (False)
    evaluatingChanged = Signal(bool)

    def __init__(
        self, session: SessionController, settings: AppSettings, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.state: AssistState | None = None
        self.flags: list[Flag] = []
        #: the timeline plots' series as of the last flag update (None: no video)
        self.flagged_series: TimelineSeries | None = None
        self.queue = ReviewQueue([])
        self.flag_rules = FlagRules(
            score_threshold=settings.number("tracking/score_threshold", 0.35)
        )
        self.repropagate = settings.flag("tracking/repropagate", True)
        self.stop_at_flag = settings.flag("tracking/stop_at_flag", False)
        self.evaluation: EvaluationRun | None = None
        #: shows errors (the window replaces it)
        self.report: Callable[[str], None] = lambda text: None
        self._run: _Run | None = None
        self._serial = 0
        self._engine_key: tuple[str, str, str] | None = None
        self._engine: TrackerEngine | None = None
        self._evaluation_task: Task | None = None
        self._previous_task: StreamTask | None = None
        #: tracking jobs get threads of their own: a long run must not hold up the shared
        #: pool (opening videos, export, attribute proposals)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(3)
        self._pending_refill: int | None = None
        self._resume_from: tuple[Callable[[int], None], int] | None = None
        self._refill_timer = QTimer(self)
        self._refill_timer.setSingleShot(True)
        self._refill_timer.timeout.connect(self._refill_now)
        self._flags_timer = QTimer(self)
        self._flags_timer.setSingleShot(True)
        self._flags_timer.timeout.connect(self.update_flags)
        session.opened.connect(self._on_opened)
        session.changed.connect(self._on_changed)
        session.closing.connect(self._on_closing)
        session.edit_guard = self._before_user_edit

    # ================================================================ engine
    @property
    def engine_name(self) -> str:
        name = self.settings.tracking_engine
        if name in engine_choices():
            return name
        return default_engine_name(self.settings.tracking_weights or None)

    def set_engine(self, name: str) -> None:
        if name not in engine_choices():
            raise ValueError(f"unknown engine {name!r}")
        self.settings.tracking_engine = name
        self._emit_status()

    @property
    def weights(self) -> str:
        return self.settings.tracking_weights

    def set_weights(self, path: str) -> None:
        self.settings.tracking_weights = path
        self._emit_status()

    @property
    def device(self) -> str:
        return self.settings.tracking_device

    def set_device(self, device: str) -> None:
        self.settings.tracking_device = device
        self._emit_status()

    @property
    def language_form(self) -> str:
        return self.settings.tracking_language_form

    def set_language_form(self, form: str) -> None:
        """Give engines the sentence or the attribute words (re-initialises on the next run)."""
        self.settings.tracking_language_form = form

    def _engine_text(self, annotation: VideoAnnotation) -> str | None:
        """The language for the engine in the chosen form; None (and a message) if unset."""
        try:
            return annotation.language_input.text(self.language_form)
        except LanguageError as error:
            self.report(f"{error} Set them in the Language panel, or track with the sentence.")
            return None

    def engine_info(self) -> EngineInfo | None:
        """The registry's entry of the chosen engine (None: interpolation)."""
        name = self.engine_name
        return None if name == INTERPOLATION else engine_info(name)

    def weights_target(self) -> EngineInfo:
        """The engine weights chosen now are for (the registry decides)."""
        return weights_engine(self.engine_name)

    def needs_weights(self) -> bool:
        info = self.engine_info()
        return info is not None and info.needs_weights

    def _engine_factory(self) -> Callable[[], TrackerEngine]:
        """Build (in the worker) or reuse the engine: loading COST weights takes seconds."""
        key = (self.engine_name, self.weights, self.device)

        def make() -> TrackerEngine:
            if self._engine is None or self._engine_key != key:
                self._engine = create_engine(key[0], key[1] or None, key[2])
                self._engine_key = key
            return self._engine

        return make

    def describe_engine(self) -> str:
        name = self.engine_name
        if name == INTERPOLATION:
            return "interpolation · no engine"
        if self._engine is not None and self._engine_key == (name, self.weights, self.device):
            return f"{self._engine.name} · {self._engine.device.upper()}"
        if not engine_info(name).takes_weights:
            return f"{name} · CPU"  # the OpenCV trackers run on the CPU whatever is asked
        return f"{name} · {self.device.upper() if self.device != 'auto' else 'auto device'}"

    def _emit_status(self, fps: str = "") -> None:
        text = self.describe_engine() + (f" · {fps}" if fps else "")
        self.statusChanged.emit(text)

    # ================================================================ state
    @property
    def busy(self) -> bool:
        return self._run is not None

    def state_path(self) -> Path | None:
        path = self.session.session_path
        return None if path is None else path.with_name(STATE_FILE)

    def _on_opened(self) -> None:
        annotation = self.session.annotation
        assert annotation is not None
        self.state = AssistState(annotation.frame_count)
        self.evaluation = None
        path = self.state_path()
        if path is not None and path.exists():
            try:
                self.state = AssistState.load(path, annotation.frame_count)
            except CostcoreError as error:
                self.session.message.emit(f"Tracking diagnostics not restored: {error}")
        self._mark_interrupted_run(annotation)
        self.update_flags()
        self._emit_status()

    def _mark_interrupted_run(self, annotation: VideoAnnotation) -> None:
        """A run record in the opened session: the app died during that run. The automatic
        frames it planned but did not finish hold older boxes: mark them stale and say so."""
        value = self.session.ui_state.pop(RUN_KEY, None)
        if value is None or self.state is None:
            return
        record = RunRecord.from_json(value, annotation.frame_count)
        stale = [] if record is None else stale_frames(annotation, record)
        if record is not None and stale:
            self.state.mark_stale(stale, annotation)
            self.save_state()  # the marks are on disk before the record leaves the session
            self.session.warning.emit(
                f"The app closed during “{record.text}”: {len(stale)} frame(s) it had not "
                f"re-tracked (frames {stale[0] + 1}–{stale[-1] + 1}) still hold older boxes; "
                "they are flagged as stale in the review queue."
            )
        self.session.schedule_save()

    def _on_closing(self) -> None:
        self.cancel(wait=True)
        self.save_state()
        self.state = None
        self.flags = []
        self.queue = ReviewQueue([])
        self.flagged_series = None

    def save_state(self) -> None:
        path = self.state_path()
        if self.state is None or path is None:
            return
        try:
            self.state.save(path)
        except (OSError, CostcoreError) as error:
            self.session.message.emit(f"Tracking diagnostics not saved: {error}")

    def _on_changed(self, change: Change) -> None:
        if not change.frames:
            return
        if self._run is None:
            self._flags_timer.start(FLAGS_DELAY_MS)  # debounce: restart on every edit
        elif not self._flags_timer.isActive():
            # a run changes frames many times a second: restarting the timer on each batch
            # would hold the flags back until the run ends, so refresh at a steady pace
            self._flags_timer.start(LIVE_FLAGS_MS)

    def update_flags(self) -> None:
        """Recompute the flags and the review queue (costcore's rules) now."""
        annotation = self.session.annotation
        if annotation is None or self.state is None:
            self.flags, self.queue, self.flagged_series = [], ReviewQueue([]), None
        else:
            diagnostics = self.state.diagnostics(annotation)
            self.flags = flag_frames(annotation, diagnostics, self.flag_rules)
            self.queue = ReviewQueue(self.flags)
            # the plots' series from the same diagnostics (a live refresh during a run pays
            # for reading them once, not twice)
            self.flagged_series = timeline_series(annotation, diagnostics)
        self.flagsChanged.emit()

    def set_score_threshold(self, value: float) -> None:
        self.flag_rules = FlagRules(score_threshold=float(value))
        self.settings.set_number("tracking/score_threshold", float(value))
        self.update_flags()

    def set_repropagate(self, on: bool) -> None:
        self.repropagate = bool(on)
        self.settings.set_flag("tracking/repropagate", self.repropagate)

    def set_stop_at_flag(self, on: bool) -> None:
        self.stop_at_flag = bool(on)
        self.settings.set_flag("tracking/stop_at_flag", self.stop_at_flag)

    def score_map(self, index: int) -> StoredMap | None:
        return None if self.state is None else self.state.score_maps.get(index)

    def no_score_map_note(self) -> str:
        """Why a frame shows no confidence map, naming the engines that give one."""
        with_maps = ", ".join(i.display_name for i in engine_infos() if i.gives_score_map)
        info = self.engine_info()
        if info is None or not info.gives_score_map:
            name = "Interpolation" if info is None else info.display_name
            return (
                f"No confidence map for this frame: {name} gives none "
                f"(frames tracked by {with_maps} keep one)."
            )
        return f"No confidence map for this frame: only frames tracked by {with_maps} keep one."

    def next_flagged(self, index: int) -> int | None:
        flag = self.queue.next_after(index)
        return None if flag is None else flag.index

    def previous_flagged(self, index: int) -> int | None:
        flag = self.queue.previous_before(index)
        return None if flag is None else flag.index

    def absent_proposals(self) -> list[int]:
        return [f.index for f in self.flags if f.absent_proposed]

    # ================================================================ runs
    def propagate(
        self,
        start: int,
        *,
        backwards: bool = False,
        extent: Extent | str = Extent.NEXT_KEYFRAME,
        count: int | None = None,
    ) -> bool:
        """Track from frame ``start`` (its box) forward or backward; False if it cannot start."""
        annotation = self.session.annotation
        if annotation is None or not self._ready():
            return False
        start_frame = annotation.frame(start)
        if start_frame.box is None:
            self.report(f"Frame {start + 1} has no box to track from: draw one first.")
            return False
        plan = plan_propagation(annotation, start, backwards=backwards, extent=extent, count=count)
        if not len(plan):
            self.report("Nothing to propagate: the next frame is already a keyframe or the end.")
            return False
        direction = "backward" if backwards else "forward"
        text = f"Track {direction} from frame {start + 1} ({self.engine_name})"
        if self.engine_name == INTERPOLATION:
            first, last = sorted((plan.frames[0], plan.frames[-1]))
            segments = _segments_in(annotation, first, last)
            return self._start_segments(segments, "propagate", text.replace("Track", "Fill"))
        anchors = keyframe_anchors(annotation, plan)
        rules, stop = self.flag_rules, self.stop_at_flag

        def job(runner: EngineRunner, cancelled: Callable[[], bool]) -> Iterator[FrameUpdate]:
            return propagate(
                runner,
                plan,
                Box(*start_frame.box),
                anchors,
                rules=rules,
                stop_at_flag=stop,
                cancelled=cancelled,
            )

        def restart(frame: int) -> None:
            remaining = abs(plan.stop - frame) - 1
            if remaining > 0:
                again = Extent.COUNT if Extent(extent) is Extent.COUNT else extent
                self.propagate(frame, backwards=backwards, extent=again, count=remaining)

        return self._start(job, "propagate", text, len(plan), restart, planned=plan.frames)

    def fill_segment(self, index: int) -> bool:
        """Segment fill (or interpolation) of the keyframe gap holding frame ``index``."""
        annotation = self.session.annotation
        if annotation is None or not self._ready():
            return False
        segment = segment_at(annotation, index)
        if segment.left is None or segment.right is None:
            self.report(
                "Segment fill needs a keyframe on both sides of this frame "
                "(use Track forward / backward towards the video's ends)."
            )
            return False
        if not len(segment):
            self.report("The keyframes are adjacent: nothing to fill.")
            return False
        text = f"Fill frames {segment.first + 1}–{segment.last + 1} ({self.engine_name})"
        return self._start_segments([segment], "fill", text)

    def refill_after_edit(self, index: int) -> None:
        """A person set the box of ``index``: re-propagate the following segment (debounced)."""
        annotation = self.session.annotation
        if not self.repropagate or annotation is None:
            return
        following = refill_segments(annotation, index, following=True)
        if not any(has_automatic(annotation, s) for s in following):
            return  # nothing automatic after it: a new keyframe, not a correction
        self._pending_refill = index
        self._refill_timer.start(REPROPAGATE_DELAY_MS)

    def _refill_now(self) -> None:
        index, self._pending_refill = self._pending_refill, None
        annotation = self.session.annotation
        if index is None or annotation is None or annotation.frame(index).box is None:
            return
        if self._run is not None:
            return  # the annotator started a run since the edit: theirs wins
        if self.engine_name != INTERPOLATION and self.needs_weights() and not self.weights:
            return
        segments = [
            trimmed(annotation, s)
            for s in refill_segments(annotation, index, following=True)
            if has_automatic(annotation, s)
        ]
        segments = [s for s in segments if len(s)]
        if not segments:
            return
        if self.engine_name == INTERPOLATION and segments[0].right is None:
            return
        text = f"Re-propagate after frame {index + 1} ({self.engine_name})"
        self._start_segments(segments, "refill", text)

    def _start_segments(self, segments: list[Segment], kind: str, text: str) -> bool:
        annotation = self.session.annotation
        assert annotation is not None
        interpolation = self.engine_name == INTERPOLATION
        if interpolation and any(s.left is None or s.right is None for s in segments):
            self.report("Interpolation needs a keyframe at both ends of the gap.")
            return False
        # the anchors and checkpoints are read here, on the UI thread
        snapshot = annotation.copy()
        total = sum(segment_steps(annotation, s, interpolation) for s in segments)

        def job(runner: EngineRunner, cancelled: Callable[[], bool]) -> Iterator[FrameUpdate]:
            for segment in segments:
                yield from segment_job(
                    None if interpolation else runner, snapshot, segment, cancelled=cancelled
                )

        planned = [i for s in segments for i in s.frames]
        return self._start(job, kind, text, total, planned=planned)

    def _ready(self) -> bool:
        if self._run is not None:
            self.report("A tracking run is in progress (Esc cancels it).")
            return False
        if self._evaluation_task is not None:
            self.report("An engine evaluation is running; wait for it or cancel it.")
            return False
        if self.session.frames_spec is None:
            return False
        info = self.engine_info()
        if info is not None and info.needs_weights and not self.weights:
            others = ", ".join(i.display_name for i in engine_infos() if not i.needs_weights)
            self.report(
                f"The {info.display_name} engine needs weights: choose {info.weights_hint} "
                f"in the Tracking panel, or pick an engine that needs none ({others})."
            )
            return False
        return True

    def _start(
        self,
        job: Callable[[EngineRunner, Callable[[], bool]], Iterator[FrameUpdate]],
        kind: str,
        text: str,
        total: int,
        restart: Callable[[int], None] | None = None,
        *,
        planned: Iterable[int] = (),
    ) -> bool:
        annotation, stack = self.session.annotation, self.session.undo_stack
        assert annotation is not None and stack is not None
        if kind != "refill":  # the annotator's own run replaces a pending re-propagation
            self._refill_timer.stop()
            self._pending_refill = None
        self._settle_previous()
        language = self._engine_text(annotation)
        if language is None:
            return False
        frames = _WorkerFrames(self.session.frames_spec, annotation.frame_count)
        runner = EngineRunner(self._engine_factory(), frames, language)

        def work(
            emit: Callable[[Any], None],
            progress: Callable[[int, int], None],
            cancelled: Callable[[], bool],
        ) -> int:
            done = 0
            try:
                for update in job(runner, cancelled):
                    emit(update)
                    done += 1 if update.step else 0
                    if update.step and done % 5 == 0:
                        progress(min(done, total), total)
            finally:
                frames.close()
            return done

        self._serial += 1
        serial = self._serial
        task = StreamTask(work, self, self._pool)
        self._previous_task = task
        macro = contextlib.ExitStack()
        macro.enter_context(stack.macro(text))
        run = _Run(serial, kind, text, task, macro, max(total, 1), restart=restart)
        run.record = RunRecord(text, frozenset(planned))
        # on disk before the run changes a frame: a crash from here on leaves a trace
        self.session.ui_state[RUN_KEY] = run.record.to_json()
        self.session.save_now()
        self._run = run
        task.batch.connect(lambda items, s=serial: self._on_batch(s, items))
        task.finished.connect(lambda _r, s=serial: self._end(s, "done"))
        task.cancelled.connect(lambda s=serial: self._end(s, "cancelled"))
        task.failed.connect(lambda message, s=serial: self._end(s, f"failed: {message}"))
        self.busyChanged.emit(True)
        self.progress.emit(0, run.total)
        self._emit_status("starting…")
        task.start()
        return True

    def _settle_previous(self) -> None:
        """A stopped run's worker finishes its current frame before a new run may use the
        shared engine; if it does not within 2 s, the new run gets an engine of its own."""
        previous, self._previous_task = self._previous_task, None
        if previous is not None and not previous.wait(2.0):
            self._engine = None

    def _on_batch(self, serial: int, updates: list[FrameUpdate]) -> None:
        run = self._run
        if run is None or run.serial != serial or self.state is None:
            return  # a stopped run's last values: dropped
        items = [(u.index, u.annotation()) for u in updates]
        if run.record is not None:  # saved with these frames (the same autosave)
            run.record = run.record.finish(u.index for u in updates if u.final)
            self.session.ui_state[RUN_KEY] = run.record.to_json()
        self.session.push(SetFrames(items, text=run.text))
        self.state.record_all(updates)
        for update in updates:
            if update.final or update.source == "forward":
                run.engine_seconds += update.seconds
                run.engine_frames += 1 if update.seconds else 0
            run.last_index = update.index
        run.done += sum(1 for u in updates if u.step)  # combined values are no new work
        self.progress.emit(min(run.done, run.total), run.total)
        self._emit_status(self._fps_text(run))

    @staticmethod
    def _fps_text(run: _Run) -> str:
        if run.engine_frames < 2 or run.engine_seconds <= 0:
            return ""
        wall = time.perf_counter() - run.started
        engine_fps = run.engine_frames / run.engine_seconds
        return f"{engine_fps:.0f} fps" + (f" (run {run.done / wall:.0f})" if wall > 0 else "")

    def _end(self, serial: int, outcome: str) -> None:
        run = self._run
        if run is None or run.serial != serial:
            return
        self._close_run(run)
        if outcome.startswith("failed"):
            self.report(f"{run.text} {outcome}")
        self.runEnded.emit(f"{run.text}: {outcome}")
        self.save_state()
        self.update_flags()

    def _close_run(self, run: _Run) -> None:
        self._run = None
        if self.session.ui_state.pop(RUN_KEY, None) is not None:
            self.session.schedule_save()  # the run ended in order: no trace needed
        run.macro.close()  # records the run as one undo step (also a cancelled one)
        self.busyChanged.emit(False)
        self._emit_status(self._fps_text(run))

    def cancel(self, wait: bool = False) -> None:
        """Stop the running job (Esc); what it wrote so far stays, as one undo step."""
        run = self._run
        if run is None:
            return
        run.task.cancel()
        if wait:
            run.task.wait(10.0)
            self._close_run(run)
            self.runEnded.emit(f"{run.text}: cancelled")

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the running job's worker returned (tests, shutdown)."""
        run = self._run
        return True if run is None else run.task.wait(timeout)

    def _before_user_edit(self, kind: str) -> None:
        """A person edits while a run streams in: stop the run first (its own undo step)."""
        run = self._run
        if run is None:
            return
        run.task.cancel()
        self._close_run(run)
        if kind == "language" and run.restart is not None and run.last_index is not None:
            # the description goes to the engine at initialisation: start again with it
            self._resume_from = (run.restart, run.last_index)
            QTimer.singleShot(0, self._resume)
        self.runEnded.emit(f"{run.text}: stopped by an edit")

    def _resume(self) -> None:
        if self._resume_from is not None:
            restart, frame = self._resume_from
            self._resume_from = None
            restart(frame)

    # ============================================================ evaluation
    def evaluate(self) -> bool:
        """Run the engine over the video and score it against the annotation (untouched)."""
        annotation = self.session.annotation
        if annotation is None or self._evaluation_task is not None:
            return False
        if self.engine_name == INTERPOLATION:
            self.report("Pick a tracking engine to evaluate (interpolation tracks nothing).")
            return False
        if not self._ready():
            return False
        boxes, absent = annotation.boxes_array(), annotation.absent_array()
        self._settle_previous()
        language = self._engine_text(annotation)
        if language is None:
            return False
        frames = _WorkerFrames(self.session.frames_spec, annotation.frame_count)
        runner = EngineRunner(self._engine_factory(), frames, language)

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> object:
            try:
                return evaluate_run(runner, boxes, absent, cancelled=cancelled, progress=progress)
            finally:
                frames.close()

        task = Task(work, self, self._pool)
        task.progress.connect(self.evaluationProgress)
        task.finished.connect(self._evaluated)
        task.failed.connect(self._evaluation_failed)
        task.cancelled.connect(lambda: self._evaluation_failed("cancelled"))
        self._evaluation_task = task
        task.start()
        self.evaluatingChanged.emit(True)
        return True

    @property
    def evaluating(self) -> bool:
        return self._evaluation_task is not None

    def cancel_evaluation(self) -> None:
        if self._evaluation_task is not None:
            self._evaluation_task.cancel()

    def wait_evaluation(self, timeout: float = 60.0) -> bool:
        task = self._evaluation_task
        return True if task is None else task.wait(timeout)

    def _evaluated(self, result: EvaluationRun) -> None:
        self._evaluation_task = None
        self.evaluation = result
        self._emit_status(f"{result.fps:.0f} fps")
        self.evaluationReady.emit(result)
        self.evaluatingChanged.emit(False)

    def _evaluation_failed(self, message: str) -> None:
        self._evaluation_task = None
        self.evaluationFailed.emit(message)
        self.evaluatingChanged.emit(False)

    def shutdown(self) -> None:
        self.cancel(wait=True)
        if self._evaluation_task is not None:
            self._evaluation_task.cancel()
            self._evaluation_task.wait(10.0)


def _segments_in(annotation: Any, first: int, last: int) -> list[Segment]:
    """The keyframe gaps overlapping frames ``first..last`` (for interpolation runs)."""
    out = []
    index = first
    while index <= last:
        segment = segment_at(annotation, index)
        if len(segment) and segment not in out:
            out.append(segment)
        index = segment.last + 1 if len(segment) else index + 1
        if segment.right is not None and index == segment.right:
            index += 1
    return out
