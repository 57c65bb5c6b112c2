"""Turn a device request ("auto", "cpu", "cuda", "cuda:1") into a ``torch.device``.

Shared by every torch engine and by training, so it sits below both: importing it imports
torch, nothing else from costcore. (The device lists of batch runs, which must work without
torch, are :mod:`costcore.batch.devices`.)
"""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; asking for CUDA without one is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("CUDA was requested but no CUDA device is available")
    return resolved
