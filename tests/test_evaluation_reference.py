"""An independent, frame-by-frame reference of the toolkit's metrics, and property tests
that the vectorised code agrees with it on random data (ties included).

The reference follows the MMOT toolkit's code path literally (a Python loop per frame,
``math`` instead of numpy), so it shares no code with ``costcore.evaluation``. The threshold
values are the toolkit's definitions (``linspace(0, 1, 21)``, ``arange(51)``,
``arange(51) / 100``): they are part of the spec, and a tie must fall on the same side.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from costcore.evaluation import GroundTruth, Prediction, compute_curves

EPS = float(np.finfo(float).eps)
IOU_THRESHOLDS = [float(t) for t in np.linspace(0, 1, 21)]
PIXEL_THRESHOLDS = list(range(51))
NORM_THRESHOLDS = [float(t) for t in np.arange(51) / 100]


def ref_iou(p, g):
    iw = max(min(p[0] + p[2], g[0] + g[2]) - max(p[0], g[0]), 0)
    ih = max(min(p[1] + p[3], g[1] + g[3]) - max(p[1], g[1]), 0)
    inter = iw * ih
    value = inter / (p[2] * p[3] + g[2] * g[3] - inter + EPS)
    return min(max(value, 0.0), 1.0)


def ref_center(b):
    return (b[0] + (b[2] - 1) / 2, b[1] + (b[3] - 1) / 2)


def ref_center_error(p, g):
    (px, py), (gx, gy) = ref_center(p), ref_center(g)
    return math.sqrt((px - gx) ** 2 + (py - gy) ** 2)


def ref_norm_error(p, g):
    (px, py), (gx, gy) = ref_center(p), ref_center(g)
    sx, sy = g[2] + 1e-16, g[3] + 1e-16
    return math.sqrt((px / sx - gx / sx) ** 2 + (py / sy - gy / sy) ** 2)


def _div(a, b):
    """IEEE division as torch does it (x/0 = +-inf, 0/0 = nan)."""
    if b == 0:
        return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a)
    return a / b


def ref_ciou(p, g):
    w1, h1, w2, h2 = p[2], p[3], g[2], g[3]
    cx1, cy1 = p[0] + w1 / 2, p[1] + h1 / 2
    cx2, cy2 = g[0] + w2 / 2, g[1] + h2 / 2
    iw = max(min(cx1 + w1 / 2, cx2 + w2 / 2) - max(cx1 - w1 / 2, cx2 - w2 / 2), 0)
    ih = max(min(cy1 + h1 / 2, cy2 + h2 / 2) - max(cy1 - h1 / 2, cy2 - h2 / 2), 0)
    inter = iw * ih
    cw = max(max(cx1 + w1 / 2, cx2 + w2 / 2) - min(cx1 - w1 / 2, cx2 - w2 / 2), 0)
    ch = max(max(cy1 + h1 / 2, cy2 + h2 / 2) - min(cy1 - h1 / 2, cy2 - h2 / 2), 0)
    rho = _div((cx2 - cx1) ** 2 + (cy2 - cy1) ** 2, cw**2 + ch**2)
    iou = _div(inter, w1 * h1 + w2 * h2 - inter)
    v = 4 / math.pi**2 * (math.atan(_div(w2, h2)) - math.atan(_div(w1, h1))) ** 2
    alpha = _div(v, 1 - iou + v + EPS)
    ciou = iou - rho - alpha * v
    return math.nan if math.isnan(ciou) else min(max(ciou, 0.0), 1.0)


def ref_accuracy_term(p, g, absent, empty):
    """The toolkit's mACC script, frame by frame."""
    if absent:
        return 1.0 if empty else 0.0
    if empty:
        return 0.0
    x1p, y1p, x1g, y1g = p[0] + p[2], p[1] + p[3], g[0] + g[2], g[1] + g[3]
    ox0, oy0, ox1, oy1 = max(p[0], g[0]), max(p[1], g[1]), min(x1p, x1g), min(y1p, y1g)
    if ox1 - ox0 <= 0 or oy1 - oy0 <= 0:
        return 0.0
    inter = (ox1 - ox0) * (oy1 - oy0)
    return inter / ((x1p - p[0]) * (y1p - p[1]) + (x1g - g[0]) * (y1g - g[1]) - inter)


