"""Batch tracking: run an engine over every sequence of a dataset, resumably, on many workers.

What ``python -m costcore run`` is made of, usable on its own::

    plan = plan_batch(dataset_dir, results_dir, "COST")          # to do, done, failed
    devices = assign_devices(workers=None, devices=gpu_devices(4))  # one worker per GPU
    result = run_batch(plan.jobs, EngineSpec("cost", weights), devices, listener=...)

Results are the toolkit's files, ``<results>/<tracker>/<sequence>.txt`` (``%.3f`` x,y,w,h, one
line per frame, line 1 the initial ground-truth box) and
``<results>/<tracker>/times/<sequence>_time.txt`` (``%.8f`` seconds per frame), each written
atomically; a sequence whose two files are complete is skipped the next time (resumable).
"""

from costcore.batch.devices import (
    DeviceError,
    assign_devices,
    check_cuda_devices,
    gpu_devices,
    isolate_cuda_device,
    parse_device_list,
)
from costcore.batch.job_plan import (
    BatchPlan,
    SequenceFailure,
    SequenceJob,
    is_complete,
    make_job,
    plan_batch,
    result_file,
    times_file,
)
from costcore.batch.runner import BatchListener, BatchResult, run_batch
from costcore.batch.sequence_run import SequenceOutcome, run_job, track_sequence
from costcore.batch.worker import EngineSpec

__all__ = [
    "BatchListener",
    "BatchPlan",
    "BatchResult",
    "DeviceError",
    "EngineSpec",
    "SequenceFailure",
    "SequenceJob",
    "SequenceOutcome",
    "assign_devices",
    "check_cuda_devices",
    "gpu_devices",
    "is_complete",
    "isolate_cuda_device",
    "make_job",
    "parse_device_list",
    "plan_batch",
    "result_file",
    "run_batch",
    "run_job",
    "times_file",
    "track_sequence",
]
