"""TransT's crop geometry: side formula, exact crop <-> frame mapping, mean-colour padding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcore.boxes import Box
from costcore.crops.transt import SearchCrop, crop_side

FILL = (11.0, 22.0, 33.0)


def test_crop_side_is_transt_s_formula() -> None:
    # w=30, h=20, f=4: p = 3 * 25 = 75 -> sqrt(105 * 95) = 99.87 -> 100
    assert crop_side(30, 20, 4.0) == 100
    # f=2: p = 25 -> sqrt(55 * 45) = 49.75 -> 50
    assert crop_side(30, 20, 2.0) == 50
    w, h, f = 17.0, 42.0, 4.0
    p = (f - 1) * (w + h) / 2
    assert crop_side(w, h, f) == math.ceil(math.sqrt((w + p) * (h + p)))
    assert crop_side(0.1, 0.1, 2.0) == 1  # never degenerate


def test_region_is_centred_on_the_box() -> None:
    crop = SearchCrop.around(Box(100, 50, 30, 20), 4.0, 256)
    assert crop.side == 100
    assert crop.region == Box(115 - 50, 60 - 50, 100, 100)
    assert crop.scale == pytest.approx(2.56)


@settings(max_examples=60, deadline=None)
@given(
    x=st.floats(-50, 500),
    y=st.floats(-50, 500),
    w=st.floats(2, 200),
    h=st.floats(2, 200),
    factor=st.sampled_from([2.0, 4.0]),
)
def test_unmoved_head_output_keeps_the_box(x, y, w, h, factor) -> None:
    box = Box(x, y, w, h)
    crop = SearchCrop.around(box, factor, 256)
    cx, cy, bw, bh = crop.to_frame(0.5, 0.5, w / crop.side, h / crop.side)
    assert (cx, cy) == pytest.approx(box.center, abs=1e-9)
    assert (bw, bh) == pytest.approx((w, h), rel=1e-12)
    assert crop.to_crop(box) == pytest.approx((0.5, 0.5, w / crop.side, h / crop.side))


def test_known_offset_in_the_crop_maps_to_the_frame() -> None:
    crop = SearchCrop.around(Box(100, 50, 30, 20), 4.0, 256)  # side 100, 2.56 px per px
    # 25.6 crop pixels right and 12.8 down = 10 and 5 frame pixels
    cx, cy, w, h = crop.to_frame(0.5 + 25.6 / 256, 0.5 + 12.8 / 256, 0.1, 0.2)
    assert (cx, cy, w, h) == pytest.approx((125.0, 65.0, 10.0, 20.0))


def test_crop_pixels_follow_the_mapping() -> None:
    """A bright pixel in the frame appears where the mapping says, at sub-pixel precision."""
    frame = np.zeros((200, 300, 3), np.uint8)
    frame[120, 170] = 255  # pixel centre (170.5, 120.5)
    crop = SearchCrop(150.0, 100.0, 64.0, 64)  # 1:1, origin (118, 68)
    patch = crop.extract(frame, (0, 0, 0))
    assert patch.shape == (64, 64, 3) and patch.dtype == np.uint8
    assert np.argwhere(patch[:, :, 0] == 255).tolist() == [[52, 52]]
    zoomed = SearchCrop(150.0, 100.0, 64.0, 256).extract(frame, (0, 0, 0))
    peak = np.unravel_index(np.argmax(zoomed[:, :, 0]), zoomed.shape[:2])
    # frame (170.5, 120.5) -> crop 4 * (52.5, 52.5) = 210 -> pixel index 209.5 +- 0.5
    assert abs(peak[0] - 209.5) <= 0.5 and abs(peak[1] - 209.5) <= 0.5


def test_mean_colour_fills_outside_the_image_near_a_corner() -> None:
    frame = np.full((100, 160, 3), 200, np.uint8)
    box = Box(0, 0, 20, 10)  # top-left corner: the search region extends up and left
    crop = SearchCrop.around(box, 4.0, 128)
    region = crop.region
    assert region.x < 0 and region.y < 0
    patch = crop.extract(frame, FILL)
    scale = crop.scale
    # crop pixels whose frame position is left of / above the image are the fill colour
    outside_x = int(math.floor(-region.x * scale)) - 1
    outside_y = int(math.floor(-region.y * scale)) - 1
    assert (patch[:, :outside_x] == np.array(FILL, np.uint8)).all()
    assert (patch[:outside_y, :] == np.array(FILL, np.uint8)).all()
    assert (patch[outside_y + 3 :, outside_x + 3 :] == 200).all()  # image content
    # the previous box centre is inside the search region
    cx, cy = box.center
    assert region.x <= cx <= region.x + region.w and region.y <= cy <= region.y + region.h


def test_crop_far_outside_the_image_is_all_fill() -> None:
    frame = np.zeros((50, 50, 3), np.uint8)
    patch = SearchCrop(500.0, 500.0, 40.0, 32).extract(frame, FILL)
    assert (patch == np.array(FILL, np.uint8)).all()


def _pad_everything_then_cut(image, center, output_size, side, fill):
    """The authors' way, spelled out: pad the whole image with the fill colour (truncated to
    uint8), cut ``int(side)`` pixels from floor(c - (side + 1) / 2 + 0.5), resize."""
    import cv2

    size = int(side)
    x0 = int(math.floor(center[0] - (side + 1) / 2 + 0.5))
    y0 = int(math.floor(center[1] - (side + 1) / 2 + 0.5))
    rows, cols = image.shape[:2]
    margin = size + abs(x0) + abs(y0) + 1
    padded = np.empty((rows + 2 * margin, cols + 2 * margin, 3), np.uint8)
    padded[:] = fill
    padded[margin : margin + rows, margin : margin + cols] = image
    patch = padded[y0 + margin : y0 + margin + size, x0 + margin : x0 + margin + size]
    return patch if output_size == side else cv2.resize(patch, (output_size, output_size))


@settings(max_examples=300, deadline=None)
@given(
    width=st.integers(4, 90),
    height=st.integers(4, 90),
    cx=st.floats(-120, 210),
    cy=st.floats(-120, 210),
    side=st.one_of(st.integers(1, 150), st.floats(1.0, 150.0)),
    output=st.sampled_from([0, 16, 33, 64]),
    seed=st.integers(0, 2**16),
)
def test_pysot_crop_is_the_authors_padded_cut(width, height, cx, cy, side, output, seed) -> None:
    """TransT's and VLT_TT's crop: the same bytes as padding the whole image, then cutting."""
    from costcore.crops.pysot import pysot_crop

    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    fill = image.mean(axis=(0, 1)) + rng.uniform(-0.5, 0.5, 3)
    output_size = output or int(side)
    patch, cut = pysot_crop(image, (cx, cy), output_size, side, fill)
    expected = _pad_everything_then_cut(image, (cx, cy), output_size, side, fill)
    assert patch.dtype == np.uint8 and np.array_equal(patch, expected)
    assert cut.region.w == side and cut.region.x == math.floor(cx - (side + 1) / 2 + 0.5)


def test_ostrack_box_found_in_the_crop_maps_back_around_the_previous_centre() -> None:
    """OSTrack's ``map_box_back``: the crop's centre is the previous box's centre."""
    from costcore.crops.ostrack import map_box_back

    previous = (100.0, 50.0, 40.0, 20.0)  # centre (120, 60)
    search_size, resize_factor = 256, 4.0  # a 64 px crop: its centre is 32 frame px in
    unmoved = map_box_back((32.0, 32.0, 40.0, 20.0), previous, search_size, resize_factor)
    assert unmoved == [100.0, 50.0, 40.0, 20.0]
    moved = map_box_back((40.0, 28.0, 10.0, 12.0), previous, search_size, resize_factor)
    assert moved == [123.0, 50.0, 10.0, 12.0]  # centre (128, 56): 8 right, 4 up


