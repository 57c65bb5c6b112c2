"""What a tracking run cost: frames, speed and peak memory, for the report at the end of a run.

Speed: the engine's own time per tracked frame (initialisation and decoding excluded) and the
whole run's frames per wall-clock second. Memory: the process's peak resident set size
(``resource.getrusage``, so everything the process ever held - imports, decoding and the
engine), and on a CUDA device torch's peak allocated memory since :func:`reset_cuda_peak` (what
tensors used; the caching allocator may reserve more). Standard library only; torch is asked
only when it is already imported, so a CSRT run never imports it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

MIB = 1024 * 1024


def peak_rss_bytes() -> int | None:
    """The process's peak resident set size in bytes; None where the OS does not say."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux reports KiB


def _cuda_device(device: str):  # noqa: ANN202
    torch = sys.modules.get("torch")
    if torch is None or not str(device).startswith("cuda") or not torch.cuda.is_available():
        return None
    return torch, torch.device(device)


def reset_cuda_peak(device: str) -> None:
    """Start counting CUDA peak memory now (no-op off CUDA)."""
    found = _cuda_device(device)
    if found is not None:
        torch, cuda = found
        torch.cuda.reset_peak_memory_stats(cuda)


def cuda_peak_bytes(device: str) -> int | None:
    """Peak CUDA memory allocated by tensors since :func:`reset_cuda_peak`; None off CUDA."""
    found = _cuda_device(device)
    if found is None:
        return None
    torch, cuda = found
    return int(torch.cuda.max_memory_allocated(cuda))


@dataclass(frozen=True)
class RunReport:
    """One run's numbers; ``engine_seconds`` excludes the initialisation frame."""

    frames: int
    engine_seconds: float
    wall_seconds: float
    cpu_peak_rss: int | None = None
    cuda_peak_allocated: int | None = None
    lost_frames: int = 0

    @property
    def engine_fps(self) -> float:
        """Tracked frames per second of engine time (the first frame is initialisation)."""
        return max(self.frames - 1, 0) / max(self.engine_seconds, 1e-9)

    @property
    def overall_fps(self) -> float:
        """Frames per wall-clock second, decoding, initialisation and writing included."""
        return self.frames / max(self.wall_seconds, 1e-9)

    def speed_line(self) -> str:
        lost = f", target lost on {self.lost_frames} frames" if self.lost_frames else ""
        return (
            f"{self.frames} frames, {self.engine_fps:.1f} FPS tracking, "
            f"{self.overall_fps:.1f} FPS overall{lost}"
        )

    def memory_line(self) -> str:
        parts = []
        if self.cpu_peak_rss is not None:
            parts.append(f"{self.cpu_peak_rss / MIB:.0f} MiB CPU RSS (process)")
        if self.cuda_peak_allocated is not None:
            parts.append(f"{self.cuda_peak_allocated / MIB:.0f} MiB CUDA allocated")
        return "peak memory: " + (", ".join(parts) if parts else "not measurable here")

    def lines(self) -> list[str]:
        return [self.speed_line(), self.memory_line()]
