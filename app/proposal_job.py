"""Computing costcore's attribute proposals in a worker thread.

The frame-based rules (BRI, IV, MB) read every frame, which takes seconds on a long video, so
the job runs off the UI thread on its own uncached frame source (the viewer's cache and
prefetcher are left alone) and on a snapshot of the annotation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from app.workers import Task
from costcore.annotation import VideoAnnotation
from costcore.attributes import Proposal, propose_attributes
from costcore.video import open_frame_source


def compute_proposals(
    annotation: VideoAnnotation,
    frames: Any,
    progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> list[Proposal]:
    """All proposals for ``annotation`` with its frames (what ``open_frame_source`` accepts)."""
    source = open_frame_source(frames, cache_bytes=0)
    try:
        return propose_attributes(
            annotation.boxes_array(),
            annotation.absent_array(),
            annotation.frame_size or source.frame_size,
            annotation.frame_count,
            frames=source,
            progress=progress,
            is_cancelled=is_cancelled,
        )
    finally:
        source.close()


def proposal_task(annotation: VideoAnnotation, frames: Any, parent: QObject | None = None) -> Task:
    """A :class:`Task` whose ``finished`` carries the list of proposals."""
    snapshot = annotation.copy()

    def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> object:
        return compute_proposals(snapshot, frames, progress, cancelled)

    return Task(work, parent)
