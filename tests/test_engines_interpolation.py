"""Linear box interpolation between keyframes, checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.boxes import Box
from costcore.engines.interpolation import interpolate_segment, lerp_box


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


def test_segment_errors_name_frames_from_one() -> None:
    with pytest.raises(ValueError, match="keyframe at frame 5: expected 4 finite numbers"):
        interpolate_segment(0, (0, 0, 1, 1), 4, (0, float("nan"), 1, 1))
    with pytest.raises(ValueError, match="keyframe at frame 1: expected 4 finite numbers"):
        interpolate_segment(0, (0, 0, 1), 4, (0, 0, 1, 1))
    with pytest.raises(ValueError, match="frame 6 does not come after the keyframe at frame 6"):
        interpolate_segment(5, (0, 0, 1, 1), 5, (0, 0, 1, 1))
