"""A sequence played backwards: the effort benchmark's sequences the tool was not tuned on.

The shared real sequences are few, and every rule of the assisted workflow was looked at on
them. Played from the last frame to the first, each is another annotation task on real small
targets (the tracker starts from another box, sees the target shrink where it grew, meets the
occlusions in the other order), so ``bench effort --reversed`` can check that a gain holds on
sequences no rule was fitted to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReversedSequence:
    """``sequence`` backwards: frame ``i`` is its frame ``frame_count - 1 - i``."""

    name: str
    frame_count: int
    boxes: np.ndarray
    absent: np.ndarray

    @classmethod
    def of(cls, sequence: object) -> ReversedSequence:
        boxes = np.asarray(sequence.boxes, dtype=np.float64)  # type: ignore[attr-defined]
        absent = np.asarray(sequence.absent, dtype=bool)  # type: ignore[attr-defined]
        name = f"{sequence.name}-reversed"  # type: ignore[attr-defined]
        return cls(name, int(sequence.frame_count), boxes[::-1].copy(), absent[::-1].copy())  # type: ignore[attr-defined]


class ReversedFrames:
    """A frame source read backwards (any object with ``frame_count`` and ``frame(i)``)."""

    def __init__(self, frames: object) -> None:
        self.frames = frames
        self.frame_count = int(frames.frame_count)  # type: ignore[attr-defined]

    def frame(self, index: int) -> np.ndarray:
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} outside 0..{self.frame_count - 1}")
        return self.frames.frame(self.frame_count - 1 - index)  # type: ignore[attr-defined]
