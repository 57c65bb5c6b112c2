"""Running the model's tracking jobs and engine evaluations on worker threads.

What to run is decided by the model (:class:`~costcore.annotator.AnnotatorModel`, through
:class:`~costcore.annotator.AssistSession`); this runner only

- executes an :class:`~costcore.annotator.AssistJob` in a :class:`~app.workers.StreamTask`
  on its own uncached frame source, with progress and cancel, and hands the streamed values
  back to the session (one undo step per run, also when it is stopped);
- builds the engine in the worker and keeps it for the next run (loading weights takes
  seconds);
- waits for a burst of corrections to end before asking the model for the refill, and
  refreshes the flags at a steady pace while a run streams in;
- evaluates the engine against the annotation (untouched).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from app.long_lived import freeze_engine_objects
from app.session_controller import SessionController
from app.workers import StreamTask, Task
from costcore.annotator import AnnotatorModel, AssistJob
from costcore.assist.engine_evaluation import EvaluationRun, evaluate_run
from costcore.assist.jobs import EngineRunner
from costcore.assist.updates import FrameUpdate
from costcore.engines import TrackerEngine, create_engine
from costcore.video import open_frame_source

#: seconds to wait after the last box edit before re-propagating (arrow-key nudges come fast)
REPROPAGATE_DELAY_MS = 350
#: after an edit, flags wait this long for the next one (a burst of nudges: one update)
FLAGS_DELAY_MS = 120
#: while a run streams boxes in, flags, the review list and the plots refresh this often
LIVE_FLAGS_MS = 1000
#: a run's boxes reach the window in batches at most this often: every batch repaints the
#: timeline, plots and progress (~10 ms holding the interpreter lock the engine's thread also
#: needs); at 20 batches a second NanoTrack ran at 70 % of its own speed in the app, at 5 at
#: 90 % (benchmarks/bench_propagation.py). A slow engine's boxes still come one by one.
RUN_BATCH_SECONDS = 0.2


class WorkerFrames:
    """A job's own uncached frame source, opened on first use (in the worker thread)."""

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
    """One running job, its worker and its undo step."""

    serial: int
    job: AssistJob
    task: StreamTask
    macro: contextlib.ExitStack
    started: float = field(default_factory=time.perf_counter)
    done: int = 0
    engine_seconds: float = 0.0
    engine_frames: int = 0
    last_index: int | None = None


