"""The review queue calibrated on the annotator's own answers: a check is proposed only where
it is likely to find a failure.

Checking a proposed frame that turns out fine costs the annotator a look (a quarter of a
correction in ``bench effort``) and saves nothing; a check that finds a wrong box leads to a
correction placed by the tool, which the refill around it makes worth about what the look
cost. So a proposal pays when the chance that the frame fails is at least ``break_even``
(0.5: finding a failure at least as often as not). That chance is not known beforehand: it
depends on the engine, the video and how strict the annotator is. It is measured on this
video instead: every proposal the annotator answered (the frame then corrected or marked
absent: a failure; verified: fine) counts for the reason that ranked it (low score, jump,
size change...), per engine. The estimate is Laplace's rule, ``(failures + 1) / (answers +
2)``, so the first proposal of every reason is made, and a reason stays proposed while its
proposals keep finding failures. One fixed rule, nothing fitted per sequence.

The answers are read from the annotation itself (the proposed frame's provenance the next
time a proposal is asked for), so the app and the effort benchmark record them the same way.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from costcore.annotation import Provenance, VideoAnnotation
from costcore.assist.flags import Flag, FlagReason

#: where the session file keeps the answers counted so far (its ``ui`` section)
CALIBRATION_KEY = "review_calibration"


def ranking_reason(flag: Flag, reasons: Collection[FlagReason]) -> FlagReason | None:
    """The reason among ``reasons`` that gives ``flag`` its review severity (None: none)."""
    best: tuple[float, FlagReason] | None = None
    values = flag.severities or (flag.severity,) * len(flag.reasons)
    for reason, value in zip(flag.reasons, values, strict=False):
        if reason in reasons and (best is None or value > best[0]):
            best = (value, reason)
    return None if best is None else best[1]


@dataclass
class ReviewCalibration:
    """Answers to the review proposals of one video, counted per (engine, reason)."""

    #: propose a reason's flags while the estimated chance of a failure is at least this
    break_even: float = 0.5
    #: (engine, reason) -> [failures, answers]
    counts: dict[tuple[str, FlagReason], list[int]] = field(default_factory=dict)
    #: the proposal waiting for its answer: (frame, engine, reason)
    pending: tuple[int, str, FlagReason] | None = None

    def chance(self, engine: str, reason: FlagReason) -> float:
        """The estimated chance that a proposal for ``reason`` finds a wrong box."""
        failures, answers = self.counts.get((engine, reason), (0, 0))
        return (failures + 1.0) / (answers + 2.0)

    def worth(self, flag: Flag, engine: str, reasons: Collection[FlagReason]) -> bool:
        """Whether proposing ``flag`` pays, by what the answers so far say."""
        reason = ranking_reason(flag, reasons)
        return reason is not None and self.chance(engine, reason) >= self.break_even

    def proposed(self, flag: Flag, engine: str, reasons: Collection[FlagReason]) -> None:
        """``flag`` was proposed: its answer is read at the next :meth:`settle`."""
        reason = ranking_reason(flag, reasons)
        self.pending = None if reason is None else (flag.index, engine, reason)

    def settle(self, annotation: VideoAnnotation) -> bool | None:
        """Read the answer to the pending proposal from ``annotation``: True when the frame
        was corrected (a keyframe now, box or absent), False when verified, None when it has
        no answer (still automatic: skipped, or nothing pending). An answer is counted once.
        """
        if self.pending is None:
            return None
        index, engine, reason = self.pending
        if not 0 <= index < annotation.frame_count:
            self.pending = None
            return None
        provenance = annotation.frame(index).provenance
        if provenance is Provenance.KEYFRAME:
            failed = True
        elif provenance is Provenance.VERIFIED:
            failed = False
        else:
            return None
        self.pending = None
        entry = self.counts.setdefault((engine, reason), [0, 0])
        entry[0] += int(failed)
        entry[1] += 1
        return failed

    def describe(self) -> str:
        """One line per reason answered: how often its proposals found a failure."""
        parts = []
        for (engine, reason), (failures, answers) in sorted(
            self.counts.items(), key=lambda item: (item[0][0], item[0][1].value)
        ):
            parts.append(f"{engine} {reason.value}: {failures}/{answers} wrong")
        return "; ".join(parts)

    @property
    def is_empty(self) -> bool:
        return not self.counts and self.pending is None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the session file: reopening a video goes on from these answers."""
        return {
            "counts": [
                [engine, reason.value, failures, answers]
                for (engine, reason), (failures, answers) in sorted(
                    self.counts.items(), key=lambda item: (item[0][0], item[0][1].value)
                )
            ],
            "pending": None
            if self.pending is None
            else [self.pending[0], self.pending[1], self.pending[2].value],
        }

    @classmethod
    def from_json(cls, value: object) -> ReviewCalibration:
        """The answers a session file kept; whatever does not read as such (a file edited by
        hand, a reason this version does not know) is left out: the counts only tune which
        checks are proposed, so a partial record is better than refusing the session."""
        calibration = cls()
        if not isinstance(value, dict):
            return calibration
        counts = value.get("counts")
        for entry in counts if isinstance(counts, list) else ():
            if not (isinstance(entry, list) and len(entry) == 4):
                continue
            engine, reason, failures, answers = entry
            if not (isinstance(engine, str) and _is_count(failures) and _is_count(answers)):
                continue
            if failures > answers or (known := _reason(reason)) is None:
                continue
            calibration.counts[(engine, known)] = [failures, answers]
        pending = value.get("pending")
        if isinstance(pending, list) and len(pending) == 3:
            index, engine, reason = pending
            known = _reason(reason)
            if _is_count(index) and isinstance(engine, str) and known is not None:
                calibration.pending = (index, engine, known)
        return calibration


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _reason(value: object) -> FlagReason | None:
    try:
        return FlagReason(value)
    except (ValueError, TypeError):
        return None
