"""Hand-made folders of every layout: reading, detection and dataset walking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from costcore.errors import FormatError
from costcore.formats import detect_layout, iter_sequences, read_sequence
from tests.test_formats_support import (
    MAKERS,
    box_text,
    default_boxes,
    image_bytes,
    make_got10k,
    make_lasot,
    make_otb,
    make_tnl2k,
    make_uav123,
    make_vlsot500,
    tnl2k_names,
    write_images,
    write_text,
)


@pytest.mark.parametrize("layout", sorted(MAKERS))
def test_every_layout_is_detected_and_read(tmp_path, layout):
    folder = MAKERS[layout](tmp_path / f"seq_{layout}")
    assert detect_layout(folder) == layout
    sequence = read_sequence(folder)
    assert sequence.layout == layout
    assert sequence.name == f"seq_{layout}"
    assert sequence.root == folder
    assert sequence.boxes.shape == (sequence.frame_count, 4)
    assert sequence.absent.shape == (sequence.frame_count,)
    # frame i is the i-th image written (colour encodes the index)
    for index, frame in enumerate(sequence.frames):
        assert frame.read_bytes() == image_bytes(index, frame.suffix.lower())


def test_vlsot500_reads_all_files(tmp_path):
    boxes = default_boxes(4)
    folder = make_vlsot500(tmp_path / "Car", 4, boxes, absent=[0, 1, 0, 0])
    write_text(folder / "relative_speed.txt", "0.000000\n0.000000\n0.000000\n1.250000\n")
    sequence = read_sequence(folder)
    assert sequence.absent.tolist() == [False, True, False, False]
    assert np.all(sequence.boxes[1] == 0)
    np.testing.assert_array_equal(sequence.boxes[[0, 2, 3]], boxes[[0, 2, 3]])
    assert sequence.language == "a red car on the road"
    assert sequence.attributes == [0] * 12 + [1, 0, 0, 0, 2]
    assert sequence.relative_speed.tolist() == [0, 0, 0, 1.25]


def test_vlsot500_absent_file_must_agree(tmp_path):
    folder = make_vlsot500(tmp_path / "Car", 4, absent=[0, 1, 0, 0])
    write_text(folder / "absent.txt", "0\n1\n1\n0\n")
    with pytest.raises(FormatError) as info:
        read_sequence(folder)
    assert info.value.path == folder / "absent.txt"
    assert info.value.line == 3
    write_text(folder / "absent.txt", "0\n1\n0\n")
    with pytest.raises(FormatError, match="3 lines for 4 frames"):
        read_sequence(folder)
    (folder / "absent.txt").unlink()  # optional: 0,0,0,0 rows alone say which frames are absent
    assert read_sequence(folder).absent.tolist() == [False, True, False, False]


def test_lasot_flags_union_and_stale_boxes(tmp_path):
    folder = make_lasot(tmp_path / "airplane-3", 5, occluded=(1,))
    write_text(folder / "out_of_view.txt", "0,0,0,1,0")
    sequence = read_sequence(folder)
    assert sequence.absent.tolist() == [False, True, False, True, False]
    # stale boxes are kept as the file says; visibility comes from the flags
    np.testing.assert_array_equal(sequence.boxes, default_boxes(5))
    assert sequence.language == "white airplane landing on ground"
    assert sequence.extra["full_occlusion"].tolist() == [False, True, False, False, False]
    write_text(folder / "out_of_view.txt", "0,0,0,1\n")
    with pytest.raises(FormatError, match="4 flags for 5 frames"):
        read_sequence(folder)


def test_tnl2k_natural_sort_of_mixed_names(tmp_path):
    folder = make_tnl2k(tmp_path / "boy", 12)
    (folder / "imgs" / "Thumbs.db").write_bytes(b"x")
    sequence = read_sequence(folder)
    assert [p.name for p in sequence.frames] == tnl2k_names(12)
    assert sequence.language == "the boy in a blue shirt"


@pytest.mark.parametrize("delimiter", [",", "\t", " ", ", "])
def test_otb_delimiters_and_crlf(tmp_path, delimiter):
    folder = make_otb(tmp_path / "Crossing", 5)
    write_text(folder / "groundtruth_rect.txt", box_text(default_boxes(5), delimiter, "\r\n"))
    sequence = read_sequence(folder)
    assert sequence.layout == "otb"
    np.testing.assert_array_equal(sequence.boxes, default_boxes(5))
    assert sequence.language == ""
    write_text(folder / "nlp.txt", "a man crossing the street\n")
    assert read_sequence(folder).language == "a man crossing the street"


def test_otb_multi_target(tmp_path):
    folder = make_otb(tmp_path / "Jogging", 4)
    (folder / "groundtruth_rect.txt").rename(folder / "groundtruth_rect.1.txt")
    boxes2 = default_boxes(4) + 100
    write_text(folder / "groundtruth_rect.2.txt", box_text(boxes2))
    assert detect_layout(folder) == "otb"
    sequence = read_sequence(folder)
    np.testing.assert_array_equal(sequence.boxes, default_boxes(4))
    assert "groundtruth_rect.1.txt" in sequence.extra["note"]
    assert "groundtruth_rect.2.txt" in sequence.extra["note"]


def test_otb_odd_padding_and_gaps(tmp_path):
    folder = tmp_path / "Odd"
    write_images(folder / "img", ["1.jpg", "02.jpg", "0004.jpg", "00005.jpg"])
    write_text(folder / "groundtruth_rect.txt", box_text(default_boxes(4), final=False))
    sequence = read_sequence(folder)
    assert [p.name for p in sequence.frames] == ["1.jpg", "02.jpg", "0004.jpg", "00005.jpg"]
    assert sequence.extra["frame_gaps"] == [(2, 4)]


def test_uav123_nan_rows_and_no_final_newline(tmp_path):
    folder = make_uav123(tmp_path / "truck4_1", 5)
    assert not (folder / "truck4_1.txt").read_bytes().endswith(b"\n")
    sequence = read_sequence(folder)
    assert sequence.absent.tolist() == [False, True, False, False, False]
    assert np.all(sequence.boxes[1] == 0)


def test_uav123_single_other_txt(tmp_path):
    folder = make_uav123(tmp_path / "truck4_1", 5)
    (folder / "truck4_1.txt").rename(folder / "gt.txt")
    write_text(folder / "SOURCE.txt", "copied from somewhere\n")
    assert detect_layout(folder) == "uav123"
    assert read_sequence(folder).extra["groundtruth_file"] == "gt.txt"
    write_text(folder / "other.txt", box_text(default_boxes(5)))  # two candidates: ambiguous
    with pytest.raises(FormatError, match="looked for"):
        detect_layout(folder)


def test_got10k_absence_and_meta_info(tmp_path):
    folder = make_got10k(tmp_path / "GOT-10k_Train_000001", 5)
    sequence = read_sequence(folder)
    assert sequence.absent.tolist() == [False, False, True, False, False]
    meta = sequence.extra["meta_info"]
    assert meta["object_class"] == "ichneumon"
    assert meta["motion_class"] == "walking"
    assert meta["url"] == "https://youtu.be/x?v=1"
    assert meta["resolution"] == "(1920, 1080)"
    write_text(folder / "absence.label", "0\r\n0\r\n0\r\n0\r\n1")
    assert read_sequence(folder).absent.tolist() == [False, False, False, False, True]


@pytest.mark.parametrize("layout", sorted(MAKERS))
def test_line_count_must_match_frames(tmp_path, layout):
    folder = MAKERS[layout](tmp_path / "seq")
    count = read_sequence(folder).frame_count
    gt = {
        "vlsot500": "groundtruth_rect.txt",
        "otb": "groundtruth_rect.txt",
        "uav123": "seq.txt",
    }.get(layout, "groundtruth.txt")
    write_text(folder / gt, box_text(default_boxes(count + 1)))
    if layout == "vlsot500":
        (folder / "absent.txt").unlink()
    with pytest.raises(FormatError) as info:
        read_sequence(folder)
    assert info.value.path == folder / gt
    assert f"{count + 1} lines for {count} frames" in str(info.value)


@pytest.mark.parametrize("layout", ["vlsot500", "lasot", "tnl2k", "otb", "uav123"])
def test_empty_image_folder_is_an_error(tmp_path, layout):
    folder = MAKERS[layout](tmp_path / "seq")
    images = folder / ("imgs" if layout in ("vlsot500", "tnl2k") else "img")
    for image in images.iterdir():
        image.unlink()
    with pytest.raises(FormatError, match="no image files") as info:
        read_sequence(folder, layout)
    assert info.value.path == images


def test_detection_failure_lists_what_was_looked_for(tmp_path):
    (tmp_path / "img").mkdir()
    with pytest.raises(FormatError) as info:
        detect_layout(tmp_path)
    for expected in ("groundtruth_rect.txt", "groundtruth.txt", "<folder name>.txt", "GOT-10k"):
        assert expected in str(info.value)
    with pytest.raises(FormatError, match="not found"):
        detect_layout(tmp_path / "missing")
    with pytest.raises(FormatError, match="unknown layout"):
        read_sequence(tmp_path, "mot17")


def test_explicit_layout_skips_detection(tmp_path):
    folder = make_lasot(tmp_path / "seq")
    with pytest.raises(FormatError):
        read_sequence(folder, "otb")  # no groundtruth_rect.txt
    assert read_sequence(folder, "lasot").layout == "lasot"


def test_iter_sequences_flat_and_lasot_roots(tmp_path):
    make_otb(tmp_path / "flat" / "Skiing")
    make_otb(tmp_path / "flat" / "Crossing")
    (tmp_path / "flat" / "notes").mkdir()
    (tmp_path / "flat" / ".cache").mkdir()
    write_text(tmp_path / "flat" / "list.txt", "Crossing\nSkiing\n")
    assert [p.name for p in iter_sequences(tmp_path / "flat")] == ["Crossing", "Skiing"]

    root = tmp_path / "LaSOT"
    for name in ("airplane-10", "airplane-2", "airplane-1"):
        make_lasot(root / "airplane" / name, 3)
    make_lasot(root / "bear" / "bear-1", 3)
    found = [p.relative_to(root).as_posix() for p in iter_sequences(root)]
    assert found == [
        "airplane/airplane-1",
        "airplane/airplane-2",
        "airplane/airplane-10",
        "bear/bear-1",
    ]
    with pytest.raises(FormatError):
        list(iter_sequences(tmp_path / "nothing"))


@pytest.mark.parametrize("layout", sorted(MAKERS))
def test_os_errors_become_format_errors(tmp_path, monkeypatch, layout):
    folder = MAKERS[layout](tmp_path / "seq")

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", denied)
    monkeypatch.setattr(Path, "is_dir", denied)
    with pytest.raises(FormatError, match="Permission denied"):
        read_sequence(folder, layout)
    with pytest.raises(FormatError, match="Permission denied"):
        read_sequence(folder)
