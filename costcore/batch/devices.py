"""Which device each worker of a batch run computes on.

One worker process per GPU is how a multi-GPU machine is used: ``--gpus 4`` (or ``--devices
cuda:0,cuda:1,cuda:2,cuda:3``) starts four workers, worker i on ``cuda:i``; ``--workers 8 --gpus
4`` puts two workers on each GPU (round robin). The functions here are pure (no torch, no CUDA),
so the assignment is tested without a GPU; :func:`isolate_cuda_device` is what a worker process
calls first, before any CUDA work, so that it can only ever touch its own GPU.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, MutableMapping, Sequence

from costcore.errors import CostcoreError

_DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
_CUDA_INDEX = re.compile(r"^cuda:(\d+)$")


class DeviceError(CostcoreError):
    """A device list that cannot be honoured (bad name, a GPU that does not exist)."""


def check_device_name(device: str) -> str:
    """``device`` if it is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, else a DeviceError."""
    device = device.strip()
    if not _DEVICE.match(device):
        raise DeviceError(f"expected auto, cpu, cuda or cuda:N as a device, got {device!r}")
    return device


def parse_device_list(text: str) -> list[str]:
    """``"cuda:0,cuda:1"`` -> ``["cuda:0", "cuda:1"]``; bare numbers mean CUDA (``"0,1"``)."""
    devices = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        devices.append(f"cuda:{item}" if item.isdigit() else check_device_name(item))
    if not devices:
        raise DeviceError(f"no device in {text!r}")
    return devices


def gpu_devices(count: int) -> list[str]:
    """The first ``count`` CUDA devices: ``cuda:0 .. cuda:count-1``."""
    if count < 1:
        raise DeviceError(f"the number of GPUs must be at least 1, got {count}")
    return [f"cuda:{index}" for index in range(count)]


def assign_devices(
    workers: int | None, devices: Sequence[str] | None, default: str = "auto"
) -> list[str]:
    """One device per worker: round robin over ``devices``, or ``default`` for every worker.

    ``workers`` defaults to one per listed device (one process per GPU), else 1. Fewer workers
    than devices leaves the last devices unused, which the caller should say.
    """
    if devices is not None and not devices:
        raise DeviceError("an empty device list")
    if workers is None:
        workers = len(devices) if devices else 1
    if workers < 1:
        raise DeviceError(f"the number of workers must be at least 1, got {workers}")
    if not devices:
        return [check_device_name(default)] * workers
    devices = [check_device_name(device) for device in devices]
    return [devices[index % len(devices)] for index in range(workers)]


def cuda_indices(devices: Sequence[str]) -> list[int]:
    """The explicit CUDA indices named in ``devices`` (``cuda`` alone means index 0)."""
    indices = []
    for device in devices:
        match = _CUDA_INDEX.match(device)
        if match:
            indices.append(int(match.group(1)))
        elif device == "cuda":
            indices.append(0)
    return indices


def check_cuda_devices(devices: Sequence[str], count: int | Callable[[], int]) -> None:
    """Raise a :class:`DeviceError` when ``devices`` name a GPU beyond the ``count`` present.

    ``count`` may be a function (e.g. ``torch.cuda.device_count``), called only when a CUDA
    device is named at all, so CPU runs never import torch for this.
    """
    wanted = cuda_indices(devices)
    if not wanted:
        return
    present = count() if callable(count) else count
    missing = sorted({index for index in wanted if index >= present})
    if missing:
        names = ", ".join(f"cuda:{index}" for index in missing)
        have = "no CUDA device" if present == 0 else f"only {present} CUDA device(s)"
        raise DeviceError(f"{names} requested, but this machine has {have}")


def torch_cuda_count() -> int:
    """How many CUDA devices torch sees (0 without torch or CUDA); creates no CUDA context."""
    try:
        import torch
    except ImportError:
        return 0
    try:
        return int(torch.cuda.device_count())
    except Exception:  # a broken driver counts as no GPU; the engine will say more
        return 0


def isolate_cuda_device(device: str, environ: MutableMapping[str, str]) -> str:
    """Make ``cuda:k`` the only GPU this process can see; returns the name to use inside it.

    Sets ``CUDA_VISIBLE_DEVICES`` to the k-th visible GPU (through any list the parent already
    had, e.g. from a cluster scheduler) and returns ``cuda:0``: stray CUDA calls without an
    explicit device (a library's default stream, a timing event) then land on this worker's
    GPU, not on GPU 0. Must run before CUDA is initialised in the process; if it already is
    (torch imported and used), nothing is changed and ``device`` is returned as it is, which
    is still correct for every call that names the device.
    """
    match = _CUDA_INDEX.match(device)
    if not match:
        return device
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_initialized():
                return device
        except AttributeError:  # a stub or a very old torch: do not risk it
            return device
    index = int(match.group(1))
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:  # set, even empty (= no GPU visible): index through it
        entries = [entry.strip() for entry in visible.split(",") if entry.strip()]
        if index >= len(entries):
            raise DeviceError(
                f"{device} requested, but CUDA_VISIBLE_DEVICES={visible} lists {len(entries)}"
            )
        physical = entries[index]
    else:
        physical = str(index)
    environ["CUDA_VISIBLE_DEVICES"] = physical
    return "cuda:0"
