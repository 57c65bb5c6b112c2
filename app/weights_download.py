"""Getting an engine's published weights from the app: a download (or a copy from a file the
annotator fetched elsewhere) in a worker, with progress and cancel.

What is fetched, from where, and how it is checked is :mod:`costcore.weights`' business; this
only runs it off the UI thread and reports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.workers import Task
from costcore.weights import download_entry, install_from


class WeightsDownload(QObject):
    """One download or install at a time; ``finished(entry, path)`` / ``failed(message)``."""

    progress = Signal(int, int)  # bytes done, bytes in all
    finished = Signal(str, str)  # catalogue entry, installed path
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._task: Task | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def download(self, entry: str) -> bool:
        """Fetch ``entry`` (resumable, checked) into the per-user cache."""

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Any:
            return download_entry(entry, progress=progress, cancel=cancelled)

        return self._start(entry, work)

    def install(self, entry: str, source: str | Path) -> bool:
        """Copy ``entry``'s files from ``source`` (a file or folder fetched elsewhere)."""

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> Any:
            return install_from(entry, [source])

        return self._start(entry, work)

    def _start(self, entry: str, work: Callable[..., Any]) -> bool:
        if self._task is not None:
            return False
        task = Task(work, self)
        task.progress.connect(self.progress)
        task.finished.connect(lambda path: self._done(entry, path))
        task.failed.connect(self._failed)
        task.cancelled.connect(lambda: self._failed("cancelled; a partial download resumes"))
        self._task = task
        task.start()
        return True

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def wait(self, timeout: float = 60.0) -> bool:
        return True if self._task is None else self._task.wait(timeout)

    def _done(self, entry: str, path: object) -> None:
        self._task = None
        self.finished.emit(entry, str(path))

    def _failed(self, message: str) -> None:
        self._task = None
        self.failed.emit(message)
