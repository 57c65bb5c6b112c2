"""The side of a batch run that lives in a worker process (started with "spawn").

Each worker process builds its engine once, on its own device, and then tracks one sequence
per task until the pool is shut down. It ignores Ctrl+C: the parent catches it and sets the
shared cancel flag, which the running sequence polls before every frame, so a worker stops
between two frames and never half-writes a file. It ends on its own when the parent dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from costcore.batch.devices import isolate_cuda_device
from costcore.batch.job_plan import SequenceJob
from costcore.batch.parent_watch import exit_with_parent
from costcore.batch.sequence_run import SequenceOutcome, describe_error, run_job
from costcore.engines.base import TrackerEngine
from costcore.errors import CostcoreError

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class EngineSpec:
    """How to build the engine in every worker: a registry name (with weights and options), or
    a ``"module:attribute"`` factory for an engine that is not registered (a plug-in, a test).
    """

    name: str
    weights: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    factory: str | None = None

    def create(self, device: str) -> TrackerEngine:
        if self.factory is None:
            from costcore.engines.registry import create_engine

            return create_engine(self.name, weights=self.weights, device=device, **self.options)
        from costcore.engines.registry import EngineInfo

        build = EngineInfo(self.name, "", self.factory).load_factory()
        kwargs: dict[str, Any] = {"device": device, **self.options}
        if self.weights is not None:
            kwargs["weights"] = self.weights
        return build(**kwargs)


# This process's worker: set by initialize_worker, used by the task functions below.
_state: dict[str, Any] = {}


def limit_threads(threads: int | None) -> None:
    """Cap the CPU threads of OpenCV and torch so that N workers do not fight over the cores
    (a variable the user set is respected)."""
    if threads is None:
        return
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, str(threads))
    try:
        import cv2

        cv2.setNumThreads(threads)
    except Exception:  # no OpenCV here: nothing to cap
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def initialize_worker(
    spec: EngineSpec,
    slot: int,
    device: str,
    cancel_flag: Any,
    events: Any,
    threads: int | None,
    parent_pid: int | None = None,
) -> None:
    """Process initializer: must not raise (a failing initializer breaks the pool without a
    message), so a device error is kept and raised by :func:`start_engine` instead.

    ``parent_pid`` is the run's process: the worker ends when it dies (see parent_watch).
    """
    if parent_pid is not None:
        exit_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    error: BaseException | None = None
    engine_device = device
    try:
        engine_device = isolate_cuda_device(device, os.environ)  # before anything touches CUDA
    except CostcoreError as exception:
        error = exception
    limit_threads(threads)
    _state.clear()
    _state.update(
        spec=spec,
        slot=slot,
        device=device,
        engine_device=engine_device,
        cancel=cancel_flag,
        events=events,
        error=error,
        engine=None,
    )


def start_engine() -> tuple[int, str]:
    """First task of every worker: build the engine; returns (process id, description)."""
    if _state.get("error") is not None:
        raise _state["error"]
    engine = _state["spec"].create(_state["engine_device"])
    _state["engine"] = engine
    description = engine.describe()
    if _state["device"].startswith("cuda:"):  # the GPU asked for; inside, it is cuda:0
        description += f" [{_state['device']}]"
    return os.getpid(), description


def _report_frames(count: int) -> None:
    with contextlib.suppress(Exception):  # progress is best effort; tracking goes on
        _state["events"].put(("frames", _state["slot"], count))


def _cancelled() -> bool:
    return bool(_state["cancel"].value)


def process_job(job: SequenceJob) -> SequenceOutcome:
    """Track one sequence with this worker's engine (every failure becomes an outcome)."""
    engine = _state.get("engine")
    if engine is None:
        return SequenceOutcome(job.name, "failed", reason="worker has no engine")
    try:
        return run_job(
            engine,
            job,
            cancelled=_cancelled,
            on_frames=_report_frames,
            worker=_state["device"],
        )
    except Exception as error:  # pragma: no cover - run_job already catches these
        return SequenceOutcome(job.name, "failed", reason=describe_error(error))
