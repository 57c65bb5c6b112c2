"""Running an export in a worker thread (what is written is costcore's:
:func:`costcore.annotator.export.export_annotation`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.workers import Task
from costcore.annotation import VideoAnnotation
from costcore.annotator.export import ExportOptions, ExportOutcome, export_annotation

__all__ = ["ExportJob", "ExportOptions", "ExportOutcome"]


class ExportJob(QObject):
    """One export in the background: ``progress``, then ``finished``/``failed``/``cancelled``."""

    progress = Signal(int, int)
    finished = Signal(object)  # ExportOutcome
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self,
        annotation: VideoAnnotation,
        frames: Any,
        options: ExportOptions,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        snapshot = annotation.copy()  # later edits do not leak into a running export
        self.options = options
        self.outcome: ExportOutcome | None = None
        self.error = ""
        self.was_cancelled = False

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Any:
            return export_annotation(snapshot, frames, options, progress, cancelled)

        self._task = Task(work, self)
        self._task.progress.connect(self.progress)
        self._task.finished.connect(self._finished)
        self._task.failed.connect(self._failed)
        self._task.cancelled.connect(self._cancelled)

    def start(self) -> None:
        self._task.start()

    def cancel(self) -> None:
        self._task.cancel()

    @property
    def running(self) -> bool:
        return self._task.running

    @property
    def done(self) -> bool:
        return not self._task.running and (
            self.outcome is not None or bool(self.error) or self.was_cancelled
        )

    def wait(self, timeout: float | None = None) -> bool:
        return self._task.wait(timeout)

    def _finished(self, outcome: ExportOutcome) -> None:
        self.outcome = outcome
        self.finished.emit(outcome)

    def _failed(self, message: str) -> None:
        self.error = message
        self.failed.emit(message)

    def _cancelled(self) -> None:
        self.was_cancelled = True
        self.cancelled.emit()
