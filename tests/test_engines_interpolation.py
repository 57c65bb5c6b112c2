"""Linear box interpolation between keyframes, checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.boxes import Box
from costcore.engines.interpolation import interpolate_keyframes, interpolate_segment, lerp_box


def test_lerp_box_ends_and_middle() -> None:
    a, b = Box(0, 0, 10, 20), Box(10, 40, 30, 0)
    assert lerp_box(a, b, 0.0) == a
    assert lerp_box(a, b, 1.0) == b
    assert lerp_box(a, b, 0.25) == Box(2.5, 10.0, 15.0, 15.0)


def test_segment_fills_only_the_frames_between() -> None:
    # from (10,20,30,40) at frame 2 to (20,0,10,80) at frame 6: steps of (2.5,-5,-5,10)
    boxes = interpolate_segment(2, (10, 20, 30, 40), 6, np.array([20, 0, 10, 80]))
    assert list(boxes) == [3, 4, 5]
    assert boxes[3] == Box(12.5, 15.0, 25.0, 50.0)
    assert boxes[4] == Box(15.0, 10.0, 20.0, 60.0)
    assert boxes[5] == Box(17.5, 5.0, 15.0, 70.0)
    assert interpolate_segment(4, (0, 0, 1, 1), 5, (1, 1, 1, 1)) == {}


def test_keyframes_give_every_frame_from_first_to_last() -> None:
    boxes = interpolate_keyframes({10: (100, 50, 20, 10), 7: (40, 50, 20, 10), 12: (0, 0, 4, 4)})
    assert sorted(boxes) == list(range(7, 13))
    assert boxes[7] == Box(40, 50, 20, 10)  # keyframes unchanged
    assert boxes[8] == Box(60, 50, 20, 10)
    assert boxes[9] == Box(80, 50, 20, 10)
    assert boxes[11] == Box(50, 25, 12, 7)
    assert all(isinstance(v, float) for v in boxes[9])


def test_absent_keyframes_break_the_interpolation() -> None:
    boxes = interpolate_keyframes(
        [(0, (0, 0, 2, 2)), (2, (2, 2, 2, 2)), (4, None), (6, (9, 9, 1, 1))]
    )
    assert sorted(boxes) == [0, 1, 2, 6]
    assert boxes[1] == Box(1, 1, 2, 2)


def test_single_and_no_keyframes() -> None:
    assert interpolate_keyframes({5: Box(1, 2, 3, 4)}) == {5: Box(1, 2, 3, 4)}
    assert interpolate_keyframes({}) == {}


@pytest.mark.parametrize(
    "keyframes",
    [
        [(1, (0, 0, 1, 1)), (1, (0, 0, 2, 2))],  # twice
        {-1: (0, 0, 1, 1)},  # negative
        {0: (0, 0, 1)},  # three numbers
        {0: (0, float("nan"), 1, 1)},
    ],
)
def test_bad_keyframes_raise(keyframes: object) -> None:
    with pytest.raises(ValueError):
        interpolate_keyframes(keyframes)  # type: ignore[arg-type]


def test_keyframe_errors_count_frames_from_one() -> None:
    with pytest.raises(ValueError, match="keyframe at frame 5: expected 4 finite numbers"):
        interpolate_keyframes({0: (0, 0, 1, 1), 4: (0, float("nan"), 1, 1)})
    with pytest.raises(ValueError, match="the keyframe at frame 2 is given twice"):
        interpolate_keyframes([(1, (0, 0, 1, 1)), (1, (0, 0, 2, 2))])
    with pytest.raises(ValueError, match="frame 6 does not come after the keyframe at frame 6"):
        interpolate_segment(5, (0, 0, 1, 1), 5, (0, 0, 1, 1))


def test_segment_needs_increasing_indices() -> None:
    with pytest.raises(ValueError):
        interpolate_segment(5, (0, 0, 1, 1), 5, (0, 0, 1, 1))