def reference_curves(gt_boxes, absent, pred_boxes, empty):
    """(success, precision, norm_precision, complete_success, mACC) of one sequence."""
    n = len(gt_boxes)
    gts = [(0.0, 0.0, 0.0, 0.0) if absent[i] else tuple(map(float, gt_boxes[i])) for i in range(n)]
    raw = [(0.0, 0.0, 0.0, 0.0) if empty[i] else tuple(map(float, pred_boxes[i])) for i in range(n)]
    succ, prec, norm, comp = [0] * 21, [0] * 51, [0] * 51, [0] * 21
    acc = 0.0
    for i in range(n):
        g = gts[i]
        p = g if i == 0 else raw[i]  # frame 1 replaced by the ground truth
        iou, err, nerr, ciou = (
            ref_iou(p, g),
            ref_center_error(p, g),
            ref_norm_error(p, g),
            ref_ciou(p, g),
        )
        for j, thr in enumerate(IOU_THRESHOLDS):
            succ[j] += iou > thr
            comp[j] += ciou > thr
        for j, thr in enumerate(PIXEL_THRESHOLDS):
            prec[j] += err <= thr
        for j, thr in enumerate(NORM_THRESHOLDS):
            norm[j] += nerr <= thr
        acc += ref_accuracy_term(raw[i], g, bool(absent[i]), bool(empty[i]))
    return (
        [s / n for s in succ],
        [s / n for s in prec],
        [s / n for s in norm],
        [s / n for s in comp],
        acc / n,
    )


def reference_scores(sequences):
    """Overall scores from a list of (gt_boxes, absent, pred_boxes, empty), toolkit style."""
    per_seq = [reference_curves(*seq) for seq in sequences]
    count = len(per_seq)
    succ = [sum(c[0][j] for c in per_seq) / count for j in range(21)]
    prec = [sum(c[1][j] for c in per_seq) / count for j in range(51)]
    norm = [sum(c[2][j] for c in per_seq) / count for j in range(51)]
    comp = [sum(c[3][j] for c in per_seq) / count for j in range(21)]
    return {
        "AUC": sum(succ) / 21,
        "P": prec[20],
        "P_norm": sum(norm) / 51,
        "cAUC": sum(comp) / 21,
        "mACC": sum(c[4] for c in per_seq) / count,
    }


# ---------------------------------------------------------------- property tests

coordinate = st.integers(min_value=-5, max_value=40)  # small integers: many exact ties
size = st.integers(min_value=0, max_value=30)


@st.composite
def sequence_case(draw):
    n = draw(st.integers(min_value=2, max_value=12))
    rows = st.tuples(coordinate, coordinate, size, size)
    gt = np.array(draw(st.lists(rows, min_size=n, max_size=n)), dtype=float)
    pred = np.array(draw(st.lists(rows, min_size=n, max_size=n)), dtype=float)
    absent = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    empty = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    # sometimes halves and copies of the gt, for exact IoU / distance ties
    if draw(st.booleans()):
        pred = pred / 2
    copy = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    pred[copy] = gt[copy]
    # the toolkit knows absence only as a 0,0,0,0 ground-truth row: a present box drawn as
    # 0,0,0,0 is an absent frame to it, so the reference must say so too
    absent |= np.all(gt == 0.0, axis=1)
    gt[absent] = 0.0
    return gt, absent, pred, empty


@settings(max_examples=100, deadline=None)
@given(st.lists(sequence_case(), min_size=1, max_size=4))
def test_vectorised_curves_match_frame_by_frame_reference(cases):
    gts = [GroundTruth(f"s{i}", g, a) for i, (g, a, _, _) in enumerate(cases)]
    preds = {f"s{i}": Prediction(p, e) for i, (_, _, p, e) in enumerate(cases)}
    curves = compute_curves(gts, preds)
    for i, case in enumerate(cases):
        succ, prec, norm, comp, acc = reference_curves(*case)
        np.testing.assert_array_equal(curves.success[i], succ)
        np.testing.assert_array_equal(curves.precision[i], prec)
        np.testing.assert_array_equal(curves.norm_precision[i], norm)
        np.testing.assert_array_equal(curves.complete_success[i], comp)
        assert math.isclose(curves.accuracy[i], acc, rel_tol=1e-12, abs_tol=1e-12)
    expected = reference_scores(cases)
    for name, value in curves.mean().scores().items():
        assert math.isclose(value, expected[name], rel_tol=1e-12, abs_tol=1e-12), name


#: box sizes in pixels: empty, or at least a thousandth of a pixel (sizes like 1e-259 make the
#: reference's own area products underflow to 0, a division by zero no real box meets)
SIZES = st.one_of(st.just(0.0), st.floats(1e-3, 60))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.floats(-50, 50, allow_nan=False)] * 2, SIZES, SIZES),
        min_size=4,
        max_size=4,
    )
)
def test_random_float_boxes_match_reference(rows):
    gt = np.array(rows[:2], dtype=float)
    pred = np.array(rows[2:], dtype=float)
    case = (gt, np.zeros(2, bool), pred, np.zeros(2, bool))
    curves = compute_curves([GroundTruth("s", gt, case[1])], {"s": Prediction(pred, case[3])})
    succ, prec, norm, comp, _ = reference_curves(*case)
    np.testing.assert_array_equal(curves.success[0], succ)
    np.testing.assert_array_equal(curves.precision[0], prec)
    np.testing.assert_array_equal(curves.norm_precision[0], norm)
    np.testing.assert_array_equal(curves.complete_success[0], comp)
