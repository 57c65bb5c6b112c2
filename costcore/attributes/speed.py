"""Relative speed, Eq. 1 of VL-SOT500 (the per-frame motion written to ``relative_speed.txt``).

    delta_t = ||p_t - p_{t-1}||_2 / sqrt(s_{t-1} * s_t) / (T_t - T_{t-1})

with ``p`` the box centre ``(x + w/2, y + h/2)``, ``s = sqrt(w * h)`` and ``T`` the frame index
(so ``T_t - T_{t-1} = 1``) or, when ``fps`` is given, the time in seconds (``1 / fps``). Dividing
by the size makes the speed scale-free: 1 means "moved by its own size".
"""

from __future__ import annotations

import numpy as np

from costcore.attributes.presence import boxes_and_presence
from costcore.boxes import centers, sizes


def relative_speed(boxes: object, absent: object | None, fps: float | None = None) -> np.ndarray:
    """Per-frame relative speed ``(N,)``, frame 1 and frames touching absence set to 0.

    ``delta_t`` is defined only when frames ``t`` and ``t-1`` both show the target (see
    :func:`~costcore.attributes.presence.boxes_and_presence`: an empty box counts as absent);
    everywhere else it is 0, as the VL-SOT270 files have it. ``fps`` switches the time base from
    frames to seconds, which multiplies every value by ``fps``.
    """
    array, present = boxes_and_presence(boxes, absent)
    speed = np.zeros(array.shape[0], dtype=np.float64)
    if array.shape[0] < 2:
        return speed
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    defined = _defined(present)
    centre = centers(array)
    size = sizes(array)
    step = np.linalg.norm(centre[1:] - centre[:-1], axis=1)
    scale = np.sqrt(size[1:] * size[:-1])
    dt = 1.0 if fps is None else 1.0 / fps
    with np.errstate(invalid="ignore", divide="ignore"):
        values = step / scale / dt
    speed[1:] = np.where(defined[1:], values, 0.0)
    return speed


def average_relative_speed(boxes: object, absent: object | None, fps: float | None = None) -> float:
    """Mean relative speed over the frames where Eq. 1 is defined.

    Frame 1 and frames where ``t`` or ``t-1`` is absent are left out rather than averaged as 0:
    their 0 means "no measurement", not "did not move", and counting them would make a video
    with many occlusions look slow. Returns 0.0 when no frame pair is measurable.
    """
    array, present = boxes_and_presence(boxes, absent)
    defined = _defined(present)
    if not defined.any():
        return 0.0
    return float(relative_speed(array, ~present, fps)[defined].mean())


def _defined(present: np.ndarray) -> np.ndarray:
    """Frames ``t`` (0-based) whose Eq. 1 value is a measurement: ``t`` and ``t-1`` present."""
    defined = np.zeros_like(present)
    defined[1:] = present[1:] & present[:-1]
    return defined
