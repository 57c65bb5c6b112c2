"""TransT's crop geometry: a square around the target, mapped to and from the frame.

Side (TransT's tracker and its ``sample_target``): with context p = (f - 1)(w + h) / 2,
``side = ceil(sqrt((w + p)(h + p)))``; f = 2 for the template (-> 128 px), 4 for the search
region (-> 256 px). (Some later trackers use ``ceil(sqrt(w h) * f)``; TransT's code, whose
weights we load, uses the formula above, as does DESIGN.md.)

Mapping: the crop is centred on the target centre and covers the frame square
``[cx - side/2, cx + side/2)``; TransT's tracker maps the head's boxes back with exactly that
origin (``cx - side/2``), and so does :meth:`SearchCrop.to_frame`.

Pixels: TransT's tracker does not cut at that origin. It cuts ``side`` whole pixels from
``floor(cx - (side + 1)/2 + 0.5)`` and resizes them with cv2.resize (pysot's
``get_subwindow``), so its pixels and its mapping disagree by up to a pixel. The online
tracker reproduces that cut exactly (:func:`costcore.crops.pysot.pysot_crop`): its boxes then
equal TransT's to a thousandth of a pixel, where a sub-pixel crop was off by 2 px after a few
dozen frames. :meth:`SearchCrop.extract` is the sub-pixel crop - an affine warp at the same
origin the mapping uses, so crop and mapping agree exactly and a box the head does not move
stays put - which training uses for its template/search pairs (its labels come from the same
mapping, :meth:`SearchCrop.to_crop`).

Frame coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1), so a box's centre
is ``x + w/2`` (as in :class:`costcore.boxes.Box`). Outside the image the crop is filled with a
colour (TransT pads with the first frame's mean colour; training with the frame's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from costcore.boxes import Box


def crop_side(width: float, height: float, factor: float) -> int:
    """TransT's context crop side for a ``width`` x ``height`` target (at least 1 pixel)."""
    context = (factor - 1.0) * (width + height) / 2.0
    return max(1, math.ceil(math.sqrt((width + context) * (height + context))))


@dataclass(frozen=True)
class SearchCrop:
    """A square crop of side ``side`` (frame pixels) centred at ``(cx, cy)``, resized to
    ``output_size`` pixels."""

    cx: float
    cy: float
    side: float
    output_size: int

    @classmethod
    def around(cls, box: Box, factor: float, output_size: int) -> SearchCrop:
        cx, cy = box.center
        return cls(cx, cy, float(crop_side(box.w, box.h, factor)), output_size)

    @property
    def region(self) -> Box:
        """The crop in frame coordinates (may extend past the image)."""
        return Box(self.cx - self.side / 2, self.cy - self.side / 2, self.side, self.side)

    @property
    def scale(self) -> float:
        """Crop pixels per frame pixel."""
        return self.output_size / self.side

    def extract(self, frame: np.ndarray, fill: tuple[float, float, float]) -> np.ndarray:
        """The crop as an ``(output_size, output_size, 3)`` array of the frame's dtype, sampled
        at sub-pixel precision (for training; the tracker cuts as TransT does)."""
        k = self.scale
        x0, y0 = self.cx - self.side / 2, self.cy - self.side / 2
        # continuous mapping crop = k * (frame - origin), written for pixel indices
        # (pixel centres at i + 0.5): crop_i = k * frame_i + k * (0.5 - origin) - 0.5
        matrix = np.array(
            [[k, 0.0, k * (0.5 - x0) - 0.5], [0.0, k, k * (0.5 - y0) - 0.5]], dtype=np.float64
        )
        return cv2.warpAffine(
            frame,
            matrix,
            (self.output_size, self.output_size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=tuple(float(c) for c in fill),
        )

    def to_frame(
        self, cx: float, cy: float, w: float, h: float
    ) -> tuple[float, float, float, float]:
        """A head box (cx, cy, w, h normalised to [0, 1] in the crop) in frame pixels."""
        x0, y0 = self.cx - self.side / 2, self.cy - self.side / 2
        return (x0 + cx * self.side, y0 + cy * self.side, w * self.side, h * self.side)

    def to_crop(self, box: Box) -> tuple[float, float, float, float]:
        """The inverse of :meth:`to_frame`: a frame box as normalised (cx, cy, w, h)."""
        x0, y0 = self.cx - self.side / 2, self.cy - self.side / 2
        bcx, bcy = box.center
        return (
            (bcx - x0) / self.side,
            (bcy - y0) / self.side,
            box.w / self.side,
            box.h / self.side,
        )
