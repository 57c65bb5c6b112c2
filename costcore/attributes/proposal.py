"""The record an automatic attribute rule returns, and how proposals become an attribute list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from costcore.attributes.definitions import ATTRIBUTE_COUNT, attribute, validate_attributes

ProposalKind = Literal["exact", "heuristic"]


@dataclass(frozen=True)
class Proposal:
    """A proposed attribute value together with the rule that produced it.

    ``rule`` is a sentence for the annotator with the measured numbers (frame numbers in it are
    1-based, as in the exported ``000001.jpg`` names); ``evidence_frames`` are 0-based frame
    indices (``FrameSource.frame(i)``) the app can jump to. ``kind`` says whether the value
    follows from the benchmark's definition ("exact") or is a guess to confirm ("heuristic").
    """

    index: int
    code: str
    value: int
    rule: str
    kind: ProposalKind
    evidence_frames: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        definition = attribute(self.index)
        if definition.code != self.code:
            raise ValueError(f"attribute {self.index} is {definition.code}, not {self.code}")
        if not definition.allows(self.value):
            definition.label(self.value)  # raises the standard ValueError message
        if self.kind not in ("exact", "heuristic"):
            raise ValueError(f"proposal kind must be 'exact' or 'heuristic', got {self.kind!r}")

    @classmethod
    def make(
        cls,
        code: str,
        value: int,
        rule: str,
        kind: ProposalKind,
        evidence_frames: Iterable[int] = (),
    ) -> Proposal:
        """Build a proposal from the attribute code (the index is looked up)."""
        definition = attribute(code)
        return cls(
            definition.index,
            definition.code,
            int(value),
            rule,
            kind,
            tuple(int(i) for i in evidence_frames),
        )

    @property
    def label(self) -> str:
        """The value's word ("yes", "medium", ...)."""
        return attribute(self.index).label(self.value)


def proposals_to_values(
    proposals: Iterable[Proposal], base: Sequence[int] | None = None
) -> list[int]:
    """The 17-value attribute list with the proposed values filled in.

    Attributes without a proposal keep their value from ``base`` (what the annotator set), or
    0 when there is no base, which is what ``convert`` writes for a sequence nobody tagged.
    """
    values = list(validate_attributes(base)) if base is not None else [0] * ATTRIBUTE_COUNT
    for proposal in proposals:
        values[proposal.index] = proposal.value
    return validate_attributes(values)
