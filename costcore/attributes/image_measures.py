"""One pass over the frames measuring what BRI, IV and MB need.

Decoding frames is the slow part of proposing attributes, so every frame is read once and all
three measurements are taken from its grey image: the frame's mean grey level (BRI), the
target region's mean grey level (IV) and its sharpness, the variance of the Laplacian (MB).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from costcore.errors import Cancelled
from costcore.video.base import FrameSource

ProgressCallback = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class FrameMeasures:
    """Per-frame measurements of the frames that were read (every ``stride``-th frame).

    Region values are NaN where the target is absent or its region (clipped to the image) is
    narrower than the minimum side asked for, because a mean or a Laplacian over a couple of
    pixels is noise.
    """

    indices: np.ndarray  # (K,) int, 0-based frames read
    frame_brightness: np.ndarray  # (K,) mean grey level of the whole frame
    region_brightness: np.ndarray  # (K,) mean grey level of the target region
    region_sharpness: np.ndarray  # (K,) variance of the Laplacian of the target region
    frame_count: int
    stride: int

    @property
    def sampled(self) -> bool:
        """True when not every frame was read, so frame statistics are estimates."""
        return self.indices.size < self.frame_count


def grey(frame: np.ndarray) -> np.ndarray:
    """The frame as 8-bit grey, OpenCV's RGB2GRAY (the weights BRI is defined with)."""
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def region_bounds(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """Integer pixel bounds ``(x0, y0, x1, y1)`` of every pixel the box overlaps, clipped."""
    x, y, w, h = (float(v) for v in box)
    x0 = min(max(math.floor(x), 0), width)
    y0 = min(max(math.floor(y), 0), height)
    x1 = min(max(math.ceil(x + w), 0), width)
    y1 = min(max(math.ceil(y + h), 0), height)
    return x0, y0, x1, y1


def laplacian_variance(image: np.ndarray, bounds: tuple[int, int, int, int]) -> float:
    """Variance of the 3x3 Laplacian over ``bounds``, using the pixels just outside as context.

    Taking one pixel of context avoids a synthetic border inside small target regions, where
    the border would otherwise dominate the statistic.
    """
    x0, y0, x1, y1 = bounds
    height, width = image.shape[:2]
    cx0, cy0 = max(x0 - 1, 0), max(y0 - 1, 0)
    cx1, cy1 = min(x1 + 1, width), min(y1 + 1, height)
    response = cv2.Laplacian(image[cy0:cy1, cx0:cx1], cv2.CV_64F)
    inner = response[y0 - cy0 : y1 - cy0, x0 - cx0 : x1 - cx0]
    return float(inner.var())


def measure_frames(
    frames: FrameSource,
    boxes: np.ndarray,
    present: np.ndarray,
    *,
    stride: int = 1,
    brightness_min_side: int = 2,
    sharpness_min_side: int = 8,
    progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> FrameMeasures:
    """Read frames ``0, stride, 2*stride, ...`` once each and measure them.

    ``boxes`` / ``present`` are as :func:`~costcore.attributes.presence.boxes_and_presence`
    returns them. ``progress(done, total)`` is called after each frame; ``is_cancelled()`` is
    polled before each read and :class:`~costcore.errors.Cancelled` is raised when it says so.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    count = frames.frame_count
    if boxes.shape[0] != count:
        raise ValueError(f"{boxes.shape[0]} boxes for a video of {count} frames")
    indices = np.arange(0, count, stride)
    total = int(indices.size)
    frame_mean = np.zeros(total)
    region_mean = np.full(total, np.nan)
    sharpness = np.full(total, np.nan)
    for k, index in enumerate(indices):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("attribute proposals cancelled")
        image = grey(frames.frame(int(index)))
        frame_mean[k] = cv2.mean(image)[0]
        if present[index]:
            height, width = image.shape[:2]
            bounds = region_bounds(boxes[index], width, height)
            side = min(bounds[2] - bounds[0], bounds[3] - bounds[1])
            if side >= brightness_min_side:
                x0, y0, x1, y1 = bounds
                region_mean[k] = cv2.mean(image[y0:y1, x0:x1])[0]
            if side >= sharpness_min_side:
                sharpness[k] = laplacian_variance(image, bounds)
        if progress is not None:
            progress(k + 1, total)
    return FrameMeasures(indices, frame_mean, region_mean, sharpness, count, stride)
