"""Whether a sequence's target is a "small object" in the VL-SOT500 sense.

The benchmark calls a target small when, averaged over the frames where it is visible, its
relative size ``sqrt(w*h) / sqrt(W*H)`` is below 1 % **and** its absolute size ``sqrt(w*h)`` is
below 22 px. Both conditions matter: 20 px is small in 1080p but not in a 160x120 video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costcore.attributes.presence import boxes_and_presence
from costcore.boxes import sizes

SMALL_RELATIVE_SIZE = 0.01
SMALL_ABSOLUTE_SIZE = 22.0


@dataclass(frozen=True)
class SmallObjectStats:
    """Both averages and the verdict; the averages are NaN when no frame shows the target."""

    mean_relative_size: float
    mean_absolute_size: float
    present_frames: int
    is_small: bool
    relative_threshold: float = SMALL_RELATIVE_SIZE
    absolute_threshold: float = SMALL_ABSOLUTE_SIZE

    def describe(self) -> str:
        """One sentence with the numbers, for reports and tooltips."""
        if self.present_frames == 0:
            return "no frame shows the target; size statistics undefined -> not small"
        relative = (
            f"mean relative size {100 * self.mean_relative_size:.2f} % "
            f"({'<' if self.mean_relative_size < self.relative_threshold else '>='} "
            f"{100 * self.relative_threshold:g} %)"
        )
        absolute = (
            f"mean absolute size {self.mean_absolute_size:.1f} px "
            f"({'<' if self.mean_absolute_size < self.absolute_threshold else '>='} "
            f"{self.absolute_threshold:g} px)"
        )
        verdict = "small" if self.is_small else "not small"
        return f"{relative}, {absolute} over {self.present_frames} frames -> {verdict}"


def small_object_stats(
    boxes: object,
    absent: object | None,
    frame_size: tuple[int, int],
    relative_threshold: float = SMALL_RELATIVE_SIZE,
    absolute_threshold: float = SMALL_ABSOLUTE_SIZE,
) -> SmallObjectStats:
    """Average relative and absolute target size over present frames, and the verdict.

    ``frame_size`` is ``(W, H)`` as :attr:`FrameSource.frame_size` gives it. Both comparisons
    are strict (``<``), as in the benchmark's definition.
    """
    width, height = frame_size
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {frame_size!r}")
    array, present = boxes_and_presence(boxes, absent)
    count = int(present.sum())
    if count == 0:
        return SmallObjectStats(
            float("nan"), float("nan"), 0, False, relative_threshold, absolute_threshold
        )
    absolute = float(sizes(array[present]).mean())
    relative = absolute / float(np.sqrt(float(width) * float(height)))
    small = relative < relative_threshold and absolute < absolute_threshold
    return SmallObjectStats(
        relative, absolute, count, bool(small), relative_threshold, absolute_threshold
    )
