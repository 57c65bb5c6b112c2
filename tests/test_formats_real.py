"""The real sequences of ../shared: read with auto-detection, export, validate, read back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from costcore.formats import read_sequence, validate_vlsot500, write_vlsot500
from costcore.formats.vlsot500_writer import round_half_up

# name: (fixture, layout, frame count, ground-truth file, language)
REAL = {
    "Crossing": ("crossing", "otb", 120, "groundtruth_rect.txt", ""),
    "Skiing": ("skiing", "otb", 81, "groundtruth_rect.txt", ""),
    "truck4_1": ("truck4_1", "uav123", 193, "truck4_1.txt", ""),
    "airplane-1": (
        "airplane_1",
        "lasot",
        2788,
        "groundtruth.txt",
        "white airplane landing on ground",
    ),
}


def _file_boxes(path: Path) -> tuple[list[float], list[float]]:
    """First and last box straight from the file, parsed independently of the reader."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    first, last = (
        [float(v) for v in line.replace("\t", ",").replace(" ", ",").split(",") if v]
        for line in (lines[0], lines[-1])
    )
    return first, last


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_sequence_round_trip(request, tmp_path, name):
    fixture, layout, count, gt_name, language = REAL[name]
    folder: Path = request.getfixturevalue(fixture)

    sequence = read_sequence(folder)
    assert sequence.layout == layout
    assert sequence.name == name
    assert sequence.frame_count == count
    assert len(sequence.boxes) == count
    first, last = _file_boxes(folder / gt_name)
    assert sequence.boxes[0].tolist() == first
    assert sequence.boxes[-1].tolist() == last
    assert sequence.language == language
    assert [int(p.stem) for p in sequence.frames] == list(range(1, count + 1))

    dest = tmp_path / name
    written = write_vlsot500(
        dest,
        frames=sequence.frames,
        boxes=sequence.boxes,
        absent=sequence.absent,
        language=sequence.language or f"the target of {name}",
        attributes=[0] * 17,
    )
    assert written == dest
    issues = validate_vlsot500(dest)
    assert [issue for issue in issues if issue.severity == "error"] == []

    back = read_sequence(dest)
    assert back.layout == "vlsot500"
    assert back.frame_count == count
    np.testing.assert_array_equal(back.absent, sequence.absent)
    expected = np.where(sequence.absent[:, None], 0, round_half_up(sequence.boxes))
    np.testing.assert_array_equal(back.boxes, expected)
    assert back.language == (sequence.language or f"the target of {name}")
    for source, exported in zip(sequence.frames, back.frames, strict=True):
        assert _digest(source) == _digest(exported)
    assert (dest / "000001.jpg").read_bytes() == sequence.frames[0].read_bytes()


def test_crossing_is_tab_delimited(crossing):
    assert b"\t" in (crossing / "groundtruth_rect.txt").read_bytes()[:100]


def test_truck4_1_has_no_final_newline(truck4_1):
    assert not (truck4_1 / "truck4_1.txt").read_bytes().endswith(b"\n")
    assert read_sequence(truck4_1).frame_count == 193


def test_airplane_1_flags(airplane_1):
    sequence = read_sequence(airplane_1)
    assert sequence.extra["full_occlusion"].shape == (2788,)
    assert sequence.extra["out_of_view"].shape == (2788,)
    assert not sequence.absent.any()
