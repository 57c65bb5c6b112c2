"""The ground truth of one sequence in the form the toolkit scores against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from costcore.formats.sequence import Sequence


@dataclass(frozen=True)
class GroundTruth:
    """Boxes with absent frames written as ``0,0,0,0``, the absence mask and the attributes.

    The toolkit knows absence only from ``0,0,0,0`` rows, so absent rows are zeroed here even
    for layouts that keep stale boxes there (LaSOT); a ``0,0,0,0`` row counts as absent even
    when the layout's flags say otherwise. ``attributes`` holds the 17 VL-SOT500 values or is
    ``None`` for layouts without them.
    """

    name: str
    boxes: np.ndarray  # (N, 4) float64
    absent: np.ndarray  # (N,) bool
    attributes: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        boxes = np.array(self.boxes, dtype=np.float64).reshape(-1, 4)
        absent = np.array(self.absent, dtype=bool).reshape(-1)
        if len(absent) != len(boxes):
            raise ValueError(f"{self.name}: {len(boxes)} boxes but {len(absent)} absence flags")
        if len(boxes) == 0:
            raise ValueError(f"{self.name}: a sequence needs at least one frame")
        absent = absent | np.all(boxes == 0, axis=1)
        boxes[absent] = 0.0
        boxes.flags.writeable = False
        absent.flags.writeable = False
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "absent", absent)
        if self.attributes is not None:
            object.__setattr__(self, "attributes", tuple(int(v) for v in self.attributes))

    @property
    def frame_count(self) -> int:
        return len(self.boxes)

    @classmethod
    def from_sequence(cls, sequence: Sequence) -> GroundTruth:
        """From a sequence read by :mod:`costcore.formats` (any layout)."""
        return cls(sequence.name, sequence.boxes, sequence.absent, sequence.attributes)
