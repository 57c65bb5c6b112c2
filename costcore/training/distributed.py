"""Several processes through torchrun: torch.distributed + DistributedDataParallel, nothing else.

``torchrun --nproc_per_node N -m costcore train ...`` (or ``python -m torch.distributed.run``)
sets RANK, WORLD_SIZE and LOCAL_RANK; :func:`init_distributed` then joins the process group
(NCCL on CUDA, gloo on CPU) and picks ``cuda:LOCAL_RANK``. Without those variables training
runs in one process. Rank 0 alone writes files (checkpoints, logs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from costcore.torch_device import resolve_device


@dataclass(frozen=True)
class DistributedContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialized_here: bool = False

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistributedContext:
    """Join torchrun's process group when launched by it; otherwise a one-process context."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(device=resolve_device(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device)
    if resolved.type == "cuda":
        resolved = torch.device("cuda", local_rank)
        torch.cuda.set_device(resolved)
    backend = "nccl" if resolved.type == "cuda" else "gloo"
    initialized_here = False
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
        initialized_here = True
    return DistributedContext(rank, world_size, local_rank, resolved, initialized_here)


def any_process(flag: bool, context: DistributedContext) -> bool:
    """True when ``flag`` is True in any process (every process must call this together)."""
    if not context.enabled:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=_collective_device(context))
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def mean_over_processes(values: list[float], context: DistributedContext) -> list[float]:
    if not context.enabled:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=_collective_device(context))
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return (tensor / context.world_size).tolist()


def barrier(context: DistributedContext) -> None:
    if context.enabled:
        if context.device.type == "cuda":
            dist.barrier(device_ids=[context.device.index])
        else:
            dist.barrier()


def shutdown(context: DistributedContext) -> None:
    if context.initialized_here and dist.is_initialized():
        dist.destroy_process_group()


def _collective_device(context: DistributedContext) -> torch.device:
    return context.device if context.device.type == "cuda" else torch.device("cpu")
