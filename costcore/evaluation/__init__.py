"""Toolkit-exact evaluation of tracker results (DESIGN.md §4): AUC, P, P_norm, cAUC, mACC.

Reproduces the MMOT evaluation toolkit of the VL-SOT500 authors
(github.com/983632847/Awesome-Multimodal-Object-Tracking, ``MMOT_Evaluation_Toolkit``), with
per-attribute reports and plots. Typical use::

    gts = load_ground_truths(dataset_dir)
    predictions, problems = load_tracker_results(results_dir, "COST", gts)
    report = evaluate_tracker("COST", gts, predictions)   # when problems == []
    report.scores  # {"AUC": ..., "P": ..., "P_norm": ..., "cAUC": ..., "mACC": ...}

    reports, problems = evaluate_trackers(results_dir, ["COST", "TransT"], gts)  # many at once

Cross-checked against the toolkit's own functions (``got10k/utils/metrics.py`` with torch,
``VL-SOT500_Accuracy_Evaluation.py``) on random sequences: identical curves and mACC. Where we
differ from the toolkit, on purpose:

- A result file with the wrong number of lines is reported, never truncated (the toolkit
  prints "Length Error!" and truncates both; its mACC script ``zip``s silently).
- Empty / bare ``0`` lines ("no prediction") score as ``0,0,0,0`` in the curves (the toolkit
  cannot read such files for the curves at all); mACC treats them as the toolkit's script does.
- Per-sequence P_norm is the mean of the curve, like the overall one (the toolkit's
  per-sequence JSON reads the value at 0.2).
- mACC is also reported per attribute (the toolkit's mACC script has none), with the same
  toolkit / standard averages as the other metrics.
- Absent = the layout's absence flag or a ``0,0,0,0`` row; absent rows are zeroed (LaSOT keeps
  stale boxes there, which the toolkit would score as present).

And where DESIGN.md §4 is a simplification of the toolkit: an absent frame passes P when the
prediction's centre is within the threshold of (-0.5, -0.5) -- that is ``0,0,0,0`` or a small
box in the image's top-left corner -- because that is the toolkit's arithmetic, kept to
reproduce published numbers; for P_norm "only ``0,0,0,0``" holds exactly.
"""

from costcore.evaluation.attribute_groups import (
    ATTRIBUTE_GROUPS,
    AVERAGE_KINDS,
    AttributeGroup,
    attribute_scores,
    group_mask,
)
from costcore.evaluation.curves import (
    METRIC_NAMES,
    NORM_PRECISION_THRESHOLDS,
    PRECISION_AT_INDEX,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    Curves,
    CurveSet,
    compute_curves,
)
from costcore.evaluation.dataset import load_ground_truths
from costcore.evaluation.groundtruth import GroundTruth
from costcore.evaluation.report import TrackerReport, evaluate_tracker, evaluate_trackers
from costcore.evaluation.result_files import (
    Prediction,
    ResultProblem,
    list_trackers,
    load_tracker_results,
    read_result_file,
    result_path,
)
from costcore.evaluation.table import format_table, rank_by

__all__ = [
    "ATTRIBUTE_GROUPS",
    "AVERAGE_KINDS",
    "METRIC_NAMES",
    "NORM_PRECISION_THRESHOLDS",
    "PRECISION_AT_INDEX",
    "PRECISION_THRESHOLDS",
    "SUCCESS_THRESHOLDS",
    "AttributeGroup",
    "CurveSet",
    "Curves",
    "GroundTruth",
    "Prediction",
    "ResultProblem",
    "TrackerReport",
    "attribute_scores",
    "compute_curves",
    "evaluate_tracker",
    "evaluate_trackers",
    "format_table",
    "group_mask",
    "list_trackers",
    "load_ground_truths",
    "load_tracker_results",
    "rank_by",
    "read_result_file",
    "result_path",
]
