"""Which frames show the target: the one notion of "present" every attribute rule shares."""

from __future__ import annotations

import numpy as np

from costcore.boxes import as_box_array


def boxes_and_presence(boxes: object, absent: object | None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(boxes (N, 4) float64, present (N,) bool)``.

    A frame is present when it is not flagged absent *and* its box is finite with positive width
    and height: an empty or NaN box (``0,0,0,0`` in VL-SOT500, ``NaN`` rows in UAV123) cannot
    give a centre or a size, so it counts as absent whatever the flag says. ``absent=None``
    means "no flags", presence then comes from the boxes alone.
    """
    raw = np.asarray(boxes, dtype=np.float64)
    array = np.zeros((0, 4)) if raw.size == 0 else as_box_array(raw)
    with np.errstate(invalid="ignore"):
        present = np.isfinite(array).all(axis=1) & (array[:, 2] > 0) & (array[:, 3] > 0)
    if absent is not None:
        flags = np.asarray(absent, dtype=bool).reshape(-1)
        if flags.shape[0] != array.shape[0]:
            raise ValueError(f"{array.shape[0]} boxes but {flags.shape[0]} absent flags")
        present &= ~flags
    return array, present


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of ``True`` in a 1-D bool array as ``(first, last)`` 0-based inclusive pairs."""
    padded = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]
