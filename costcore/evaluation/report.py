"""One tracker's evaluation: overall, per-sequence and per-attribute scores."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costcore.evaluation.attribute_groups import AVERAGE_KINDS, attribute_scores
from costcore.evaluation.curves import Curves, CurveSet, compute_curves
from costcore.evaluation.groundtruth import GroundTruth
from costcore.evaluation.result_files import Prediction, ResultProblem, load_tracker_results


@dataclass(frozen=True)
class TrackerReport:
    """Everything ``evaluate`` reports for one tracker; ``curves`` keeps the per-sequence rows."""

    tracker: str
    curves: CurveSet
    overall: Curves
    per_attribute: dict[str, dict[str, dict[str, Any]]]  # kind -> group key -> scores

    @property
    def scores(self) -> dict[str, float]:
        """Overall AUC, P, P_norm, cAUC, mACC (fractions)."""
        return self.overall.scores()

    def sequence_scores(self) -> dict[str, dict[str, float]]:
        return {name: self.curves.sequence(name).scores() for name in self.curves.names}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"overall", "per_sequence", "per_attribute": {toolkit, standard}}``.

        ``per_attribute`` is ``{}`` when no sequence has attributes.
        """
        per_attribute: dict[str, Any] = {}
        if any(self.per_attribute.values()):
            per_attribute = self.per_attribute
        return {
            "overall": self.scores,
            "per_sequence": self.sequence_scores(),
            "per_attribute": per_attribute,
        }


def evaluate_tracker(
    tracker: str, ground_truths: Sequence[GroundTruth], predictions: Mapping[str, Prediction]
) -> TrackerReport:
    """Score a tracker's predictions (one per sequence, full length) against the dataset."""
    curves = compute_curves(ground_truths, predictions)
    attributes = [gt.attributes for gt in ground_truths]
    return TrackerReport(
        tracker=tracker,
        curves=curves,
        overall=curves.mean(),
        per_attribute={kind: attribute_scores(curves, attributes, kind) for kind in AVERAGE_KINDS},
    )


def evaluate_trackers(
    results_dir: str | Path,
    trackers: Sequence[str],
    ground_truths: Sequence[GroundTruth],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[TrackerReport], dict[str, list[ResultProblem]]]:
    """Score every tracker whose result files are all usable; list the problems of the others.

    A tracker with any missing, short, long or malformed file is not scored at all: a score
    over a subset of the sequences would not be comparable with the others.
    """
    reports: list[TrackerReport] = []
    problems: dict[str, list[ResultProblem]] = {}
    for done, tracker in enumerate(trackers, start=1):
        predictions, tracker_problems = load_tracker_results(results_dir, tracker, ground_truths)
        if tracker_problems:
            problems[tracker] = tracker_problems
        else:
            reports.append(evaluate_tracker(tracker, ground_truths, predictions))
        if progress is not None:
            progress(done, len(trackers))
    return reports, problems
