"""Run an engine over many sequences: in this process, or in one worker process per device.

With one worker the sequences run here, one after the other (simplest to debug, no start-up
cost). With several, each worker is its own single-process pool (``spawn`` start method, so
CUDA is safe) pinned to one device; the parent hands the next sequence to whichever worker
finishes first, so long and short sequences balance themselves. A worker process that dies
(a crash, the OOM killer) fails only the sequence it was on and is restarted.

Ctrl+C: the first one stops handing out sequences and asks the running ones to stop between
two frames (they write nothing); finished files stay. A second one kills the workers.
When this process dies without either (``kill -9``), the workers end with it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from costcore.batch.job_plan import SequenceJob
from costcore.batch.sequence_run import (
    CANCELLED,
    DONE,
    FAILED,
    SequenceOutcome,
    describe_error,
    run_job,
)
from costcore.batch.worker import EngineSpec, initialize_worker, process_job, start_engine
from costcore.errors import CostcoreError

#: how often a worker process that died is started again before its device is given up
MAX_RESTARTS = 3
_POLL_SECONDS = 0.1


class BatchListener:
    """Callbacks a batch run makes, all in the calling thread; override what you need."""

    def worker_started(self, slot: int, device: str, description: str) -> None:
        """Worker ``slot`` built its engine (``description`` as ``engine.describe()``)."""

    def worker_failed(self, slot: int, device: str, reason: str) -> None:
        """Worker ``slot`` could not build its engine, or died too often; it is given up."""

    def sequence_started(self, slot: int, job: SequenceJob) -> None:
        """Worker ``slot`` starts on ``job``."""

    def frames_tracked(self, count: int, slot: int = 0) -> None:
        """Worker ``slot`` tracked ``count`` more frames of its current sequence."""

    def sequence_finished(self, outcome: SequenceOutcome) -> None:
        """A sequence is done, failed or cancelled."""

    def stopping(self, running: int) -> None:
        """Ctrl+C (or ``cancelled()``): ``running`` sequences are being stopped."""


@dataclass
class BatchResult:
    """What a run did: one outcome per sequence it started, and the ones it never started."""

    outcomes: list[SequenceOutcome] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    cancelled: bool = False
    worker_errors: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    def with_status(self, status: str) -> list[SequenceOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]

    @property
    def done(self) -> list[SequenceOutcome]:
        return self.with_status(DONE)

    @property
    def failed(self) -> list[SequenceOutcome]:
        return self.with_status(FAILED)

    @property
    def frames(self) -> int:
        return sum(outcome.frames for outcome in self.done)


def run_batch(
    jobs: Sequence[SequenceJob],
    engine: EngineSpec,
    devices: Sequence[str],
    *,
    listener: BatchListener | None = None,
    cancelled: Callable[[], bool] | None = None,
    processes: bool | None = None,
) -> BatchResult:
    """Track every job with one worker per entry of ``devices`` (see :func:`assign_devices`).

    ``processes`` forces worker processes (True) or this process (False, one worker only);
    by default several devices mean processes. ``cancelled`` is polled like Ctrl+C. An engine
    that cannot be built at all raises (a :class:`CostcoreError` naming the reason).
    """
    if not devices:
        raise CostcoreError("a batch run needs at least one worker device")
    listener = listener or BatchListener()
    cancelled = cancelled or (lambda: False)
    if processes is None:
        processes = len(devices) > 1
    if not processes and len(devices) > 1:
        raise CostcoreError("several workers need worker processes")
    started = time.perf_counter()
    if processes:
        result = _ProcessRun(list(jobs), engine, list(devices), listener, cancelled).run()
    else:
        result = _run_here(list(jobs), engine, devices[0], listener, cancelled)
    result.wall_seconds = time.perf_counter() - started
    return result


def _run_here(
    jobs: list[SequenceJob],
    spec: EngineSpec,
    device: str,
    listener: BatchListener,
    cancelled: Callable[[], bool],
) -> BatchResult:
    result = BatchResult()
    engine = spec.create(device)  # an engine that cannot be built fails the whole run
    listener.worker_started(0, device, engine.describe())
    remaining = deque(jobs)
    current: SequenceJob | None = None

    def report(count: int) -> None:
        listener.frames_tracked(count, 0)

    try:
        while remaining:
            if cancelled():
                result.cancelled = True
                listener.stopping(0)
                break
            current = remaining.popleft()
            listener.sequence_started(0, current)
            outcome = run_job(
                engine, current, cancelled=cancelled, on_frames=report, worker=device
            )  # fmt: skip
            current = None
            result.outcomes.append(outcome)
            listener.sequence_finished(outcome)
            if outcome.status == CANCELLED:
                result.cancelled = True
                break
    except KeyboardInterrupt:
        result.cancelled = True
        listener.stopping(0)
        if current is not None:  # interrupted while tracking it: nothing was written
            outcome = SequenceOutcome(current.name, CANCELLED, reason="interrupted")
            result.outcomes.append(outcome)
            listener.sequence_finished(outcome)
    result.not_started = [job.name for job in remaining]
    return result


@dataclass
class _Slot:
    """One worker: its device and its single-process pool."""

    index: int
    device: str
    executor: ProcessPoolExecutor | None = None
    pid: int | None = None
    events: Any = None  # the worker's progress pipe (a SimpleQueue)
    restarts: int = 0
    ready: bool = False
    retired: bool = False


class _ProcessRun:
    def __init__(
        self,
        jobs: list[SequenceJob],
        spec: EngineSpec,
        devices: list[str],
        listener: BatchListener,
        cancelled: Callable[[], bool],
    ) -> None:
        self.pending = deque(jobs)
        self.spec = spec
        self.listener = listener
        self.cancelled = cancelled
        self.context = multiprocessing.get_context("spawn")
        # Lock-free on purpose: a worker killed at any moment (OOM killer) must not leave a
        # lock held that the others or this process then wait on forever. Hence a raw shared
        # flag for cancelling and one progress pipe per worker (small writes are atomic).
        self.cancel_flag = self.context.RawValue("b", 0)
        self.threads = max(1, (os.cpu_count() or 1) // len(devices))
        self.slots = [_Slot(index, device) for index, device in enumerate(devices)]
        self.running: dict[Future, tuple[_Slot, SequenceJob | None]] = {}
        self.result = BatchResult()
        self.stopping = False
        self.any_ready = False

    # -- workers -------------------------------------------------------------------------
    def _start(self, slot: _Slot) -> None:
        slot.ready = False
        if slot.events is not None:  # a dead predecessor's pipe: read what it said, close it
            self._drain_slot(slot)
            slot.events.close()
        slot.events = self.context.SimpleQueue()
        slot.executor = ProcessPoolExecutor(
            max_workers=1,
            mp_context=self.context,
            initializer=initialize_worker,
            initargs=(
                self.spec,
                slot.index,
                slot.device,
                self.cancel_flag,
                slot.events,
                self.threads,
                os.getpid(),
            ),
        )
        self.running[slot.executor.submit(start_engine)] = (slot, None)

    def _retire(self, slot: _Slot, reason: str) -> None:
        slot.retired = True
        self.result.worker_errors.append(f"worker {slot.index} ({slot.device}): {reason}")
        self.listener.worker_failed(slot.index, slot.device, reason)
        if slot.executor is not None:
            slot.executor.shutdown(wait=False, cancel_futures=True)

    def _feed(self, slot: _Slot) -> None:
        if not self.stopping and self.cancelled():
            self._stop()
        if self.stopping or not self.pending or slot.retired or slot.executor is None:
            return
        job = self.pending.popleft()
        self.running[slot.executor.submit(process_job, job)] = (slot, job)
        self.listener.sequence_started(slot.index, job)  # after: a raising listener loses nothing

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> BatchResult:
        killed = False
        try:
            for slot in self.slots:
                self._start(slot)
            while self.running:
                try:
                    self._step()
                except KeyboardInterrupt:
                    if self.stopping:
                        self._kill()
                        killed = True
                        break
                    self._stop()
        finally:
            self._drain_events()
            for slot in self.slots:
                if slot.executor is not None:
                    slot.executor.shutdown(wait=not killed, cancel_futures=True)
            self._drain_events()
            for slot in self.slots:
                if slot.events is not None:
                    slot.events.close()
        if killed:
            for slot, job in self.running.values():
                if job is not None:
                    self.result.outcomes.append(
                        SequenceOutcome(job.name, CANCELLED, reason="killed", worker=slot.device)
                    )
        if not self.any_ready and not self.result.outcomes:
            reasons = "; ".join(self.result.worker_errors) or "no worker started"
            raise CostcoreError(f"no worker could start: {reasons}")
        if self.pending and not self.stopping:  # every worker gave up
            last = self.result.worker_errors[-1] if self.result.worker_errors else "?"
            reason = f"not run: no worker left ({last})"
            for job in self.pending:
                outcome = SequenceOutcome(job.name, FAILED, reason=reason)
                self.result.outcomes.append(outcome)
                self.listener.sequence_finished(outcome)
            self.pending.clear()
        self.result.not_started = [job.name for job in self.pending]
        self.result.cancelled = self.stopping
        return self.result

    def _step(self) -> None:
        done, _ = wait(list(self.running), timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
        self._drain_events()
        if not self.stopping and self.cancelled():
            self._stop()
        for future in done:
            slot, job = self.running.pop(future)
            if job is None:
                self._started(slot, future)
            else:
                self._finished(slot, job, future)

    def _started(self, slot: _Slot, future: Future) -> None:
        try:
            slot.pid, description = future.result()
        except BrokenProcessPool:
            self._retire(slot, "the worker process died while starting")
            return
        except Exception as error:
            self._retire(slot, describe_error(error))
            return
        slot.ready = self.any_ready = True
        self.listener.worker_started(slot.index, slot.device, description)
        self._feed(slot)

    def _finished(self, slot: _Slot, job: SequenceJob, future: Future) -> None:
        died = False
        try:
            outcome = future.result()
        except BrokenProcessPool:
            died = True
            reason = "the worker process died while tracking it (a crash, or out of memory)"
            outcome = SequenceOutcome(job.name, FAILED, reason=reason, worker=slot.device)
        except Exception as error:  # e.g. a job that cannot be sent to the worker
            outcome = SequenceOutcome(
                job.name, FAILED, reason=describe_error(error), worker=slot.device
            )
        self.result.outcomes.append(outcome)
        self.listener.sequence_finished(outcome)
        if died:
            slot.executor.shutdown(wait=False, cancel_futures=True)
            slot.executor = None
            if self.stopping or not self.pending:
                return
            if slot.restarts >= MAX_RESTARTS:
                self._retire(slot, f"the worker process died {slot.restarts + 1} times")
                return
            slot.restarts += 1
            self._start(slot)
            return
        self._feed(slot)

    def _drain_events(self) -> None:
        for slot in self.slots:
            self._drain_slot(slot)

    def _drain_slot(self, slot: _Slot) -> None:
        events = slot.events
        if events is None:
            return
        try:
            while not events.empty():
                kind, index, value = events.get()
                if kind == "frames":
                    self.listener.frames_tracked(value, index)
        except (OSError, ValueError, EOFError):  # closed, or a message we cannot read
            return

    def _stop(self) -> None:
        self.stopping = True
        self.cancel_flag.value = 1
        running = sum(1 for _, job in self.running.values() if job is not None)
        self.listener.stopping(running)

    def _kill(self) -> None:
        """Second Ctrl+C: end the worker processes this run started (by their ids)."""
        for slot in self.slots:
            busy = any(s is slot for s, _ in self.running.values())
            if slot.pid is not None and busy:
                with contextlib.suppress(OSError):  # it may have ended on its own
                    os.kill(slot.pid, signal.SIGTERM)