def test_pysot_crop_of_a_square_too_large_to_build_is_sampled(monkeypatch) -> None:
    """A TransT / VLT_TT box grown far past the frame: the crop samples the frame as the
    resize would (within two grey levels of the bordered square), and a 60,000-pixel square
    (10 GB once bordered) costs no more than its crop."""
    import cv2

    from costcore.crops import large, pysot

    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8), (7, 7), 2)
    fill = image.mean(axis=(0, 1))
    sampled_sides = []

    def spy(frame, left, top, side, *rest):
        sampled_sides.append(side)
        return sample_square(frame, left, top, side, *rest)

    sample_square = pysot.sample_square
    monkeypatch.setattr(pysot, "sample_square", spy)
    exact, cut = pysot.pysot_crop(image, (150.0, 90.0), 255, 700.4, fill)
    assert sampled_sides == []  # 1.4 MB bordered: built as the authors do
    monkeypatch.setattr(large, "MAX_SQUARE_BYTES", 1000)
    sampled, sampled_cut = pysot.pysot_crop(image, (150.0, 90.0), 255, 700.4, fill)
    assert sampled_sides == [700]
    assert sampled_cut == cut and sampled.shape == exact.shape == (255, 255, 3)
    difference = np.abs(sampled.astype(int) - exact.astype(int))
    assert difference.max() <= 2 and difference.mean() < 0.5
    monkeypatch.setattr(large, "MAX_SQUARE_BYTES", 64 * 1024 * 1024)
    huge, _ = pysot.pysot_crop(image, (150.0, 90.0), 255, 60_000.0, fill)
    assert sampled_sides == [700, 60_000]
    truncated = fill.astype(np.uint8)
    assert huge.shape == (255, 255, 3)
    assert (huge[0, 0] == truncated).all() and (huge[-1, -1] == truncated).all()
