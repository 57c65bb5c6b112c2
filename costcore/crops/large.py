"""Crops of squares too large to build: sampled from the frame, not bordered and resized.

The trackers' crops take ``side`` whole pixels around the target, pad what lies outside the
frame with one colour and resize the square. A box far larger than the frame (a tracker
whose box grew past the image for many frames, a config with a huge context) asks for a
square of gigabytes once bordered (38 GB in one case). Past :data:`MAX_SQUARE_BYTES` the
crop is sampled from the frame directly with ``cv2.resize``'s bilinear mapping
(``warpAffine``; its fixed-point arithmetic differs by a grey level or two, which no real
track reaches).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

#: a bordered square is built only up to this size (a 4,700-pixel square of RGB)
MAX_SQUARE_BYTES = 64 * 1024 * 1024


def too_large_to_build(side: int, channels: int = 3) -> bool:
    """Whether a bordered ``side``-pixel square would pass :data:`MAX_SQUARE_BYTES`."""
    return side * side * channels > MAX_SQUARE_BYTES


def sample_square(
    frame: np.ndarray,
    left: int,
    top: int,
    side: int,
    output_size: int,
    fill: Sequence[float],
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The ``output_size`` crop of the ``side``-pixel square from pixel ``(left, top)``:
    output pixel ``u`` samples square pixel ``(u + 0.5) / scale - 0.5``, as the resize does;
    outside the frame, ``fill``."""
    scale = output_size / side
    matrix = np.array(
        [
            [scale, 0.0, scale * (0.5 - left) - 0.5],
            [0.0, scale, scale * (0.5 - top) - 0.5],
        ]
    )
    return cv2.warpAffine(
        frame,
        matrix,
        (output_size, output_size),
        dst=out,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(value) for value in fill),
    )
