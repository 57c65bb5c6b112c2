"""The VL-SOT500 small-object rule: mean relative size < 1 % and mean absolute size < 22 px."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from costcore.attributes import small_object_stats


def _square(side: float, frames: int = 3) -> np.ndarray:
    return np.tile([10.0, 10.0, side, side], (frames, 1))


def test_both_conditions_required_at_the_boundaries():
    # 2200 x 2200 image: 1 % of sqrt(W*H) is exactly 22 px
    big = (2200, 2200)
    assert small_object_stats(_square(21.9), None, big).is_small
    at_both = small_object_stats(_square(22.0), None, big)
    assert at_both.mean_absolute_size == 22.0
    assert at_both.mean_relative_size == pytest.approx(0.01)
    assert not at_both.is_small  # strict "<" on both

    # 3000 x 3000: 21 px is 0.7 % -> small; 1000 x 1000: 21 px is 2.1 % -> not small
    assert small_object_stats(_square(21.0), None, (3000, 3000)).is_small
    assert not small_object_stats(_square(21.0), None, (1000, 1000)).is_small
    # relative size below 1 % but absolute 22 px -> not small
    assert not small_object_stats(_square(22.0), None, (4000, 4000)).is_small
    # relative exactly 1 % with absolute < 22 px -> not small (1000 x 1000, 10 px)
    at_relative = small_object_stats(_square(10.0), None, (1000, 1000))
    assert at_relative.mean_relative_size == 0.01
    assert not at_relative.is_small
    assert small_object_stats(_square(9.99), None, (1000, 1000)).is_small


def test_averages_only_present_frames():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 500, 500], [0, 0, 20, 5], [0, 0, 0, 0]], float)
    stats = small_object_stats(boxes, [0, 1, 0, 0], (1920, 1080))
    assert stats.present_frames == 2
    assert stats.mean_absolute_size == pytest.approx(10.0)
    assert stats.mean_relative_size == pytest.approx(10.0 / math.sqrt(1920 * 1080))
    assert stats.is_small
    assert "-> small" in stats.describe()


def test_no_present_frame():
    stats = small_object_stats(np.zeros((3, 4)), None, (640, 480))
    assert stats.present_frames == 0
    assert math.isnan(stats.mean_absolute_size)
    assert not stats.is_small


def _read_boxes(path: Path) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", ndmin=2)


def test_truck4_1_real_sequence(truck4_1: Path):
    boxes = _read_boxes(truck4_1 / "truck4_1.txt")
    assert boxes.shape == (193, 4)  # the file has no final newline
    stats = small_object_stats(boxes, None, (1280, 720))
    # the truck is tiny: about 12 px on average, well under 22 px ...
    assert stats.mean_absolute_size == pytest.approx(12.27, abs=0.01)
    assert stats.mean_absolute_size < 22
    # ... but 12.27 / sqrt(1280 * 720) = 12.27 / 960 is 1.28 %, not below 1 %, so under the
    # rule as DESIGN.md states it the sequence is NOT small. Checked here on purpose so that a
    # change of definition is a visible decision, not an accident.
    assert stats.mean_relative_size == pytest.approx(0.01278, abs=1e-5)
    assert not stats.is_small
    # with a relative threshold of 1.5 % it would be
    assert small_object_stats(boxes, None, (1280, 720), relative_threshold=0.015).is_small


def test_airplane_1_real_sequence_is_not_small(airplane_1: Path):
    boxes = _read_boxes(airplane_1 / "groundtruth.txt")
    assert boxes.shape == (2788, 4)
    stats = small_object_stats(boxes, None, (640, 360))
    assert stats.mean_absolute_size > 100
    assert stats.mean_relative_size > 0.1
    assert not stats.is_small
