"""How much the view inside a tracked box still looks like the keyframe it started from.

A person reviewing a run notices a box that no longer frames what the keyframe framed: the
target grew out of a box whose size never changed, or the box slid onto the background. The
engine's own score often misses both (CSRT and KCF give none). This probe measures what the
person compares, cheaply (about 30 microseconds a frame): the box's content, in grey, shrunk
to a small patch with the anchor box's aspect ratio (long side 24 px), correlated with the
same patch of the anchor frame (zero-mean normalised cross-correlation: 1 = the same picture
up to brightness and contrast, 0 = unrelated, below 0 = inverted).

The patch keeps the anchor's aspect so a box of the same shape is compared without
distortion; parts of a box outside the frame repeat the border pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from costcore.boxes import Box

#: the long side of the compared patches, in pixels
PATCH_LONG_SIDE = 24


def box_patch(frame: np.ndarray, box: Box, size: tuple[int, int]) -> np.ndarray | None:
    """The box's content in grey, resized to ``size`` (w, h), zero-mean and unit-norm;
    None for a box smaller than 2 px or not finite."""
    x, y, w, h = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w < 2 or h < 2:
        return None
    height, width = frame.shape[:2]
    x0, y0 = math.floor(x), math.floor(y)
    x1, y1 = math.ceil(x + w), math.ceil(y + h)
    inside = frame[max(0, y0) : max(0, min(height, y1)), max(0, x0) : max(0, min(width, x1))]
    if inside.size == 0:
        return None
    crop = inside.mean(axis=2, dtype=np.float32) if inside.ndim == 3 else inside.astype(np.float32)
    pad = (max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width))
    if any(pad):
        crop = cv2.copyMakeBorder(crop, *pad, cv2.BORDER_REPLICATE)
    patch = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).ravel()
    patch -= patch.mean()
    norm = float(np.linalg.norm(patch))
    return patch / norm if norm > 1e-6 else None


def patch_size(box: Box) -> tuple[int, int]:
    """``(w, h)`` of the patches compared with ``box``'s: its aspect, long side 24 px."""
    w, h = max(float(box.w), 1e-6), max(float(box.h), 1e-6)
    scale = PATCH_LONG_SIDE / max(w, h)
    return max(4, round(w * scale)), max(4, round(h * scale))


class AppearanceProbe:
    """Compares boxes in later frames with the anchor's box in its frame."""

    def __init__(self, frame: np.ndarray, box: Box) -> None:
        self.size = patch_size(box)
        self._anchor = box_patch(frame, box, self.size)

    def similarity(self, frame: np.ndarray, box: Box) -> float | None:
        """Correlation of ``box`` in ``frame`` with the anchor (None: nothing to compare,
        e.g. a flat anchor patch or a box too small)."""
        if self._anchor is None:
            return None
        patch = box_patch(frame, box, self.size)
        if patch is None:
            return None
        return float(np.clip(patch @ self._anchor, -1.0, 1.0))
