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
    """The ``output_size`` square crop of ``side`` pixels around ``center``, as SOTS cuts it."""
    sz = side
    rows, cols, channels = image.shape
    c = (side + 1) / 2
    context_xmin = np.floor(center[0] - c + 0.5)
    context_ymin = np.floor(center[1] - c + 0.5)
    context_xmax = context_xmin + sz - 1
    context_ymax = context_ymin + sz - 1
    crop = PysotCrop(float(context_xmin), float(context_ymin), float(sz))
    left_pad = int(max(0.0, -context_xmin))
    top_pad = int(max(0.0, -context_ymin))
    right_pad = int(max(0.0, context_xmax - cols + 1))
    bottom_pad = int(max(0.0, context_ymax - rows + 1))
    context_xmin += left_pad
    context_xmax += left_pad
    context_ymin += top_pad
    context_ymax += top_pad
    if any([top_pad, bottom_pad, left_pad, right_pad]):
        padded = np.zeros(
            (rows + top_pad + bottom_pad, cols + left_pad + right_pad, channels), np.uint8
        )
        padded[top_pad : top_pad + rows, left_pad : left_pad + cols, :] = image
        # a float colour written into uint8 pixels: numpy truncates, as in SOTS
        if top_pad:
            padded[0:top_pad, left_pad : left_pad + cols, :] = fill
        if bottom_pad:
            padded[rows + top_pad :, left_pad : left_pad + cols, :] = fill
        if left_pad:
            padded[:, 0:left_pad, :] = fill
        if right_pad:
            padded[:, cols + left_pad :, :] = fill
        source = padded
    else:
        source = image
    patch = source[
        int(context_ymin) : int(context_ymax + 1), int(context_xmin) : int(context_xmax + 1), :
    ]
    if not np.array_equal(output_size, side):
        patch = cv2.resize(patch, (output_size, output_size))
    return patch, crop
