"""Square crops around the target, cut the two ways NanoTrack's trackers cut them.

Both take ``side`` whole frame pixels starting at an integer pixel, fill what lies outside
the frame with one colour and resize the square with ``cv2.resize`` (bilinear):

- the authors' (pysot's ``get_subwindow``): first pixel ``floor(c - (side + 1) / 2 + 0.5)``,
  the *first frame's* mean colour truncated to integers (numpy writes it into uint8 pixels);
- OpenCV's ``TrackerNano``: first pixel ``int(c) - (side + 1) // 2`` (C integer division and
  truncation), the *current frame's* mean colour rounded (``copyMakeBorder`` of a Scalar).

Only the part of the frame inside the square is copied (then bordered); nothing the size of
the frame is allocated per crop, which matters for 1280 x 720 video. A square that would
take more than ``MAX_SQUARE_BYTES`` once bordered (a box far larger than the frame, from a
config's large ``min_size`` or ``context_amount``: 38 GB in one case) is sampled from the
frame directly (:mod:`costcore.crops.large`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from costcore.boxes import Box
from costcore.crops.large import sample_square, too_large_to_build


@dataclass(frozen=True)
class SquareWindow:
    """``side`` frame pixels from the integer pixel ``(left, top)``; may pass the edges."""

    left: int
    top: int
    side: int

    @property
    def region(self) -> Box:
        """The square in frame coordinates (the score map's search region)."""
        return Box(float(self.left), float(self.top), float(self.side), float(self.side))


def authors_window(center: tuple[float, float], side: int) -> SquareWindow:
    """pysot's placement: the square's centre rounds to the nearest pixel, halves up."""
    half = (side + 1) / 2
    return SquareWindow(
        math.floor(center[0] - half + 0.5), math.floor(center[1] - half + 0.5), side
    )


def opencv_window(center: tuple[float, float], side: int) -> SquareWindow:
    """OpenCV's placement: the centre truncated to an integer, minus ``(side + 1) // 2``."""
    half = (side + 1) // 2
    return SquareWindow(int(center[0]) - half, int(center[1]) - half, side)


def authors_fill(frame: np.ndarray) -> tuple[int, int, int]:
    """The authors' padding colour: the frame's mean, truncated (float into uint8)."""
    mean = np.mean(frame, axis=(0, 1))
    return tuple(int(value) for value in mean)  # type: ignore[return-value]


def opencv_fill(frame: np.ndarray) -> tuple[int, int, int]:
    """OpenCV's padding colour: ``cv::mean`` of the frame, rounded half to even."""
    mean = cv2.mean(frame)[:3]
    return tuple(int(value) for value in np.rint(mean))  # type: ignore[return-value]


def cut_square(
    frame: np.ndarray,
    window: SquareWindow,
    output_size: int,
    fill: tuple[int, int, int],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The ``output_size`` x ``output_size`` crop of ``window`` (frame pixels, same channels).

    ``out`` (uint8, output_size x output_size x 3) receives the result when the square must be
    resized, so tracking reuses one buffer.
    """
    height, width = frame.shape[:2]
    x0, y0 = max(window.left, 0), max(window.top, 0)
    x1 = min(window.left + window.side, width)
    y1 = min(window.top + window.side, height)
    if x1 <= x0 or y1 <= y0:  # entirely outside the frame: the fill colour, at any size
        crop = np.empty((output_size, output_size, 3), np.uint8) if out is None else out
        crop[:] = fill
        return crop
    if too_large_to_build(window.side, frame.shape[2]):
        return sample_square(frame, window.left, window.top, window.side, output_size, fill, out)
    square = frame[y0:y1, x0:x1]
    pads = (
        y0 - window.top,
        window.top + window.side - y1,
        x0 - window.left,
        window.left + window.side - x1,
    )
    if any(pads):
        square = cv2.copyMakeBorder(square, *pads, cv2.BORDER_CONSTANT, value=fill)
    if window.side == output_size:  # always a copy: frames may be read-only cache entries
        if out is not None:
            np.copyto(out, square)
            return out
        return np.array(square)
    if out is not None:
        return cv2.resize(square, (output_size, output_size), dst=out)
    return cv2.resize(square, (output_size, output_size))
