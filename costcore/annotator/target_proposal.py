"""A box an engine proposes from the description: shown, then accepted or redrawn by a person.

Grounding engines (UVLTrack) find the target a sentence describes; what they find is a
proposal, never an edit, because a sentence can fit more than one object: the annotator
accepts it (it becomes a keyframe) or draws the box where it belongs.
"""

from __future__ import annotations

from dataclasses import dataclass

from costcore.boxes import Box


@dataclass(frozen=True)
class TargetProposal:
    """``box`` on frame ``index``, found by ``engine`` with confidence ``score``."""

    index: int
    box: Box
    score: float | None
    engine: str

    def describe(self) -> str:
        score = "" if self.score is None else f" (confidence {self.score:.2f})"
        return (
            f"{self.engine} found the target on frame {self.index + 1}{score}: "
            "Ctrl+Enter accepts it as the keyframe, or draw the box yourself."
        )
