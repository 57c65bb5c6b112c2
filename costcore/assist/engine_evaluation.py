"""Tracker debugging: run an engine over an annotated video and score it against the annotation.

The annotation is the ground truth here and is never changed: the engine starts on the first
frame with a box and tracks to the end (a one-pass evaluation), and the frames the annotation
covers (a box or an absent mark) are scored with :mod:`costcore.evaluation`, exactly as the
toolkit scores a result file: the per-frame IoU and AUC, P, P_norm, cAUC, mACC.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from costcore.assist.jobs import CancelCheck, EngineRunner
from costcore.assist.updates import Anchor
from costcore.boxes import Box
from costcore.evaluation import GroundTruth, compute_curves
from costcore.evaluation.box_measures import overlap
from costcore.evaluation.result_files import Prediction


@dataclass(frozen=True)
class EvaluationRun:
    """An engine's boxes over the video and how they score against the annotation."""

    engine: str
    start: int
    boxes: np.ndarray  # (N, 4), NaN before the start frame
    scores: np.ndarray  # (N,), NaN where the engine gives none
    iou: np.ndarray  # (N,), NaN where the annotation has nothing to compare with
    metrics: dict[str, float]
    scored_frames: int
    seconds: float  # engine time only

    @property
    def fps(self) -> float:
        tracked = int(np.isfinite(self.boxes[:, 0]).sum()) - 1
        return tracked / self.seconds if self.seconds > 0 else 0.0


def evaluation_truth(boxes: np.ndarray, absent: np.ndarray) -> tuple[np.ndarray, int]:
    """``(mask of scored frames, start frame)`` for an annotation's arrays."""
    has_box = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    starts = np.flatnonzero(has_box & ~absent)
    if len(starts) == 0:
        raise ValueError("the annotation has no box to start the engine from")
    start = int(starts[0])
    mask = (has_box | absent).copy()
    mask[:start] = False
    return mask, start


def evaluate_run(
    runner: EngineRunner,
    boxes: np.ndarray,
    absent: np.ndarray,
    *,
    cancelled: CancelCheck | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationRun:
    """Track the whole video with ``runner`` from the first annotated box and score it.

    ``boxes`` (N, 4) NaN where a frame has no box, ``absent`` (N,) bool: the annotation's
    ``boxes_array()`` and ``absent_array()`` (snapshots; the annotation itself is not touched).
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    absent = np.asarray(absent, dtype=bool)
    count = len(boxes)
    mask, start = evaluation_truth(boxes, absent)
    predicted = np.full((count, 4), np.nan)
    scores = np.full(count, np.nan)
    predicted[start] = boxes[start]
    seconds = 0.0
    engine = ""
    total = count - start - 1
    began = time.perf_counter()
    for done, update in enumerate(
        runner.run(Anchor(start, Box(*boxes[start])), count, False, cancelled), start=1
    ):
        predicted[update.index] = update.box
        if update.score is not None:
            scores[update.index] = update.score
        seconds += update.seconds
        engine = update.engine
        if progress is not None and (done % 10 == 0 or done == total):
            progress(done, total)
    if not engine:
        engine = "none"
        seconds = time.perf_counter() - began
    truth = np.where(absent[:, None], 0.0, np.nan_to_num(boxes, nan=0.0))
    ground = GroundTruth("video", truth[mask], absent[mask])
    prediction = Prediction.from_boxes(np.nan_to_num(predicted[mask], nan=0.0))
    metrics = compute_curves([ground], {"video": prediction}).sequence("video").scores()
    ious = np.full(count, np.nan)
    ious[mask] = overlap(np.nan_to_num(predicted[mask], nan=0.0), ground.boxes)
    return EvaluationRun(engine, start, predicted, scores, ious, metrics, int(mask.sum()), seconds)
