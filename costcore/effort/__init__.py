"""The annotation-effort benchmark (``python -m costcore bench effort``): a simulated annotator
who knows the ground truth drives the app's own workflow code and counts what it had to do.

- :mod:`~costcore.effort.simulation`: the annotator and one workflow on one sequence;
- :mod:`~costcore.effort.report`: workflows x engines x sequences x thresholds, sums and tables.
"""

from costcore.effort.report import (
    ANCHORS,
    EffortSummary,
    SequenceEffort,
    effort_on_sequence,
    format_effort_table,
    label,
    summarise,
)
from costcore.effort.simulation import (
    WORKFLOWS,
    EffortCosts,
    EffortResult,
    SimulatedAnnotator,
    keyframe_spacing,
    simulate,
)

__all__ = [
    "ANCHORS",
    "WORKFLOWS",
    "EffortCosts",
    "EffortResult",
    "EffortSummary",
    "SequenceEffort",
    "SimulatedAnnotator",
    "effort_on_sequence",
    "format_effort_table",
    "keyframe_spacing",
    "label",
    "simulate",
    "summarise",
]
