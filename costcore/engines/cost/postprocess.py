"""From head outputs to one box: TransT's window penalty, candidate choice and clipping."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: TransT keeps the box at least this many pixels wide and tall
MIN_BOX_SIZE = 10.0


@lru_cache(maxsize=8)
def hann_window(side: int) -> np.ndarray:
    """Flattened outer product of ``np.hanning(side)`` (row-major, like the token order), in
    float64 as TransT computes it (the blend with float32 scores is then float64 too)."""
    window = np.outer(np.hanning(side), np.hanning(side)).ravel()
    window.setflags(write=False)
    return window


def choose_candidate(scores: np.ndarray, window_influence: float) -> int:
    """Index of the best token after blending the scores with a Hann window.

    ``(1 - influence) * score + influence * window`` (TransT, influence 0.49): a soft motion
    prior that prefers candidates near the previous position. ``scores`` is flat, row-major.
    """
    side = int(round(np.sqrt(scores.size)))
    if side * side != scores.size:
        raise ValueError(f"{scores.size} scores do not form a square map")
    blended = (1.0 - window_influence) * scores + window_influence * hann_window(side)
    return int(np.argmax(blended))


def clip_state(
    cx: float,
    cy: float,
    w: float,
    h: float,
    width: int,
    height: int,
    min_size: float = MIN_BOX_SIZE,
) -> tuple[float, float, float, float]:
    """TransT's ``_bbox_clip``: centre inside the image, size in [min_size, image size].

    The centre stays inside the frame, so tracking can resume after the target touches a border;
    the size never collapses, so the next search region never becomes degenerate.
    """
    cx = min(max(cx, 0.0), float(width))
    cy = min(max(cy, 0.0), float(height))
    w = max(min_size, min(w, float(width)))
    h = max(min_size, min(h, float(height)))
    return cx, cy, w, h
