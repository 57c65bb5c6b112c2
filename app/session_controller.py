"""Opening videos on a worker thread and autosaving the open session: the Qt side of the model.

Everything about *what* is opened and saved is the model's (:mod:`costcore.annotator`): this
controller runs :func:`~costcore.annotator.session_opening.prepare_open` off the UI thread, asks the
annotator whether to resume (``ask_resume``), hands the result to the model, and writes the
model's session after every change through the :class:`~app.autosave.AutoSaver` thread.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from app.autosave import AutoSaver
from app.workers import Task
from costcore.annotator import AnnotatorModel
from costcore.annotator.session_opening import OpenResult, prepare_open
from costcore.video import DEFAULT_CACHE_BYTES

PREFETCH_FRAMES = 24
#: while an engine run streams boxes in, the session is written at most this often: writing a
#: long video's session takes tens of milliseconds of Python (the GIL), and back to back they
#: halved the engine's speed; a run's boxes can be computed again, and its record (what it
#: plans to write) is on disk before it starts, so a kill loses at most this much of a run
RUN_SAVE_INTERVAL_MS = 1000


class SessionController(QObject):
    """Opens videos for the model and keeps its session on disk."""

    openFailed = Signal(str)
    openProgress = Signal(int, int)
    dirtyChanged = Signal(bool)
    saved = Signal(str)  # session path
    saveFailed = Signal(str)

    def __init__(
        self,
        model: AnnotatorModel,
        parent: QObject | None = None,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        prefetch: int = PREFETCH_FRAMES,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.cache_bytes = cache_bytes
        self.prefetch = prefetch
        #: decides whether to resume a saved session; the window replaces it with a dialog
        self.ask_resume: Callable[[OpenResult], bool] = lambda result: True
        self._generation = 0
        self._saved_generation = 0
        #: when it fires, the session is written (single shot; see schedule_save)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.timeout.connect(self._save_now)
        self._open_task: Task | None = None
        self._saver = AutoSaver(self)
        self._saver.saved.connect(self._on_saved)
        self._saver.failed.connect(self.saveFailed)
        model.events.changed.connect(self._on_change)
        model.events.state_changed.connect(self.schedule_save)
        model.events.closing.connect(self._on_closing)

    # ================================================================ opening
    @property
    def opening(self) -> bool:
        return self._open_task is not None

    def open_path(self, path: str | Path) -> None:
        """Open a video, image folder, dataset sequence or session file (in a worker)."""
        if self._open_task is not None:
            self._open_task.cancel()
        workspace, cache_bytes, prefetch = self.model.workspace, self.cache_bytes, self.prefetch

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> OpenResult:
            return prepare_open(
                path, workspace, cache_bytes=cache_bytes, prefetch=prefetch,
                progress=progress, cancelled=cancelled,
            )  # fmt: skip

        task = Task(work, self)
        task.progress.connect(self.openProgress)
        task.finished.connect(lambda result, t=task: self._opened(t, result))
        task.failed.connect(lambda message, t=task: self._open_failed(t, message))
        task.cancelled.connect(lambda t=task: self._open_failed(t, ""))
        self._open_task = task
        task.start()

    def _open_failed(self, task: Task, message: str) -> None:
        if task is not self._open_task:
            return
        self._open_task = None
        if message:
            self.openFailed.emit(message)

    def _opened(self, task: Task, result: OpenResult) -> None:
        if task is not self._open_task:
            result.source.close()
            return
        self._open_task = None
        resume = result.existing is not None and self.ask_resume(result)
        self.model.close()
        self._generation, self._saved_generation = 1, 0
        opened = self.model.install(result, resume)
        if opened.on_disk:
            self._saved_generation = 1  # what is on disk is what we show
        else:
            self.schedule_save()  # a fresh session exists on disk from the start
        self.dirtyChanged.emit(self.is_dirty)

    def _on_closing(self) -> None:
        self._save_now()  # also records where the annotator was (the app state)
        self._saver.flush()

    def shutdown(self) -> None:
        """Close the video and stop the saver thread (application exit)."""
        if self._open_task is not None:
            self._open_task.cancel()
            self._open_task.wait(10.0)
            self._open_task = None
        self.model.close()
        self._saver.close()

    # =============================================================== autosave
    @property
    def is_dirty(self) -> bool:
        """True while the newest edit is not yet on disk."""
        return self._saved_generation != self._generation

    def _on_change(self, _change: object) -> None:
        was_dirty = self.is_dirty
        self._generation += 1
        self.schedule_save()
        if not was_dirty:
            self.dirtyChanged.emit(True)

    def schedule_save(self) -> None:
        """Write the session on the next event-loop turn (during an engine run: within
        :data:`RUN_SAVE_INTERVAL_MS`; a person's edit stops the run first, and the run's end
        brings a pending write forward, so both are written at once)."""
        if not self.model.is_open:
            return
        assist = self.model.assist
        running = assist is not None and assist.running is not None
        delay = RUN_SAVE_INTERVAL_MS if running else 0
        if self._save_timer.isActive() and self._save_timer.interval() <= delay:
            return  # already due as soon (restarting it would put a run's writes off forever)
        self._save_timer.start(delay)

    def save_now(self) -> None:
        """Write the session now and wait for it (Ctrl+S; autosave makes this optional)."""
        self._save_now()
        self._saver.flush()

    def _save_now(self) -> None:
        self._save_timer.stop()
        snapshot = self.model.session_snapshot()
        if snapshot is not None:
            self._saver.submit(self._generation, *snapshot)

    def flush(self, timeout: float = 10.0) -> bool:
        """Make sure every edit so far is on disk (tests, shutdown)."""
        if self._save_timer.isActive():
            self._save_now()
        return self._saver.flush(timeout)

    def _on_saved(self, generation: int) -> None:
        was_dirty = self.is_dirty
        self._saved_generation = max(self._saved_generation, generation)
        path = self.model.session_path
        if path is not None:
            self.saved.emit(str(path))
        if was_dirty != self.is_dirty:
            self.dirtyChanged.emit(self.is_dirty)