class JobRunner(QObject):
    """Runs the model's jobs and evaluations; the status bar's engine line."""

    busyChanged = Signal(bool)
    progress = Signal(int, int)
    #: "csrt · CPU · 41 fps" for the status bar
    statusChanged = Signal(str)
    #: a run ended: its message for the status bar
    runEnded = Signal(str)
    evaluationReady = Signal(object)  # EvaluationRun
    evaluationProgress = Signal(int, int)
    evaluationFailed = Signal(str)
    #: an evaluation started (True) or ended, however it ended (False)
    evaluatingChanged = Signal(bool)

    def __init__(
        self, model: AnnotatorModel, session: SessionController, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.session = session
        self.evaluation: EvaluationRun | None = None
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
        self._resume: AssistJob | None = None
        self._refill_timer = QTimer(self)
        self._refill_timer.setSingleShot(True)
        self._refill_timer.timeout.connect(self._refill_now)
        self._flags_timer = QTimer(self)
        self._flags_timer.setSingleShot(True)
        self._flags_timer.timeout.connect(model.update_flags)
        model.run_job = self.start
        model.find_target_job = self.find_target
        self._finding: Task | None = None
        events = model.events
        events.opened.connect(self._on_opened)
        events.closing.connect(lambda: self.cancel(wait=True))
        events.changed.connect(self._on_changed)
        events.corrected.connect(self._on_corrected)
        events.edit_starting.connect(self._before_user_edit)
        events.engine_changed.connect(self._emit_status)

    # ================================================================ status
    @property
    def busy(self) -> bool:
        return self._run is not None

    @property
    def evaluating(self) -> bool:
        return self._evaluation_task is not None

    def describe_engine(self) -> str:
        settings = self.model.engine
        key = (settings.name, settings.current_weights(), settings.device)
        running = None
        if self._engine is not None and self._engine_key == key:
            running = (self._engine.name, self._engine.device)
        return settings.describe(running)

    def _emit_status(self, fps: str = "") -> None:
        text = self.describe_engine() + (f" · {fps}" if fps else "")
        self.statusChanged.emit(text)

    def _on_opened(self) -> None:
        self.evaluation = None
        self._emit_status()

    def _on_changed(self, change: Any) -> None:
        if not change.frames:
            return
        if self._run is None:
            self._flags_timer.start(FLAGS_DELAY_MS)  # debounce: restart on every edit
        elif not self._flags_timer.isActive():
            # a run changes frames many times a second: restarting the timer on each batch
            # would hold the flags back until the run ends, so refresh at a steady pace
            self._flags_timer.start(LIVE_FLAGS_MS)

    # ================================================================ refills
    def _on_corrected(self, index: int) -> None:
        self._pending_refill = index
        self._refill_timer.start(REPROPAGATE_DELAY_MS)

    def _refill_now(self) -> None:
        index, self._pending_refill = self._pending_refill, None
        if index is None or self._run is not None:
            return  # the annotator started a run since the edit: theirs wins
        job = self.model.refill_job(index)
        if job is not None:
            self.start(job)

    # ================================================================ runs
    def _engine_factory(self) -> Callable[[], TrackerEngine]:
        """Build (in the worker) or reuse the engine: loading weights takes seconds."""
        settings = self.model.engine
        key = (settings.name, settings.current_weights(), settings.device)

        def make() -> TrackerEngine:
            if self._engine is None or self._engine_key != key:
                self._engine = create_engine(key[0], key[1] or None, key[2])
                self._engine_key = key
                freeze_engine_objects()  # torch's objects: no full collection mid-run
            return self._engine

        return make

    def _runner(self) -> tuple[EngineRunner, WorkerFrames] | None:
        """An engine runner over the video's own frames; None (and a message) when the
        description the engine needs is missing."""
        video = self.model.video
        language = self.model.engine_language()
        if video is None or language is None:
            return None
        frames = WorkerFrames(video.frames, self.model.frame_count)
        return EngineRunner(self._engine_factory(), frames, language), frames

    def start(self, job: AssistJob) -> bool:
        """Run ``job`` in a worker (the model's ``run_job``); False if it cannot start."""
        assist = self.model.assist
        if assist is None or self._run is not None:
            return False
        if self._evaluation_task is not None:
            self.model.events.message.emit(
                "An engine evaluation is running; wait for it or cancel it."
            )
            return False
        if job.kind != "refill":  # the annotator's own run replaces a pending re-propagation
            self._refill_timer.stop()
            self._pending_refill = None
        self._settle_previous()
        made = self._runner()
        if made is None:
            return False
        runner, frames = made
        total = max(job.total, 1)

        def work(emit: Callable[[Any], None], progress: Callable[[int, int], None], cancelled):
            done = 0
            try:
                for update in job.updates(runner, cancelled):
                    emit(update)
                    done += 1 if update.step else 0
                    if update.step and done % 5 == 0:
                        progress(min(done, total), total)
            finally:
                frames.close()
            return done

        self._serial += 1
        serial = self._serial
        task = StreamTask(work, self, self._pool, interval=RUN_BATCH_SECONDS)
        self._previous_task = task
        macro = contextlib.ExitStack()
        macro.enter_context(assist.run_step(job))
        self._run = _Run(serial, job, task, macro)
        assist.begin_run(job)
        self.session.save_now()  # the run's record is on disk before it changes a frame
        task.batch.connect(lambda items, s=serial: self._on_batch(s, items))
        task.finished.connect(lambda _r, s=serial: self._end(s, "done"))
        task.cancelled.connect(lambda s=serial: self._end(s, "cancelled"))
        task.failed.connect(lambda message, s=serial: self._end(s, f"failed: {message}"))
        self.busyChanged.emit(True)
        self.progress.emit(0, total)
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
        run, assist = self._run, self.model.assist
        if run is None or run.serial != serial or assist is None:
            return  # a stopped run's last values: dropped
        assist.apply(updates, run.job.text)
        for update in updates:
            if update.final or update.source == "forward":
                run.engine_seconds += update.seconds
                run.engine_frames += 1 if update.seconds else 0
            run.last_index = update.index
        run.done += sum(1 for u in updates if u.step)  # combined values are no new work
        total = max(run.job.total, 1)
        self.progress.emit(min(run.done, total), total)
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
        self._close_run(run, outcome.split(":")[0])
        if outcome.startswith("failed"):
            self.model.events.message.emit(f"{run.job.text} {outcome}")
        self.runEnded.emit(f"{run.job.text}: {outcome}")
        self.model.save_state()
        self.model.update_flags()

    def _close_run(self, run: _Run, outcome: str) -> None:
        self._run = None
        if self.model.assist is not None:
            self.model.assist.end_run(run.job, outcome, run.last_index)
        self.session.schedule_save()  # the run ended in order: its record leaves the session
        run.macro.close()  # records the run as one undo step (also a stopped one)
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
            self._close_run(run, "cancelled")
            self.runEnded.emit(f"{run.job.text}: cancelled")

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
        self._close_run(run, "stopped")
        if kind == "language" and run.job.resume is not None and run.last_index is not None:
            # the description goes to the engine at initialisation: start again with it
            self._resume = run.job.resume(run.last_index)
            QTimer.singleShot(0, self._resume_now)
        self.runEnded.emit(f"{run.job.text}: stopped by an edit")

    def _resume_now(self) -> None:
        job, self._resume = self._resume, None
        if job is not None:
            self.start(job)

    # ============================================================ finding the target
    def find_target(self, index: int, text: str) -> bool:
        """Ask the engine, in a worker, where ``text`` puts the target in frame ``index``; the
        answer goes to the model as a proposal (the model's ``find_target_job``)."""
        video = self.model.video
        if video is None or self._finding is not None or self._run is not None:
            if self._run is not None:
                self.model.events.message.emit("A tracking run is in progress (Esc cancels it).")
            return False
        self._settle_previous()
        make = self._engine_factory()
        frames = WorkerFrames(video.frames, self.model.frame_count)

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Any:
            try:
                return make().ground(frames.frame(index), text)
            finally:
                frames.close()

        task = Task(work, self, self._pool)
        task.finished.connect(lambda found: self._found(index, found))
        task.failed.connect(self._not_found)
        self._finding = task
        self.statusChanged.emit(f"{self.describe_engine()} · finding the target…")
        task.start()
        return True

    def _found(self, index: int, found: Any) -> None:
        self._finding = None
        self._emit_status()
        self.model.propose_target(index, found.box, found.score)

    def _not_found(self, message: str) -> None:
        self._finding = None
        self._emit_status()
        self.model.events.message.emit(f"The target was not found: {message}")

    def wait_finding(self, timeout: float = 60.0) -> bool:
        task = self._finding
        return True if task is None else task.wait(timeout)

    # ============================================================ evaluation
    def evaluate(self) -> bool:
        """Run the engine over the video and score it against the annotation (untouched)."""
        model = self.model
        annotation = model.annotation
        if annotation is None or self._evaluation_task is not None:
            return False
        if model.engine.interpolating:
            model.events.message.emit(
                "Pick a tracking engine to evaluate (interpolation tracks nothing)."
            )
            return False
        if self._run is not None:
            model.events.message.emit("A tracking run is in progress (Esc cancels it).")
            return False
        problem = model.engine.cannot_start()
        if problem:
            model.events.message.emit(problem)
            return False
        boxes, absent = annotation.boxes_array(), annotation.absent_array()
        self._settle_previous()
        made = self._runner()
        if made is None:
            return False
        runner, frames = made

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

    def cancel_evaluation(self) -> None:
        if self._evaluation_task is not None:
            self._evaluation_task.cancel()

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
