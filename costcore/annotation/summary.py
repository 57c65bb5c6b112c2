"""How far the annotation of a video is: frames by provenance, absent frames on their own.

Every frame lands in exactly one bucket, so the numbers add up to the frame count: a frame
marked absent counts as absent (whoever marked it), every other frame under its provenance
or as not annotated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from costcore.annotation.model import FrameAnnotation, Provenance

#: the order buckets are listed in (None = not annotated yet)
KIND_ORDER: tuple[str | None, ...] = (
    Provenance.KEYFRAME.value,
    Provenance.VERIFIED.value,
    Provenance.TRACKED.value,
    Provenance.INTERPOLATED.value,
    Provenance.IMPORTED.value,
    None,
)


@dataclass(frozen=True)
class FrameCounts:
    """Frames that show the target, by provenance value (None: not annotated), and absent."""

    by_kind: dict[str | None, int]
    absent: int
    total: int

    def describe(self) -> str:
        """ "7 keyframe · 143 tracked · 7 absent" (empty buckets left out)."""
        parts = [
            f"{self.by_kind[k]} {k or 'not annotated'}" for k in KIND_ORDER if k in self.by_kind
        ]
        if self.absent:
            parts.append(f"{self.absent} absent")
        return " · ".join(parts)


def frame_counts(frames: Iterable[FrameAnnotation]) -> FrameCounts:
    """Count ``frames`` (a video's, in any order) into one bucket each."""
    kinds: Counter[str | None] = Counter()
    absent = total = 0
    for frame in frames:
        total += 1
        if frame.absent:
            absent += 1
        else:
            kinds[None if frame.provenance is None else frame.provenance.value] += 1
    return FrameCounts(dict(kinds), absent, total)
