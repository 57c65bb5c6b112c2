"""Frame-based rules (BRI exact; IV, MB heuristic) and the full proposal pass, on fake videos."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from costcore.attributes import (
    ProposalSettings,
    measure_frames,
    proposals_to_values,
    propose_attributes,
    propose_brightness,
)
from costcore.errors import Cancelled
from costcore.video.base import FrameSource

WIDTH, HEIGHT = 96, 72


class FakeFrames(FrameSource):
    """Frames made by a function of the index; counts reads to check one pass."""

    def __init__(self, count: int, make: Callable[[int], np.ndarray]) -> None:
        self.path = Path("fake")
        self._count = count
        self._make = make
        self.reads: list[int] = []

    @property
    def frame_count(self) -> int:
        return self._count

    @property
    def frame_size(self) -> tuple[int, int]:
        return (WIDTH, HEIGHT)

    @property
    def fps(self) -> float:
        return 30.0

    def frame(self, index: int) -> np.ndarray:
        if not 0 <= index < self._count:
            raise IndexError(index)
        self.reads.append(index)
        return self._make(index)


def constant(value: int) -> Callable[[int], np.ndarray]:
    return lambda _: np.full((HEIGHT, WIDTH, 3), value, np.uint8)


def still_boxes(count: int, box=(40.0, 20.0, 24.0, 24.0)) -> np.ndarray:
    return np.tile(np.array(box, float), (count, 1))


def by_code(proposals) -> dict:
    return {p.code: p for p in proposals}


def run(frames: FakeFrames, boxes: np.ndarray, absent=None, **kwargs) -> dict:
    return by_code(
        propose_attributes(boxes, absent, (WIDTH, HEIGHT), frames.frame_count, frames, **kwargs)
    )


# --- BRI -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grey", "value", "label"),
    [
        (0, 0, "low"),
        (83, 0, "low"),
        (84, 1, "medium"),
        (119, 1, "medium"),
        (120, 2, "high"),
        (255, 2, "high"),
    ],
)
def test_brightness_thresholds_on_constant_grey(grey, value, label):
    frames = FakeFrames(4, constant(grey))
    bri = run(frames, still_boxes(4))["BRI"]
    assert (bri.index, bri.value, bri.kind, bri.label) == (12, value, "exact", label)
    assert f"b = {grey:.2f}" in bri.rule and bri.rule.endswith(label)


def test_brightness_is_mean_of_frame_means():
    # frames of 80 and 86 average to exactly 83 -> low; 80 and 88 -> 84 -> medium
    frames = FakeFrames(4, lambda i: np.full((HEIGHT, WIDTH, 3), 80 + 6 * (i % 2), np.uint8))
    assert run(frames, still_boxes(4))["BRI"].value == 0
    frames = FakeFrames(4, lambda i: np.full((HEIGHT, WIDTH, 3), 80 + 8 * (i % 2), np.uint8))
    assert run(frames, still_boxes(4))["BRI"].value == 1


def test_brightness_uses_rgb2gray_weights():
    red = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    red[..., 0] = 255  # RGB red: grey 76 (0.299 * 255) -> low; as BGR it would be 29
    frames = FakeFrames(2, lambda _: red)
    bri = run(frames, still_boxes(2))["BRI"]
    assert bri.value == 0 and "b = 76.00" in bri.rule


def test_brightness_with_stride_is_an_estimate():
    frames = FakeFrames(10, lambda i: np.full((HEIGHT, WIDTH, 3), 200 if i % 3 else 100, np.uint8))
    bri = run(frames, still_boxes(10), settings=ProposalSettings(frame_stride=3))["BRI"]
    assert frames.reads == [0, 3, 6, 9]  # only multiples of 3, all grey 100
    assert bri.kind == "heuristic" and bri.value == 1
    assert "every 3rd frame (4 of 10)" in bri.rule and "not exact" in bri.rule


# --- IV --------------------------------------------------------------------------------------


def textured(region_scale: Callable[[int], float], blur: Callable[[int], bool] = lambda i: False):
    """A grey background with a noise-textured 24x24 target drifting 1 px per frame."""
    texture = np.random.default_rng(7).integers(40, 216, (24, 24, 3)).astype(np.float64)

    def make(index: int) -> np.ndarray:
        image = np.full((HEIGHT, WIDTH, 3), 128, np.uint8)
        patch = np.clip(texture * region_scale(index), 0, 255).astype(np.uint8)
        x = 30 + index % 8
        image[20:44, x : x + 24] = patch
        if blur(index):
            image = cv2.GaussianBlur(image, (9, 9), 3.0)
        return image

    return make


def textured_boxes(count: int) -> np.ndarray:
    return np.array([[30 + i % 8, 20, 24, 24] for i in range(count)], float)


def test_target_region_that_darkens_is_illumination_variation():
    frames = FakeFrames(20, textured(lambda i: 0.3 if i >= 12 else 1.0))
    iv = run(frames, textured_boxes(20))["IV"]
    assert (iv.index, iv.value, iv.kind) == (8, 1, "heuristic")
    assert iv.evidence_frames == tuple(range(12, 20))
    assert "heuristic" in iv.rule and "first: frame 13" in iv.rule


def region_grey(first: int, later: int) -> Callable[[int], np.ndarray]:
    """Grey 50 background, a flat 24x24 target region of grey ``first`` then ``later``."""

    def make(index: int) -> np.ndarray:
        image = np.full((HEIGHT, WIDTH, 3), 50, np.uint8)
        image[20:44, 40:64] = first if index == 0 else later
        return image

    return make


@pytest.mark.parametrize(
    ("first", "later", "value"),
    [
        (60, 90, 0),  # +30 levels (50 %): not more than 30 levels
        (60, 91, 1),
        (60, 29, 1),  # -31 levels (52 %)
        (100, 140, 0),  # +40 levels but exactly 40 %
        (100, 141, 1),
        (100, 59, 1),
        (200, 250, 0),  # +50 levels but only 25 %: a bright region's content changing
        (20, 45, 0),  # 125 % but only 25 levels: a dark region's noise
    ],
)
def test_illumination_thresholds(first, later, value):
    iv = run(FakeFrames(3, region_grey(first, later)), still_boxes(3))["IV"]
    assert iv.value == value
    assert "30 grey levels and 40 %" in iv.rule


def test_illumination_thresholds_are_parameters():
    boxes = still_boxes(3)
    lenient = ProposalSettings(illumination_change=40)
    assert run(FakeFrames(3, region_grey(60, 91)), boxes, settings=lenient)["IV"].value == 0
    levels_only = ProposalSettings(illumination_ratio=0.0)
    assert run(FakeFrames(3, region_grey(200, 250)), boxes, settings=levels_only)["IV"].value == 1


# --- MB --------------------------------------------------------------------------------------


def test_blurred_target_region_is_motion_blur():
    frames = FakeFrames(20, textured(lambda i: 1.0, blur=lambda i: i in (12, 13, 14)))
    mb = run(frames, textured_boxes(20))["MB"]
    assert (mb.index, mb.value, mb.kind) == (9, 1, "heuristic")
    assert mb.evidence_frames == (12, 13, 14)
    assert "variance of the Laplacian" in mb.rule


def test_steady_sharp_sequence_has_neither_iv_nor_mb():
    frames = FakeFrames(20, textured(lambda i: 1.0))
    proposals = run(frames, textured_boxes(20))
    assert proposals["IV"].value == 0
    assert proposals["MB"].value == 0
    assert proposals["BRI"].value == 2


def test_tiny_or_flat_regions_are_not_judged_for_blur():
    frames = FakeFrames(5, textured(lambda i: 1.0, blur=lambda i: i == 3))
    tiny = run(frames, still_boxes(5, (40, 20, 6, 6)))["MB"]
    assert tiny.value == 0 and "only 0 frames" in tiny.rule
    flat = run(FakeFrames(5, constant(90)), still_boxes(5))["MB"]
    assert flat.value == 0 and "no texture" in flat.rule


def test_region_measures_skip_absent_frames():
    frames = FakeFrames(4, textured(lambda i: 1.0))
    boxes = textured_boxes(4)
    present = np.array([True, False, True, True])
    measures = measure_frames(frames, boxes, present)
    assert np.isnan(measures.region_brightness[1]) and np.isnan(measures.region_sharpness[1])
    assert np.isfinite(measures.region_brightness[[0, 2, 3]]).all()


# --- the full pass -----------------------------------------------------------------------------


def test_each_frame_read_once_with_progress():
    frames = FakeFrames(12, textured(lambda i: 1.0))
    calls: list[tuple[int, int]] = []
    run(frames, textured_boxes(12), progress=lambda done, total: calls.append((done, total)))
    assert sorted(frames.reads) == list(range(12))
    assert calls == [(k, 12) for k in range(1, 13)]


def test_cancel_stops_reading():
    frames = FakeFrames(50, constant(100))
    with pytest.raises(Cancelled):
        run(frames, still_boxes(50), is_cancelled=lambda: len(frames.reads) >= 5)
    assert len(frames.reads) == 5


def test_without_frames_only_box_rules_are_proposed():
    proposals = propose_attributes(still_boxes(700), None, (WIDTH, HEIGHT), 700)
    assert [p.code for p in proposals] == ["FO", "OV", "FM", "SV", "ARV", "LEN"]
    assert [p.index for p in proposals] == [3, 4, 13, 14, 15, 16]
    values = proposals_to_values(proposals)
    assert values == [0] * 16 + [1]


def test_with_frames_in_attribute_order_and_binary():
    frames = FakeFrames(6, constant(100))
    proposals = propose_attributes(still_boxes(6), None, (WIDTH, HEIGHT), 6, frames)
    assert [p.code for p in proposals] == ["FO", "OV", "IV", "MB", "BRI", "FM", "SV", "ARV", "LEN"]
    for p in proposals:
        assert p.kind in ("exact", "heuristic") and p.rule
        if p.code not in ("BRI", "LEN"):
            assert p.value in (0, 1) and type(p.value) is int
    assert proposals_to_values(proposals)[12] == 1


def test_values_keep_manual_base():
    proposals = propose_attributes(still_boxes(10), None, (WIDTH, HEIGHT), 10)
    base = [1] * 12 + [2, 1, 1, 1, 2]  # CM..PTI set by a person
    values = proposals_to_values(proposals, base)
    assert values[:3] == [1, 1, 1] and values[5:12] == [1] * 7
    assert values[3:5] == [0, 0]  # FO, OV proposed 0
    assert values[12] == 2  # BRI not proposed without frames: kept
    assert values[13:] == [0, 0, 0, 0]


def test_count_mismatches_are_errors():
    with pytest.raises(ValueError, match="5 boxes for a video of 6 frames"):
        propose_attributes(still_boxes(5), None, (WIDTH, HEIGHT), 6)
    with pytest.raises(ValueError, match="frame source has 4 frames"):
        propose_attributes(still_boxes(5), None, (WIDTH, HEIGHT), 5, FakeFrames(4, constant(1)))


def test_brightness_rule_direct():
    measures = measure_frames(FakeFrames(3, constant(119)), still_boxes(3), np.ones(3, bool))
    assert (
        propose_brightness(measures).rule == "mean brightness b = 119.00 (83 < b <= 119) -> medium"
    )
