"""Per-frame measures, computed exactly as the MMOT evaluation toolkit computes them.

The toolkit (github.com/983632847/Awesome-Multimodal-Object-Tracking, folder
``MMOT_Evaluation_Toolkit``: ``got10k/utils/metrics.py`` for the curves and
``VL-SOT500_Accuracy_Evaluation.py`` for mACC) is a fork of the GOT-10k toolkit. Published
VL-SOT500 numbers come from it, so every formula below repeats its arithmetic operation by
operation (including its epsilons and its ``(w - 1) / 2`` centre), not a cleaner equivalent:
a tie at a threshold must fall on the same side as in the toolkit.

All functions take ``(N, 4)`` float64 arrays ``pred`` and ``gt`` (x, y, w, h) and return ``(N,)``.
"""

from __future__ import annotations

import math

import numpy as np

_EPS = float(np.finfo(float).eps)
#: the toolkit's guard against a zero gt width/height in the normalised centre error
NORM_EPS = 1e-16


def overlap(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU for the success curve: ``inter / (union + eps)`` clipped to [0, 1].

    An absent frame (gt ``0,0,0,0``) gets 0 whatever the prediction, so it fails every
    threshold of a strict ``IoU > thr`` test, including 0.
    """
    left = np.maximum(pred[:, 0], gt[:, 0])
    top = np.maximum(pred[:, 1], gt[:, 1])
    right = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2])
    bottom = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3])
    inter = np.maximum(right - left, 0) * np.maximum(bottom - top, 0)
    union = pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(inter / (union + _EPS), 0.0, 1.0)


def centers(boxes: np.ndarray) -> np.ndarray:
    """The toolkit's centre ``xy + (wh - 1) / 2`` (pixel-index convention, not ``wh / 2``)."""
    return boxes[:, :2] + (boxes[:, 2:] - 1) / 2


def center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distance of the centres in pixels (precision curve).

    For an absent frame the gt centre is (-0.5, -0.5), so a ``0,0,0,0`` prediction has error
    exactly 0 and passes every threshold, as DESIGN.md §4 says. The toolkit does no more than
    this arithmetic, so a prediction whose centre lies within ``thr`` pixels of (-0.5, -0.5)
    (a small box in the image's top-left corner) passes too; we keep that, to reproduce
    published numbers (DESIGN.md's "only 0,0,0,0" is exact for P_norm, not for P).
    """
    diff = centers(pred) - centers(gt)
    return np.sqrt(np.sum(np.power(diff, 2), axis=-1))


def normalized_center_error(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Centre distance with each axis divided by the gt width/height (+1e-16).

    Both centres are divided before subtracting, as in the toolkit: for an absent frame the
    divisor is 1e-16, so any prediction whose centre is not exactly (-0.5, -0.5) (in practice:
    anything but ``0,0,0,0``) gets an astronomically large error and fails.
    """
    scale = gt[:, 2:] + NORM_EPS
    diff = centers(pred) / scale - centers(gt) / scale
    return np.sqrt(np.sum(np.power(diff, 2), axis=-1))


def complete_overlap(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """CIoU = IoU - rho^2 / c^2 - alpha * v, clipped to [0, 1] (complete success curve).

    Degenerate boxes give NaN exactly where the toolkit's torch code does (0/0 in the IoU, the
    diagonal or the aspect ratio); NaN fails every ``>`` test, so an absent frame always fails.
    """
    w1, h1, w2, h2 = pred[:, 2], pred[:, 3], gt[:, 2], gt[:, 3]
    cx1 = pred[:, 0] + w1 / 2
    cy1 = pred[:, 1] + h1 / 2
    cx2 = gt[:, 0] + w2 / 2
    cy2 = gt[:, 1] + h2 / 2
    l1, r1, t1, b1 = cx1 - w1 / 2, cx1 + w1 / 2, cy1 - h1 / 2, cy1 + h1 / 2
    l2, r2, t2, b2 = cx2 - w2 / 2, cx2 + w2 / 2, cy2 - h2 / 2, cy2 + h2 / 2
    inter = np.maximum(np.minimum(r1, r2) - np.maximum(l1, l2), 0) * np.maximum(
        np.minimum(b1, b2) - np.maximum(t1, t2), 0
    )
    diag = (
        np.maximum(np.maximum(r1, r2) - np.minimum(l1, l2), 0) ** 2
        + np.maximum(np.maximum(b1, b2) - np.minimum(t1, t2), 0) ** 2
    )
    with np.errstate(all="ignore"):  # 0/0 and x/tiny are part of the definition
        rho = ((cx2 - cx1) ** 2 + (cy2 - cy1) ** 2) / diag
        iou = inter / (w1 * h1 + w2 * h2 - inter)
        v = (4 / (math.pi**2)) * (np.arctan(w2 / h2) - np.arctan(w1 / h1)) ** 2
        alpha = v / (1 - iou + v + _EPS)
        ciou = iou - rho - alpha * v
        return np.clip(np.clip(ciou, -1.0, 1.0), 0.0, 1.0)


def plain_overlap(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU as the mACC script computes it: 0 without overlap, else ``inter / union`` (no eps).

    Areas are ``((x + w) - x) * ((y + h) - y)`` as there, which can differ from ``w * h`` in
    the last bit.
    """
    right1, bottom1 = pred[:, 0] + pred[:, 2], pred[:, 1] + pred[:, 3]
    right2, bottom2 = gt[:, 0] + gt[:, 2], gt[:, 1] + gt[:, 3]
    overlap_w = np.minimum(right1, right2) - np.maximum(pred[:, 0], gt[:, 0])
    overlap_h = np.minimum(bottom1, bottom2) - np.maximum(pred[:, 1], gt[:, 1])
    overlaps = (overlap_w > 0) & (overlap_h > 0)
    inter = np.where(overlaps, overlap_w * overlap_h, 0.0)
    area1 = (right1 - pred[:, 0]) * (bottom1 - pred[:, 1])
    area2 = (right2 - gt[:, 0]) * (bottom2 - gt[:, 1])
    union = area1 + area2 - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(overlaps, inter / np.where(overlaps, union, 1.0), 0.0)


def frame_accuracy(
    pred: np.ndarray, gt: np.ndarray, absent: np.ndarray, empty: np.ndarray
) -> np.ndarray:
    """Per-frame mACC term (Anti-UAV style accuracy of the toolkit's accuracy script).

    Present target: the IoU, or 0 when the tracker gave no box. Absent target: 1 when the
    tracker gave no box (an empty line or a bare ``0``), else 0 -- a ``0,0,0,0`` line is a box,
    so it scores 0 on an absent frame, as in the toolkit.
    """
    present_score = np.where(empty, 0.0, plain_overlap(pred, gt))
    return np.where(absent, empty.astype(np.float64), present_score)
