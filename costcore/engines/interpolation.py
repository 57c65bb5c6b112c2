"""Linear interpolation of boxes between keyframes.

Not a stepping engine: it needs the boxes at both ends of a gap, so the app calls it after the
annotator has placed two keyframes, to fill the frames between (provenance "interpolated").
x, y, w and h are interpolated independently, which moves the box centre and size linearly too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from costcore.boxes import Box

BoxLike = Box | Sequence[float] | np.ndarray


def _as_box(value: BoxLike, index: int) -> Box:
    values = [float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1)]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(
            f"keyframe at frame {index + 1}: expected 4 finite numbers x, y, w, h, got {value!r}"
        )
    return Box(*values)


def lerp_box(start: BoxLike, end: BoxLike, t: float) -> Box:
    """The box a fraction ``t`` of the way from ``start`` (t=0) to ``end`` (t=1)."""
    a = np.asarray(start, dtype=np.float64).reshape(4)
    b = np.asarray(end, dtype=np.float64).reshape(4)
    return Box(*(float(v) for v in a + (b - a) * t))


def interpolate_segment(
    start_index: int, start_box: BoxLike, end_index: int, end_box: BoxLike
) -> dict[int, Box]:
    """Boxes for the frames strictly between two keyframes (empty when they are adjacent)."""
    if end_index <= start_index:
        raise ValueError(
            f"the keyframe at frame {end_index + 1} does not come after the keyframe at "
            f"frame {start_index + 1}"
        )
    a, b = _as_box(start_box, start_index), _as_box(end_box, end_index)
    span = end_index - start_index
    return {i: lerp_box(a, b, (i - start_index) / span) for i in range(start_index + 1, end_index)}
