"""Writing the session in a background thread right after each edit.

The UI thread only takes a snapshot (``VideoAnnotation.copy()`` shares the immutable frame
values, so it is cheap); a saver thread writes the newest snapshot with costcore's atomic
``save_session``. Bursts of edits coalesce: only the newest state is ever written, so stepping
and dragging never wait for the disk, and a crash loses at most the edit being written.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from costcore.annotation import VideoAnnotation, save_session
from costcore.errors import CostcoreError


class AutoSaver(QObject):
    """One daemon thread writing the newest submitted snapshot; ``saved(generation)`` after."""

    saved = Signal(int)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._condition = threading.Condition()
        self._request: tuple[int, Path, VideoAnnotation, dict[str, Any]] | None = None
        self._writing = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="session-autosave", daemon=True)
        self._thread.start()

    def submit(
        self, generation: int, path: Path, snapshot: VideoAnnotation, ui: dict[str, Any]
    ) -> None:
        """Queue ``snapshot`` for writing; replaces any snapshot not yet started."""
        with self._condition:
            self._request = (generation, path, snapshot, ui)
            self._condition.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until everything submitted so far is on disk (used on close and by tests)."""
        with self._condition:
            return self._condition.wait_for(
                lambda: self._request is None and not self._writing, timeout
            )

    def close(self) -> None:
        self.flush()
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._request is not None or self._stopping)
                if self._request is None:
                    return  # stopping, nothing left to write
                generation, path, snapshot, ui = self._request
                self._request = None
                self._writing = True
            try:
                save_session(path, snapshot, ui)
            except (CostcoreError, OSError) as error:
                self.failed.emit(str(error))
            else:
                self.saved.emit(generation)
            finally:
                with self._condition:
                    self._writing = False
                    self._condition.notify_all()
