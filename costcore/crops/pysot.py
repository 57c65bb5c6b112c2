"""The pysot crop (``get_subwindow``), as TransT's tracker, VLT_TT and TransInMo cut theirs.

TransT's ``pytracking/tracker/base/basetracker.py`` and SOTS' ``siam_crop(..., pysot_crop=True)``
both cut this way; the COST/TransT and VLT_TT engines use it online.

A square of ``side`` pixels centred on ``(cx, cy)``: its first pixel is
``floor(c - (side + 1) / 2 + 0.5)``, it spans ``side`` whole pixels, pixels outside the image
take the first frame's mean colour *truncated to integers* (the mean is written into a uint8
image), and the square is resized with ``cv2.resize`` (bilinear) unless it already has the
output size. It differs from the sub-pixel crop of :mod:`costcore.crops.transt` (training)
and from OSTrack's (:mod:`costcore.crops.ostrack`), so it has its own module.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from costcore.boxes import Box
from costcore.crops.large import sample_square, too_large_to_build


@dataclass(frozen=True)
class PysotCrop:
    """Where the crop was cut: first pixel ``(x0, y0)`` and ``side`` (frame pixels)."""

    x0: float
    y0: float
    side: float

    @property
    def region(self) -> Box:
        """The square in frame coordinates (may extend past the image)."""
        return Box(float(self.x0), float(self.y0), float(self.side), float(self.side))


def pysot_crop(
    image: np.ndarray, center: tuple[float, float], output_size: int, side: float, fill: np.ndarray
) -> tuple[np.ndarray, PysotCrop]:
    """The ``output_size`` square crop of ``side`` pixels around ``center``, as SOTS cuts it.

    The authors pad the whole image before cutting; every padded pixel is the fill colour, so
    the square is built directly (the same bytes, without copying a 1080p frame per crop). A
    square too large to build (a box grown far past the frame) is sampled from the frame
    (:mod:`costcore.crops.large`).
    """
    rows, cols = image.shape[:2]
    c = (side + 1) / 2
    x0 = float(np.floor(center[0] - c + 0.5))
    y0 = float(np.floor(center[1] - c + 0.5))
    crop = PysotCrop(x0, y0, float(side))
    size = int(side)  # the authors' slices span int(side) pixels
    left, top = int(x0), int(y0)
    x1, y1 = max(left, 0), max(top, 0)
    x2, y2 = min(left + size, cols), min(top + size, rows)
    channels = image.shape[2]
    if too_large_to_build(size, channels) and output_size != size:
        # the fill goes into uint8 pixels: truncated, as in SOTS
        colour = [float(int(value)) for value in np.broadcast_to(fill, (channels,))]
        return sample_square(image, left, top, size, output_size, colour), crop
    if (x1, y1, x2, y2) == (left, top, left + size, top + size):
        patch = image[y1:y2, x1:x2]
    else:
        patch = np.empty((size, size, channels), np.uint8)
        patch[:] = fill  # a float colour written into uint8 pixels: truncated, as in SOTS
        if x2 > x1 and y2 > y1:
            patch[y1 - top : y2 - top, x1 - left : x2 - left] = image[y1:y2, x1:x2]
    if not np.array_equal(output_size, side):
        patch = cv2.resize(patch, (output_size, output_size))
    return patch, crop
