"""Per-frame series for the timeline plots: score, relative speed, box size, agreement.

All arrays have one value per frame, NaN where the value does not exist (no box, no score,
no forward/backward comparison), so a plot simply leaves a gap there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costcore.annotation import VideoAnnotation
from costcore.assist.state import Diagnostics
from costcore.attributes.speed import relative_speed


@dataclass(frozen=True)
class TimelineSeries:
    score: np.ndarray  # tracker score of tracked frames
    speed: np.ndarray  # relative speed, Eq. 1 (box sizes per frame)
    size: np.ndarray  # sqrt(w * h) in pixels
    agreement: np.ndarray  # IoU of the forward and backward runs of a segment fill

    @property
    def frame_count(self) -> int:
        return len(self.size)


def timeline_series(annotation: VideoAnnotation, diagnostics: Diagnostics) -> TimelineSeries:
    boxes = annotation.boxes_array()
    present = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    safe = np.where(present[:, None], boxes, 0.0)
    speed = relative_speed(safe, ~present)
    defined = np.zeros(len(boxes), dtype=bool)
    defined[1:] = present[1:] & present[:-1]
    size = np.sqrt(np.clip(safe[:, 2] * safe[:, 3], 0, None))
    return TimelineSeries(
        score=annotation.scores_array(),
        speed=np.where(defined, speed, np.nan),
        size=np.where(present, size, np.nan),
        agreement=np.asarray(diagnostics.agreement, dtype=np.float64),
    )
