"""What assisted-annotation jobs produce: one :class:`FrameUpdate` per frame they fill.

A job (propagation, segment fill, interpolation) never edits the annotation itself; it yields
updates, and the caller (the app's worker, the effort simulation) turns them into one
``SetFrames`` edit command, which skips keyframes and verified frames. Diagnostics that are not
part of the annotation (forward/backward agreement, "lost", score maps, absent proposals) ride
along in the same object and go to :class:`~costcore.assist.state.AssistState`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from costcore.annotation import FrameAnnotation, Provenance, VideoAnnotation
from costcore.boxes import Box


@dataclass(frozen=True)
class Anchor:
    """A frame a job starts from or runs towards: a person's box (keyframe or verified)."""

    index: int
    box: Box

    @classmethod
    def of(cls, annotation: VideoAnnotation, index: int | None) -> Anchor | None:
        """The anchor at ``index`` when that frame has a box (absent frames anchor nothing)."""
        if index is None:
            return None
        box = annotation.frame(index).box
        return None if box is None else cls(index, Box(*box))


@dataclass(frozen=True)
class RunStep:
    """One frame of one engine run (forward or backward from an anchor)."""

    index: int
    box: Box
    score: float | None = None
    lost: bool = False
    appearance: float | None = None


@dataclass(frozen=True)
class FrameUpdate:
    """A value for one frame, with the diagnostics the flags and the views need.

    ``final`` is False for provisional values shown while a segment fill still runs (its
    forward pass); the combined values replace them. ``agreement`` is the IoU of the forward
    and backward runs (None where only one run reached the frame).
    """

    index: int
    box: Box
    engine: str
    provenance: Provenance = Provenance.TRACKED
    score: float | None = None
    agreement: float | None = None
    resolved: bool = False  # a disagreement the order of the runs settles (see combine)
    lost: bool = False
    source: str = "forward"  # forward / backward / both / interpolation
    score_map: np.ndarray | None = field(default=None, repr=False, compare=False)
    search_region: Box | None = None
    final: bool = True
    #: the engine's own time for this frame (decoding excluded), for FPS read-outs
    seconds: float = 0.0
    #: how much the box's content looks like the run's anchor box (``assist.appearance``:
    #: 1 the same, 0 unrelated; None when not measured)
    appearance: float | None = None
    #: one frame of work done (an engine step or an interpolated frame); False for the values
    #: a segment fill combines from its two runs afterwards (progress counts steps)
    step: bool = True

    def annotation(self) -> FrameAnnotation:
        """The frame value to write (score kept only for tracked frames)."""
        score = None if self.provenance is not Provenance.TRACKED else self.score
        return FrameAnnotation(
            self.box, provenance=self.provenance, score=score, engine=self.engine
        )


def frame_items(updates: Iterable[FrameUpdate]) -> list[tuple[int, FrameAnnotation]]:
    """``(index, FrameAnnotation)`` pairs for ``SetFrames`` (the last update of a frame wins)."""
    return [(u.index, u.annotation()) for u in updates]
