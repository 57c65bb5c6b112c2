"""Tracker-assisted annotation, Qt-free: what the app's tracking tools and the effort benchmark
share.

- :mod:`~costcore.assist.plan`: which frames a propagation or a segment fill covers;
- :mod:`~costcore.assist.jobs`: the jobs themselves (propagation, segment fill, interpolation),
  generators of :class:`~costcore.assist.updates.FrameUpdate`;
- :mod:`~costcore.assist.combine`: forward + backward runs -> one value per frame;
- :mod:`~costcore.assist.flags` and :mod:`~costcore.assist.review`: what deserves a look;
  :mod:`~costcore.assist.calibration`: which flags are worth proposing, by the annotator's
  answers so far;
- :mod:`~costcore.assist.state` and :mod:`~costcore.assist.scoremaps`: per-frame diagnostics
  and score maps, saved beside the session;
- :mod:`~costcore.assist.series`, :mod:`~costcore.assist.engine_evaluation`: plots and
  tracker debugging.

The decisions of the assisted workflow (what to run when) are in :mod:`costcore.annotator`;
the effort benchmark that measures it is :mod:`costcore.effort`.
"""

from costcore.assist.calibration import ReviewCalibration
from costcore.assist.combine import CombineRules, combine_runs
from costcore.assist.flags import Flag, FlagReason, FlagRules, flag_frames
from costcore.assist.jobs import (
    INTERPOLATION,
    CachedRunner,
    EngineRunner,
    fill_segment,
    propagate,
    segment_job,
)
from costcore.assist.plan import Extent, PropagationPlan, Segment, plan_propagation
from costcore.assist.review import ReviewQueue
from costcore.assist.state import AssistState
from costcore.assist.updates import Anchor, FrameUpdate, RunStep

__all__ = [
    "INTERPOLATION",
    "Anchor",
    "AssistState",
    "CachedRunner",
    "CombineRules",
    "EngineRunner",
    "Extent",
    "Flag",
    "FlagReason",
    "FlagRules",
    "FrameUpdate",
    "PropagationPlan",
    "ReviewCalibration",
    "ReviewQueue",
    "RunStep",
    "Segment",
    "combine_runs",
    "fill_segment",
    "flag_frames",
    "plan_propagation",
    "propagate",
    "segment_job",
]
