"""Axis-aligned boxes as ``x, y, w, h`` (left, top, width, height; pixels).

Arrays of boxes are ``float64`` of shape ``(N, 4)``. The right edge is ``x + w`` (the
evaluation toolkit's convention), the centre ``x + w / 2``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Box(NamedTuple):
    """One box; immutable so it can be shared between undo states safely."""

    x: float
    y: float
    w: float
    h: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    @property
    def size(self) -> float:
        """Geometric-mean side length sqrt(w*h), the 'size' s used by VL-SOT500."""
        return float(np.sqrt(max(self.w, 0.0) * max(self.h, 0.0)))

    def is_valid(self) -> bool:
        return bool(np.all(np.isfinite(self)) and self.w > 0 and self.h > 0)

    def clipped(self, width: int, height: int) -> Box:
        """The part of the box inside a ``width`` x ``height`` image (may be empty)."""
        x0 = min(max(self.x, 0.0), float(width))
        y0 = min(max(self.y, 0.0), float(height))
        x1 = min(max(self.x + self.w, 0.0), float(width))
        y1 = min(max(self.y + self.h, 0.0), float(height))
        return Box(x0, y0, x1 - x0, y1 - y0)

    def touches_border(self, width: int, height: int, margin: float = 1.0) -> bool:
        """True when the box reaches within ``margin`` pixels of an image edge (or beyond)."""
        return (
            self.x <= margin
            or self.y <= margin
            or self.x + self.w >= width - margin
            or self.y + self.h >= height - margin
        )


def as_box_array(boxes: object) -> np.ndarray:
    """Convert anything box-like to a float64 ``(N, 4)`` array (copy)."""
    array = np.array(boxes, dtype=np.float64)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"expected boxes of shape (N, 4), got {array.shape}")
    return array


def centers(boxes: np.ndarray) -> np.ndarray:
    """Box centres ``(N, 2)``."""
    return boxes[:, :2] + boxes[:, 2:] / 2.0


def sizes(boxes: np.ndarray) -> np.ndarray:
    """Geometric-mean sizes sqrt(w*h) ``(N,)`` (0 for empty boxes)."""
    return np.sqrt(np.clip(boxes[:, 2], 0, None) * np.clip(boxes[:, 3], 0, None))


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of two ``(N, 4)`` box arrays; 0 where either box is empty."""
    a = as_box_array(a)
    b = as_box_array(b)
    left = np.maximum(a[:, 0], b[:, 0])
    top = np.maximum(a[:, 1], b[:, 1])
    right = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    bottom = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out
