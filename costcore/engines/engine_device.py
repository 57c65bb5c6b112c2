"""The device a torch engine runs on, asked for by its factory before any weights are read.

Every torch engine's factory starts the same way: the packages it needs must import, and the
device request ("auto", "cpu", "cuda:1") must name a device there is. Both failures are the
user's to fix, so they come back as one :class:`EngineError` line (which the CLI and the app
report), not as an ImportError or a torch error.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from costcore.engines.errors import EngineError

if TYPE_CHECKING:
    import torch


def engine_device(
    engine: str, device: str | torch.device, packages: tuple[str, ...] = ("torch",)
) -> torch.device:
    """``device`` resolved by :func:`costcore.torch_device.resolve_device` once ``packages``
    import; an EngineError naming ``engine`` (its label, e.g. "All-in-One") otherwise."""
    try:
        for package in packages:
            importlib.import_module(package)
        from costcore.torch_device import resolve_device
    except ImportError as error:
        needs = " and ".join(packages)
        raise EngineError(f"the {engine} engine needs {needs} ({error})") from error
    try:
        return resolve_device(device)
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"device {device!r}: {error}") from error


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work, so a stage's timing is its work, not its launch
    (CUDA runs asynchronously; the CPU needs no wait)."""
    if device.type == "cuda":
        import torch

        torch.cuda.synchronize(device)
