"""The plain-text results table the CLI prints."""

from __future__ import annotations

from collections.abc import Iterable

from costcore.evaluation.curves import METRIC_NAMES
from costcore.evaluation.report import TrackerReport


def rank_by(reports: Iterable[TrackerReport], metric: str = "AUC") -> list[TrackerReport]:
    """Best first; ties keep the given order."""
    return sorted(reports, key=lambda report: -report.scores[metric])


def format_table(reports: Iterable[TrackerReport]) -> str:
    """Trackers x AUC, P, P_norm, cAUC, mACC in percent with one decimal, sorted by AUC."""
    ranked = rank_by(reports)
    name_width = max([len("Tracker"), *(len(report.tracker) for report in ranked)])
    header = f"{'Tracker':<{name_width}}" + "".join(f"{name:>8}" for name in METRIC_NAMES)
    lines = [header, "-" * len(header)]
    for report in ranked:
        scores = report.scores
        cells = "".join(f"{100 * scores[name]:>8.1f}" for name in METRIC_NAMES)
        lines.append(f"{report.tracker:<{name_width}}{cells}")
    return "\n".join(lines)
