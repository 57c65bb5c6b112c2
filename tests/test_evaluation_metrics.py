"""Hand-computed cases for every metric (DESIGN.md §4, as the MMOT toolkit computes them)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from costcore.evaluation import (
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    GroundTruth,
    Prediction,
    compute_curves,
)
from costcore.evaluation import box_measures as fm

GT = [100.0, 100.0, 10.0, 10.0]
FAR = [500.0, 500.0, 10.0, 10.0]
ZERO = [0.0, 0.0, 0.0, 0.0]


def scores(gt_rows, pred_rows, empty=None, absent=None):
    """Scores of one sequence."""
    gt_rows = np.array(gt_rows, dtype=float)
    absent = np.zeros(len(gt_rows), bool) if absent is None else np.array(absent)
    empty = np.zeros(len(gt_rows), bool) if empty is None else np.array(empty)
    curves = compute_curves(
        [GroundTruth("s", gt_rows, absent)], {"s": Prediction(pred_rows, empty)}
    )
    return curves.sequence("s")


def one(*rows):
    return np.array([rows], dtype=float)


def test_thresholds_are_the_toolkits():
    assert len(SUCCESS_THRESHOLDS) == 21 and SUCCESS_THRESHOLDS[10] == 0.5
    np.testing.assert_array_equal(PRECISION_THRESHOLDS, np.arange(51))
    assert len(NORM_PRECISION_THRESHOLDS) == 51
    assert NORM_PRECISION_THRESHOLDS[7] == 7 / 100  # arange / 100, not linspace(0, 0.5, 51)


def test_identical_boxes_score_perfectly_except_the_iou_1_threshold():
    # IoU > 1.0 can never pass, so a perfect tracker's AUC is 20/21 in this toolkit.
    result = scores([GT] * 3, [GT] * 3).scores()
    assert result["AUC"] == pytest.approx(20 / 21)
    assert result["cAUC"] == pytest.approx(20 / 21)
    assert result["P"] == 1.0
    assert result["P_norm"] == 1.0
    assert result["mACC"] == 1.0


def test_disjoint_boxes_fail_everything_but_the_replaced_first_frame():
    result = scores([GT] * 4, [GT] + [FAR] * 3).scores()
    assert result["AUC"] == pytest.approx(0.25 * 20 / 21)
    assert result["cAUC"] == pytest.approx(0.25 * 20 / 21)
    assert result["P"] == 0.25
    assert result["P_norm"] == 0.25
    assert result["mACC"] == 0.25


def test_iou_exactly_half_fails_threshold_half_and_passes_045():
    gt, pred = one(0, 0, 10, 10), one(0, 0, 10, 5)
    assert fm.overlap(pred, gt)[0] == 0.5
    curves = scores([[0, 0, 10, 10]] * 2, [[0, 0, 10, 10], [0, 0, 10, 5]])
    assert SUCCESS_THRESHOLDS[9] == pytest.approx(0.45)
    assert curves.success[9] == 1.0  # 0.5 > 0.45 on frame 2, and frame 1
    assert curves.success[10] == 0.5  # 0.5 > 0.5 is false: only frame 1
    assert curves.scores()["AUC"] == pytest.approx((10 * 1.0 + 10 * 0.5 + 0) / 21)


def test_center_error_uses_the_toolkits_w_minus_1_centre():
    # centre = xy + (wh - 1) / 2: a 10 px box at 0 has its centre at 4.5
    np.testing.assert_array_equal(fm.centers(one(0, 0, 10, 10)), [[4.5, 4.5]])


def test_center_error_of_exactly_20_px_passes_and_20_01_fails():
    exact = one(112, 116, 10, 10)  # shifted by (12, 16): distance 20
    assert fm.center_error(exact, one(*GT))[0] == 20.0
    assert scores([GT] * 2, [GT, exact[0]]).precision[20] == 1.0
    assert scores([GT] * 2, [GT, exact[0]]).precision[19] == 0.5
    beyond = [120.01, 100, 10, 10]
    assert scores([GT] * 2, [GT, beyond]).scores()["P"] == 0.5


def test_normalised_precision_divides_each_axis_by_the_gt_size():
    gt = [0, 0, 10, 20]
    pred = [1, 2, 10, 20]  # 0.1 of the width and 0.1 of the height
    error = fm.normalized_center_error(one(*pred), one(*gt))[0]
    assert error == pytest.approx(math.hypot(0.1, 0.1))
    curves = scores([gt] * 2, [gt, pred])
    passing = sum(1 for t in NORM_PRECISION_THRESHOLDS if error <= t)  # 0.15 .. 0.50
    assert passing == 36
    assert curves.scores()["P_norm"] == pytest.approx((51 + 36) / (2 * 51))


def test_absent_frames_fail_auc_and_pass_precision_only_with_a_zero_prediction():
    gt = [GT, ZERO, ZERO]
    absent = [False, True, True]
    zero = scores(gt, [GT, ZERO, ZERO], absent=absent)
    assert zero.success[0] == pytest.approx(1 / 3)  # absent frames fail even IoU > 0
    assert zero.complete_success[0] == pytest.approx(1 / 3)
    assert zero.scores()["P"] == 1.0  # error 0 between two (-0.5, -0.5) centres
    assert zero.scores()["P_norm"] == 1.0
    other = scores(gt, [GT, FAR, [300, 40, 30, 30]], absent=absent)
    assert other.success[0] == pytest.approx(1 / 3)
    assert other.scores()["P"] == pytest.approx(1 / 3)
    assert other.scores()["P_norm"] == pytest.approx(1 / 3)


def test_absent_frame_toolkit_corner_case_small_box_at_the_origin():
    # The toolkit's arithmetic: the absent gt centre is (-0.5, -0.5), so a small box in the
    # top-left corner is within 20 px and passes P (not P_norm, which divides by 1e-16).
    corner = scores([GT, ZERO], [GT, [0, 0, 10, 10]], absent=[False, True])
    assert corner.scores()["P"] == 1.0
    assert corner.norm_precision[50] == 0.5


def test_absent_flag_zeroes_a_stale_box():
    stale = GroundTruth("s", [GT, GT], [False, True])
    np.testing.assert_array_equal(stale.boxes[1], ZERO)
    implied = GroundTruth("s", [GT, ZERO], [False, False])
    assert implied.absent.tolist() == [False, True]


def test_frame_one_replacement_changes_mACC_but_not_the_curves():
    good = scores([GT] * 3, [GT, GT, FAR])
    bad_first = scores([GT] * 3, [FAR, GT, FAR])
    for name in ("AUC", "P", "P_norm", "cAUC"):
        assert good.scores()[name] == bad_first.scores()[name]
    assert good.scores()["mACC"] == pytest.approx(2 / 3)
    assert bad_first.scores()["mACC"] == pytest.approx(1 / 3)


def test_mACC_with_empty_predictions():
    gt = [GT, ZERO, ZERO, GT]
    absent = [False, True, True, False]
    pred = [GT, ZERO, ZERO, ZERO]
    # frame 2: "0" line (empty) on an absent frame -> 1; frame 3: a 0,0,0,0 box -> 0;
    # frame 4: "0" line on a present frame -> 0
    result = scores(gt, pred, empty=[False, True, False, True], absent=absent)
    assert result.accuracy == pytest.approx((1 + 1 + 0 + 0) / 4)


def test_mACC_uses_plain_iou_for_present_frames():
    pred = [100, 100, 10, 5]
    assert scores([GT] * 2, [GT, pred]).accuracy == pytest.approx((1 + 0.5) / 2)


def test_empty_prediction_scores_like_zero_box_in_the_curves():
    as_empty = scores([GT, ZERO], [GT, ZERO], empty=[False, True], absent=[False, True])
    as_zero = scores([GT, ZERO], [GT, ZERO], absent=[False, True])
    np.testing.assert_array_equal(as_empty.precision, as_zero.precision)
    np.testing.assert_array_equal(as_empty.success, as_zero.success)


def test_complete_iou_hand_computed():
    pred, gt = one(2, 0, 4, 4), one(0, 0, 4, 2)
    iou = 4 / (16 + 8 - 4)  # overlap 2 x 2
    rho2 = (4 - 2) ** 2 + (2 - 1) ** 2  # centres (4, 2) and (2, 1)
    c2 = 6**2 + 4**2  # enclosing box 6 x 4
    v = 4 / math.pi**2 * (math.atan(4 / 2) - math.atan(4 / 4)) ** 2
    alpha = v / (1 - iou + v)
    expected = iou - rho2 / c2 - alpha * v
    assert expected == pytest.approx(0.1017554, abs=1e-6)
    assert fm.complete_overlap(pred, gt)[0] == pytest.approx(expected, rel=1e-12)


def test_complete_iou_is_clipped_at_zero_and_nan_for_an_absent_gt():
    assert fm.complete_overlap(one(*FAR), one(*GT))[0] == 0.0
    assert math.isnan(fm.complete_overlap(one(*ZERO), one(*ZERO))[0])
    assert math.isnan(fm.complete_overlap(one(*GT), one(*ZERO))[0])


def test_nan_predictions_fail_every_threshold():
    nan = [math.nan] * 4
    result = scores([GT] * 2, [GT, nan]).scores()
    assert result["AUC"] == pytest.approx(0.5 * 20 / 21)
    assert result["P"] == 0.5
    assert result["P_norm"] == 0.5
    assert result["mACC"] == 0.5


def test_overall_is_the_mean_of_per_sequence_curves():
    gts = [GroundTruth("a", [GT] * 2, [False] * 2), GroundTruth("b", [GT] * 4, [False] * 4)]
    preds = {
        "a": Prediction.from_boxes([GT, FAR]),
        "b": Prediction.from_boxes([GT, GT, GT, FAR]),
    }
    curves = compute_curves(gts, preds)
    assert curves.mean().scores()["P"] == pytest.approx((0.5 + 0.75) / 2)  # not 5/6 pooled
    per_sequence = [curves.sequence(n).scores() for n in curves.names]
    for name, value in curves.mean().scores().items():
        assert value == pytest.approx(np.mean([s[name] for s in per_sequence]))


def test_compute_curves_rejects_a_length_mismatch():
    with pytest.raises(ValueError, match="3 frames"):
        compute_curves(
            [GroundTruth("s", [GT] * 2, [False] * 2)], {"s": Prediction.from_boxes([GT] * 3)}
        )
