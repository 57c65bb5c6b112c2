"""OSTrack's crop geometry (``sample_target``), used by All-in-One and other OSTrack-based trackers.

It differs from TransT's (:mod:`costcore.crops.transt`), so it has its own module:

- side ``ceil(sqrt(w h) * factor)`` (TransT: context added to each side);
- the crop is cut at the integer pixel ``round(cx - side / 2)`` (Python's round, halves to
  even), so its pixels and the box mapping (which uses the unrounded centre) disagree by up to
  half a pixel - as in the released trackers, whose weights expect exactly these crops;
- pixels outside the image are black (not the mean colour), and when the crop passes the right
  or bottom edge the last image column or row is replaced by black as well (OSTrack pads by
  ``x2 - W + 1``);
- then ``cv2.resize`` (bilinear) to the output size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from costcore.boxes import Box

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class OSTrackCrop:
    """Where a crop was cut: the integer square ``(x1, y1, side)`` and the resize factor."""

    x1: int
    y1: int
    side: int
    output_size: int

    @property
    def resize_factor(self) -> float:
        """Crop pixels per frame pixel (OSTrack's ``resize_factor``)."""
        return self.output_size / self.side

    @property
    def region(self) -> Box:
        """The square actually cut, in frame coordinates (may extend past the image)."""
        return Box(float(self.x1), float(self.y1), float(self.side), float(self.side))


def crop_side(width: float, height: float, factor: float) -> int:
    """OSTrack's crop side; a box too small for one pixel is an error, as in OSTrack."""
    side = math.ceil(math.sqrt(width * height) * factor)
    if side < 1:
        raise ValueError(f"the box {width} x {height} is too small to crop")
    return side


def sample_target(
    frame: np.ndarray, box: Box | tuple[float, float, float, float], factor: float, output_size: int
) -> tuple[np.ndarray, OSTrackCrop]:
    """The ``output_size`` square crop around ``box`` (x, y, w, h), as OSTrack cuts it."""
    x, y, w, h = (float(v) for v in box)
    side = crop_side(w, h, factor)
    x1 = round(x + 0.5 * w - side * 0.5)
    y1 = round(y + 0.5 * h - side * 0.5)
    x2, y2 = x1 + side, y1 + side
    height, width = frame.shape[:2]
    x1_pad, y1_pad = max(0, -x1), max(0, -y1)
    x2_pad, y2_pad = max(x2 - width + 1, 0), max(y2 - height + 1, 0)
    inside = frame[y1 + y1_pad : y2 - y2_pad, x1 + x1_pad : x2 - x2_pad, :]
    padded = cv2.copyMakeBorder(inside, y1_pad, y2_pad, x1_pad, x2_pad, cv2.BORDER_CONSTANT)
    patch = cv2.resize(padded, (output_size, output_size))
    return patch, OSTrackCrop(x1, y1, side, output_size)


def map_box_back(
    pred: tuple[float, float, float, float] | list[float],
    previous: tuple[float, float, float, float] | list[float],
    search_size: int,
    resize_factor: float,
) -> list[float]:
    """OSTrack's ``map_box_back``: a box found in the search crop, ``(cx, cy, w, h)`` already
    scaled to frame pixels, as ``(x, y, w, h)`` in the frame. The crop was centred on the
    ``previous`` box's centre; like OSTrack, this uses that unrounded centre, not the integer
    pixel the crop was cut at."""
    x, y, w, h = previous
    cx_prev, cy_prev = x + 0.5 * w, y + 0.5 * h
    cx, cy, pw, ph = pred
    half_side = 0.5 * search_size / resize_factor
    cx_real = cx + (cx_prev - half_side)
    cy_real = cy + (cy_prev - half_side)
    return [cx_real - 0.5 * pw, cy_real - 0.5 * ph, pw, ph]


def hann2d_centered(size: int) -> torch.Tensor:
    """OSTrack's centred cosine window ``(1, 1, size, size)``, float32 as OSTrack computes it.

    1-D: ``0.5 (1 - cos(2 pi k / (size + 1)))`` for k = 1..size, which never reaches zero at
    the ends (unlike ``np.hanning``); 2-D: the outer product.
    """
    import torch

    k = torch.arange(1, size + 1).float()
    window = 0.5 * (1 - torch.cos((2 * math.pi / (size + 1)) * k))
    return window.reshape(1, 1, -1, 1) * window.reshape(1, 1, 1, -1)


def clip_box(
    box: tuple[float, float, float, float], height: int, width: int, margin: float = 0.0
) -> list[float]:
    """OSTrack's ``clip_box``: keep at least ``margin`` pixels of the box inside the image."""
    x1, y1, w, h = box
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0, x1), width - margin)
    x2 = min(max(margin, x2), width)
    y1 = min(max(0, y1), height - margin)
    y2 = min(max(margin, y2), height)
    w = max(margin, x2 - x1)
    h = max(margin, y2 - y1)
    return [x1, y1, w, h]
