"""Relative speed (Eq. 1) against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcore.attributes import average_relative_speed, relative_speed


def test_moving_box_with_size_change():
    boxes = np.array(
        [
            [0, 0, 10, 10],  # centre (5, 5), s = 10
            [3, 4, 10, 10],  # centre (8, 9): moved 5, sqrt(10*10) = 10 -> 0.5
            [3, 4, 40, 10],  # centre (23, 9): moved 15, s = 20, sqrt(10*20) -> 15/sqrt(200)
            [3, 4, 40, 10],  # did not move -> 0
        ],
        dtype=float,
    )
    speed = relative_speed(boxes, np.zeros(4, bool))
    np.testing.assert_allclose(speed, [0.0, 0.5, 15 / math.sqrt(200), 0.0], rtol=1e-12)


def test_absent_frames_give_zero_at_t_and_t_plus_1():
    boxes = np.array(
        [[0, 0, 10, 10], [10, 0, 10, 10], [0, 0, 0, 0], [30, 0, 10, 10], [40, 0, 10, 10]],
        dtype=float,
    )
    absent = np.array([0, 0, 1, 0, 0], bool)
    np.testing.assert_allclose(relative_speed(boxes, absent), [0, 1, 0, 0, 1])


def test_absent_flag_with_stale_box_and_empty_box_without_flag():
    # LaSOT keeps stale boxes under absent flags; an empty box is absent whatever the flag
    boxes = np.array([[0, 0, 10, 10], [10, 0, 10, 10], [20, 0, 10, 10], [30, 0, 10, 10]], float)
    np.testing.assert_allclose(relative_speed(boxes, [0, 1, 0, 0]), [0, 0, 0, 1])
    boxes[1] = 0
    np.testing.assert_allclose(relative_speed(boxes, [0, 0, 0, 0]), [0, 0, 0, 1])
    np.testing.assert_allclose(relative_speed(boxes, None), [0, 0, 0, 1])


def test_fps_time_base_divides_by_one_over_fps():
    boxes = np.array([[0, 0, 10, 10], [3, 4, 10, 10], [3, 4, 10, 10]], float)
    frames = relative_speed(boxes, np.zeros(3, bool))
    seconds = relative_speed(boxes, np.zeros(3, bool), fps=25.0)
    np.testing.assert_allclose(seconds, [0.0, 0.5 / (1 / 25.0), 0.0])
    np.testing.assert_allclose(seconds, frames * 25.0)


def test_bad_fps():
    with pytest.raises(ValueError, match="fps"):
        relative_speed(np.ones((2, 4)), None, fps=0.0)


def test_short_inputs():
    assert relative_speed(np.zeros((0, 4)), []).shape == (0,)
    np.testing.assert_array_equal(relative_speed([[1, 2, 3, 4]], [False]), [0.0])
    assert average_relative_speed(np.zeros((0, 4)), []) == 0.0


def test_length_mismatch():
    with pytest.raises(ValueError, match="3 boxes but 2"):
        relative_speed(np.ones((3, 4)), [0, 0])


def test_average_excludes_frame_one_and_frames_touching_absence():
    boxes = np.array(
        [[0, 0, 10, 10], [10, 0, 10, 10], [0, 0, 0, 0], [30, 0, 10, 10], [35, 0, 10, 10]],
        dtype=float,
    )
    absent = np.array([0, 0, 1, 0, 0], bool)
    # defined at frames 2 (1.0) and 5 (0.5); frames 1, 3, 4 are not averaged as zeros
    assert average_relative_speed(boxes, absent) == pytest.approx(0.75)
    assert average_relative_speed(boxes, absent, fps=10) == pytest.approx(7.5)
    assert average_relative_speed(boxes[:1], absent[:1]) == 0.0
    assert average_relative_speed(boxes, np.ones(5, bool)) == 0.0


box_rows = st.lists(
    st.tuples(st.floats(-100, 1000), st.floats(-100, 1000), st.floats(1, 300), st.floats(1, 300)),
    min_size=2,
    max_size=20,
)


@settings(max_examples=60, deadline=None)
@given(box_rows, st.floats(0.1, 10), st.floats(-50, 50), st.floats(-50, 50))
def test_invariant_to_image_scale_and_translation(rows, scale, dx, dy):
    boxes = np.array(rows)
    moved = boxes * scale
    moved[:, 0] += dx
    moved[:, 1] += dy
    absent = np.zeros(len(rows), bool)
    np.testing.assert_allclose(
        relative_speed(moved, absent), relative_speed(boxes, absent), rtol=1e-9, atol=1e-12
    )
