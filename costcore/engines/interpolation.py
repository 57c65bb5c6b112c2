"""Linear interpolation of boxes between keyframes.

Not a stepping engine: it needs the boxes at both ends of a gap, so the app calls it after the
annotator has placed two keyframes, to fill the frames between (provenance "interpolated").
x, y, w and h are interpolated independently, which moves the box centre and size linearly too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from costcore.boxes import Box

BoxLike = Box | Sequence[float] | np.ndarray
#: keyframe index -> box; ``None`` marks a keyframe where the target is absent
Keyframes = Mapping[int, BoxLike | None] | Iterable[tuple[int, BoxLike | None]]


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


def interpolate_keyframes(keyframes: Keyframes) -> dict[int, Box]:
    """Boxes for every frame from the first to the last keyframe, keyframes included unchanged.

    Frames before the first or after the last keyframe are not in the result (no
    extrapolation). A keyframe given as ``None`` is an absent target: the gaps on either side of
    it are left out, since there is no box to move towards.
    """
    items = list(keyframes.items()) if isinstance(keyframes, Mapping) else list(keyframes)
    boxes: dict[int, Box | None] = {}
    for index, value in items:
        index = int(index)
        if index < 0:
            raise ValueError(f"keyframe indices are 0-based frame numbers, got {index}")
        if index in boxes:
            raise ValueError(f"the keyframe at frame {index + 1} is given twice")
        boxes[index] = None if value is None else _as_box(value, index)
    ordered = sorted(boxes)
    result: dict[int, Box] = {i: b for i, b in boxes.items() if b is not None}
    for start, end in zip(ordered, ordered[1:], strict=False):
        start_box, end_box = boxes[start], boxes[end]
        if start_box is not None and end_box is not None:
            result.update(interpolate_segment(start, start_box, end, end_box))
    return dict(sorted(result.items()))
