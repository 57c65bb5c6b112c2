"""Writing tracker results in the evaluation toolkit's format (DESIGN.md §4).

A result file has one ``x,y,w,h`` line per frame, ``%.3f``, comma-separated; a times file one
``%.8f`` number of seconds per line. Both are written atomically (temporary sibling, then
rename), so an interrupted run never leaves a half file that looks finished. The reader of the
same format is :func:`costcore.evaluation.read_result_file`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from costcore.fileio import atomic_write_text

BoxLike = Sequence[float]


def format_results(boxes: Iterable[BoxLike]) -> str:
    """The toolkit's tracker-result text: ``%.3f`` x,y,w,h, comma-separated, one per line."""
    lines = []
    for box in boxes:
        x, y, w, h = box
        lines.append(f"{x:.3f},{y:.3f},{w:.3f},{h:.3f}\n")
    return "".join(lines)


def format_times(seconds: Iterable[float]) -> str:
    """The toolkit's times file: one ``%.8f`` number of seconds per line."""
    return "".join(f"{s:.8f}\n" for s in seconds)


def write_results(path: str | Path, boxes: Iterable[BoxLike]) -> None:
    """Write a result file atomically (folders are created as needed)."""
    atomic_write_text(path, format_results(boxes))


def write_times(path: str | Path, seconds: Iterable[float]) -> None:
    """Write a times file atomically (folders are created as needed)."""
    atomic_write_text(path, format_times(seconds))
