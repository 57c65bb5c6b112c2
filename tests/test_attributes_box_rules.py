"""Box-only rules (LEN, FM, SV, ARV exact; FO, OV heuristic) at and around every threshold."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.attributes import (
    propose_aspect_ratio_variation,
    propose_fast_motion,
    propose_length,
    propose_occlusion_and_out_of_view,
    propose_scale_variation,
)

NONE_ABSENT = None


@pytest.mark.parametrize(
    ("n", "value", "label"),
    [
        (2, 0, "short"),
        (600, 0, "short"),
        (601, 1, "medium"),
        (1800, 1, "medium"),
        (1801, 2, "long"),
    ],
)
def test_length(n, value, label):
    proposal = propose_length(n)
    assert (proposal.code, proposal.index, proposal.value, proposal.kind) == (
        "LEN",
        16,
        value,
        "exact",
    )
    assert proposal.label == label
    assert f"n = {n} frames" in proposal.rule and proposal.rule.endswith(label)


def _two(first: list[float], second: list[float]) -> np.ndarray:
    return np.array([first, second], dtype=float)


@pytest.mark.parametrize(
    ("second", "value"),
    [
        ([110, 100, 10, 10], 0),  # moved exactly its size: delta = 10 / 10 = 1
        ([110.001, 100, 10, 10], 1),  # just more
        ([106, 108, 10, 10], 0),  # moved (6, 8) -> 10 px: still exactly 1
        ([106, 108.01, 10, 10], 1),
        ([105, 100, 10, 10], 0),
    ],
)
def test_fast_motion_threshold(second, value):
    proposal = propose_fast_motion(_two([100, 100, 10, 10], second), NONE_ABSENT)
    assert (proposal.code, proposal.value, proposal.kind) == ("FM", value, "exact")
    if value:
        assert proposal.evidence_frames == (1,)
        assert "at frame 2" in proposal.rule


def test_fast_motion_uses_geometric_mean_size():
    # sizes 10 and 40: the scale is sqrt(10 * 40) = 20, not either size
    boxes = _two([0, 0, 10, 10], [5, -15, 40, 40])  # centre (5, 5) -> (25, 5): delta 20/20 = 1
    assert propose_fast_motion(boxes, None).value == 0
    boxes = _two([0, 0, 10, 10], [5, 5, 40, 40])  # centre (5, 5) -> (25, 25): delta sqrt(2)
    assert propose_fast_motion(boxes, None).value == 1


def test_fast_motion_ignores_jumps_across_absence():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 0, 0], [500, 0, 10, 10], [505, 0, 10, 10]], float)
    proposal = propose_fast_motion(boxes, [0, 1, 0, 0])
    assert proposal.value == 0
    no_pairs = propose_fast_motion(boxes[:3], [0, 1, 0])
    assert no_pairs.value == 0 and "not measurable" in no_pairs.rule


@pytest.mark.parametrize(
    ("w", "h", "value"),
    [
        (5, 5, 0),  # size ratio exactly 0.5
        (20, 20, 0),  # exactly 2
        (4.99, 5, 1),  # just below 0.5
        (20.01, 20, 1),  # just above 2
        (10, 2.5, 0),  # sqrt(25) / 10 = 0.5 with another shape
        (40, 10, 0),  # sqrt(400) / 10 = 2
        (40, 10.01, 1),
        (12, 9, 0),
    ],
)
def test_scale_variation_threshold(w, h, value):
    proposal = propose_scale_variation(_two([50, 50, 10, 10], [50, 50, w, h]), None)
    assert (proposal.code, proposal.value, proposal.kind) == ("SV", value, "exact")
    assert proposal.evidence_frames == ((1,) if value else ())


@pytest.mark.parametrize(
    ("w", "h", "value"),
    [
        (10, 20, 0),  # aspect 0.5 / 1 = 0.5
        (20, 10, 0),  # exactly 2
        (10, 20.01, 1),
        (20.01, 10, 1),
        (30, 15, 0),
        (7, 15, 1),
    ],
)
def test_aspect_ratio_variation_threshold(w, h, value):
    proposal = propose_aspect_ratio_variation(_two([50, 50, 10, 10], [50, 50, w, h]), None)
    assert (proposal.code, proposal.value, proposal.kind) == ("ARV", value, "exact")


def test_aspect_ratio_reference_not_square():
    # first box 30x10 (aspect 3); 15x10 is aspect 1.5 -> ratio exactly 0.5
    assert propose_aspect_ratio_variation(_two([0, 0, 30, 10], [0, 0, 15, 10]), None).value == 0
    assert propose_aspect_ratio_variation(_two([0, 0, 30, 10], [0, 0, 14, 10]), None).value == 1


def test_reference_is_first_present_frame():
    boxes = np.array([[0, 0, 100, 100], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 19, 19]], float)
    absent = [1, 0, 0, 0]  # the stale 100x100 box under the absent flag is not the reference
    sv = propose_scale_variation(boxes, absent)
    assert sv.value == 0 and "first present frame (2)" in sv.rule
    assert propose_scale_variation(boxes, None).value == 1
    boxes[0] = 0  # an empty box is absent too
    assert propose_scale_variation(boxes, None).value == 0


def test_ratio_rules_without_present_frames():
    assert propose_scale_variation(np.zeros((3, 4)), None).value == 0
    assert propose_aspect_ratio_variation(np.zeros((3, 4)), None).value == 0


SIZE = (640, 480)


def _with_gap(before: list[float], after: list[float], gap: int = 3) -> tuple:
    boxes = np.array([before] * 2 + [[0, 0, 0, 0]] * gap + [after] * 2, dtype=float)
    absent = np.array([0, 0] + [1] * gap + [0, 0], bool)
    return boxes, absent


def test_absent_run_between_interior_boxes_is_full_occlusion():
    boxes, absent = _with_gap([300, 200, 20, 20], [310, 205, 20, 20])
    fo, ov = propose_occlusion_and_out_of_view(boxes, absent, SIZE)
    assert (fo.code, fo.value, fo.kind) == ("FO", 1, "heuristic")
    assert (ov.code, ov.value, ov.kind) == ("OV", 0, "heuristic")
    assert fo.evidence_frames == (2,)
    assert "heuristic" in fo.rule and "3-5" in fo.rule


@pytest.mark.parametrize(
    "border_box",
    [
        [0, 200, 20, 20],  # left edge
        [300, 3, 20, 20],  # within the 3 px margin of the top
        [620, 200, 20, 20],  # right edge at x + w = 640
        [300, 457, 20, 20],  # bottom within margin: 477 >= 480 - 3
        [-10, 200, 20, 20],  # partly outside
    ],
)
def test_absent_run_next_to_border_box_is_out_of_view(border_box):
    boxes, absent = _with_gap(border_box, [300, 200, 20, 20])
    fo, ov = propose_occlusion_and_out_of_view(boxes, absent, SIZE)
    assert (fo.value, ov.value) == (0, 1)
    # the neighbour after the run counts as well
    boxes, absent = _with_gap([300, 200, 20, 20], border_box)
    fo, ov = propose_occlusion_and_out_of_view(boxes, absent, SIZE)
    assert (fo.value, ov.value) == (0, 1)


def test_margin_boundary():
    boxes, absent = _with_gap([4, 200, 20, 20], [300, 200, 20, 20])  # 4 px from the edge
    assert propose_occlusion_and_out_of_view(boxes, absent, SIZE)[0].value == 1
    assert propose_occlusion_and_out_of_view(boxes, absent, SIZE, margin=4)[1].value == 1


def test_both_kinds_of_runs_and_runs_at_the_ends():
    boxes = np.array(
        [
            [0, 0, 0, 0],
            [0, 100, 20, 20],
            [300, 200, 20, 20],
            [0, 0, 0, 0],
            [310, 200, 20, 20],
            [600, 100, 40, 20],
            [0, 0, 0, 0],
        ],
        dtype=float,
    )
    absent = [1, 0, 0, 1, 0, 0, 1]
    fo, ov = propose_occlusion_and_out_of_view(boxes, absent, SIZE)
    assert fo.value == 1 and fo.evidence_frames == (3,)
    assert ov.value == 1 and ov.evidence_frames == (0, 6)


def test_no_absence_and_all_absent():
    boxes = np.tile([10.0, 10, 20, 20], (5, 1))
    fo, ov = propose_occlusion_and_out_of_view(boxes, None, SIZE)
    assert (fo.value, ov.value) == (0, 0)
    fo, ov = propose_occlusion_and_out_of_view(np.zeros((4, 4)), [1, 1, 1, 1], SIZE)
    assert (fo.value, ov.value) == (0, 0)
