"""Track one sequence of a batch run and write its files: the same code in-process and in a
worker process."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from costcore.batch.job_plan import SequenceJob
from costcore.engines.base import TrackerEngine
from costcore.engines.result_files import write_results, write_times
from costcore.errors import Cancelled, CostcoreError

#: decoded frames kept per sequence (a few frames decoded ahead, overlapping the engine's work)
FRAME_CACHE_BYTES = 128 * 1024 * 1024
PREFETCH_FRAMES = 4
#: how often a running sequence reports its frame count (seconds)
REPORT_INTERVAL = 0.25

DONE, FAILED, CANCELLED = "done", "failed", "cancelled"


@dataclass(frozen=True)
class SequenceOutcome:
    """What became of one job: ``status`` is ``done``, ``failed`` or ``cancelled``.

    ``frames`` counts the frames the engine saw (initialisation included), ``track_seconds``
    the engine's time on the frames after the initial one (decoding excluded), so that
    ``fps`` is the tracking speed; ``wall_seconds`` is everything.
    """

    name: str
    status: str
    frames: int = 0
    track_seconds: float = 0.0
    wall_seconds: float = 0.0
    lost_frames: int = 0
    reason: str = ""
    worker: str = ""

    @property
    def fps(self) -> float:
        """The engine's speed on this sequence (frames after the first per second)."""
        return max(self.frames - 1, 0) / self.track_seconds if self.track_seconds > 0 else 0.0


def describe_error(error: BaseException) -> str:
    """One line for a summary: our errors as they are, others with their type."""
    if isinstance(error, CostcoreError):
        return str(error)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def track_sequence(
    engine: TrackerEngine,
    job: SequenceJob,
    *,
    cancelled: Callable[[], bool] | None = None,
    on_frames: Callable[[int], None] | None = None,
) -> tuple[int, float, int]:
    """Track ``job`` with ``engine`` and write its times file, then its result file.

    Returns (frames seen, engine seconds after the initial frame, frames where the engine said
    it lost the target).
    Raises on any failure (and :class:`Cancelled`); nothing is written then. The result file
    is written last, because its being complete is what marks the sequence done.
    """
    from costcore.engines.frame_loop import track_frames
    from costcore.video import open_frame_source

    boxes: list[tuple[float, float, float, float]] = [(0.0, 0.0, 0.0, 0.0)] * job.first_index
    seconds: list[float] = [0.0] * job.first_index
    lost = 0
    unreported, last_report = 0, time.perf_counter()
    source = open_frame_source(
        job.frames[job.first_index : job.frame_count],
        cache_bytes=FRAME_CACHE_BYTES,
        prefetch=PREFETCH_FRAMES,
    )
    try:
        for step in track_frames(engine, source, job.box, job.text, cancelled=cancelled):
            boxes.append(tuple(float(v) for v in step.result.box))
            seconds.append(step.seconds)
            lost += bool(step.result.lost)
            unreported += 1
            if on_frames is not None and time.perf_counter() - last_report >= REPORT_INTERVAL:
                on_frames(unreported)
                unreported, last_report = 0, time.perf_counter()
    finally:
        source.close()
        if on_frames is not None and unreported:
            on_frames(unreported)
    if len(boxes) != job.frame_count:  # an engine loop that stopped early must not look done
        raise CostcoreError(f"tracked {len(boxes)} of {job.frame_count} frames")
    write_times(job.times_file, seconds)
    write_results(job.result_file, boxes)
    return len(boxes) - job.first_index, sum(seconds[job.first_index + 1 :]), lost


def run_job(
    engine: TrackerEngine,
    job: SequenceJob,
    *,
    cancelled: Callable[[], bool] | None = None,
    on_frames: Callable[[int], None] | None = None,
    worker: str = "",
) -> SequenceOutcome:
    """:func:`track_sequence`, with every failure turned into an outcome (the run goes on).

    ``KeyboardInterrupt`` is not caught: it stops the whole run.
    """
    started = time.perf_counter()
    try:
        frames, track_seconds, lost = track_sequence(
            engine, job, cancelled=cancelled, on_frames=on_frames
        )
    except Cancelled:
        return SequenceOutcome(job.name, CANCELLED, worker=worker, reason="cancelled")
    except Exception as error:  # one bad sequence (or engine crash on it) must not stop the rest
        wall = time.perf_counter() - started
        return SequenceOutcome(
            job.name, FAILED, wall_seconds=wall, reason=describe_error(error), worker=worker
        )
    wall = time.perf_counter() - started
    return SequenceOutcome(job.name, DONE, frames, track_seconds, wall, lost, worker=worker)
