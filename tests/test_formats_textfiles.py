"""Low-level parsing of box, flag and language files."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.errors import FormatError
from costcore.formats.frames import list_frames, natural_key
from costcore.formats.textfiles import (
    read_box_file,
    read_flag_file,
    read_float_column,
    read_int_row,
    read_language,
)
from tests.test_formats_support import write_bytes, write_images, write_text


@pytest.mark.parametrize(
    "content",
    [
        "1,2,3,4\n5,6,7,8\n",
        "1\t2\t3\t4\n5\t6\t7\t8\n",
        "1 2 3 4\n5 6 7 8\n",
        "1, 2,\t3 4\r\n5 ,6\t7,8",  # mixed delimiters, CRLF, no final newline
        "\ufeff1,2,3,4\n5,6,7,8\n\n  \n",  # BOM, trailing blank lines
        "1.0,2.00,3e0,+4\n5,6,7,8.",
    ],
)
def test_box_file_accepts_dataset_variants(tmp_path, content):
    path = write_text(tmp_path / "gt.txt", content)
    result = read_box_file(path)
    np.testing.assert_array_equal(result.boxes, [[1, 2, 3, 4], [5, 6, 7, 8]])
    assert not result.missing.any()


def test_box_file_nan_rows_are_missing(tmp_path):
    path = write_text(tmp_path / "gt.txt", "1,2,3,4\nNaN,NaN,NaN,NaN\nnan,nan,nan,nan\n5,6,7,8")
    result = read_box_file(path)
    assert result.missing.tolist() == [False, True, True, False]
    assert np.all(result.boxes[1:3] == 0)
    assert not np.isnan(result.boxes).any()


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        ("1,2,3,4\n\n5,6,7,8\n", 2, "blank line"),
        ("1,2,3,4\n5,6,7\n", 2, "found 3"),
        ("1,2,3,4,5\n", 1, "found 5"),
        ("1,2,3,4\n5,x,7,8\n", 2, "not a number"),
        ("1,,3,4\n", 1, "empty field"),
        ("1,2,3,inf\n", 1, "not a number"),
        ("1,2,3,1e999\n", 1, "out of range"),
        ("1,NaN,3,4\n", 1, "NaN in only some"),
        ("1,2,3,4\n1_0,2,3,4\n", 2, "not a number"),
        ("1,2,3,4\n5,6,7,\uff18\n", 2, "not a number"),  # full-width digit
        ("", None, "no boxes"),
    ],
)
def test_box_file_errors_name_file_and_line(tmp_path, content, line, words):
    path = write_text(tmp_path / "gt.txt", content)
    with pytest.raises(FormatError) as info:
        read_box_file(path)
    assert info.value.path == path
    assert info.value.line == line
    assert words in str(info.value)
    assert str(path) in str(info.value)


def test_undecodable_bytes_and_missing_file(tmp_path):
    path = write_bytes(tmp_path / "gt.txt", b"1,2,3,4\n\xff\xfe,1,2,3\n")
    with pytest.raises(FormatError, match="UTF-8") as info:
        read_box_file(path)
    assert info.value.line == 2
    with pytest.raises(FormatError, match="not found"):
        read_box_file(tmp_path / "nothing.txt")
    with pytest.raises(FormatError, match="folder"):
        read_box_file(tmp_path)


@pytest.mark.parametrize(
    "content",
    ["0\n1\n1\n0\n", "0\r\n1\r\n1\r\n0", "0,1,1,0\n", "0,1,1,0", "0 1 1 0\n\n"],
)
def test_flag_file_both_forms(tmp_path, content):
    path = write_text(tmp_path / "absent.txt", content)
    assert read_flag_file(path).tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    ("content", "line"),
    [("0\n2\n", 2), ("0,1,x\n", 1), ("0\n\n1\n", 2), ("0,1\n1,0\n", 1), ("0\n1.0\n", 2)],
)
def test_flag_file_errors(tmp_path, content, line):
    path = write_text(tmp_path / "absent.txt", content)
    with pytest.raises(FormatError) as info:
        read_flag_file(path)
    assert info.value.line == line
    assert info.value.path == path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("white airplane landing on ground", "white airplane landing on ground"),
        ("\n\n  a red car \r\nsecond line\n", "a red car"),
        ("   \n\t\n", ""),
        ("", ""),
        ("\ufeffbom sentence\n", "bom sentence"),
    ],
)
def test_language(tmp_path, content, expected):
    assert read_language(write_text(tmp_path / "nlp.txt", content)) == expected


def test_int_row_and_float_column(tmp_path):
    path = write_text(tmp_path / "attributes.txt", "1,0,2\n")
    assert read_int_row(path, 3) == [1, 0, 2]
    with pytest.raises(FormatError, match="expected 3"):
        read_int_row(write_text(tmp_path / "a.txt", "1,0\n"), 3)
    with pytest.raises(FormatError, match="integer"):
        read_int_row(write_text(tmp_path / "b.txt", "1,0.5,1\n"), 3)
    with pytest.raises(FormatError, match="integer"):
        read_int_row(write_text(tmp_path / "c.txt", "1," + "9" * 5000 + ",1\n"), 3)
    speeds = read_float_column(write_text(tmp_path / "s.txt", "0.000000\n1.500000\r\n"))
    assert speeds.tolist() == [0.0, 1.5]
    with pytest.raises(FormatError) as info:
        read_float_column(write_text(tmp_path / "t.txt", "0\nfast\n"))
    assert info.value.line == 2


def test_frames_sorted_by_number_any_padding(tmp_path):
    names = ["10.jpg", "9.jpg", "011.jpg", "1.jpg", "0002.jpg"]
    write_images(tmp_path, names)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "._1.jpg").write_bytes(b"mac")
    listing = list_frames(tmp_path)
    assert [p.name for p in listing.frames] == ["1.jpg", "0002.jpg", "9.jpg", "10.jpg", "011.jpg"]
    assert listing.numbers == [1, 2, 9, 10, 11]
    assert listing.gaps == [(2, 9)]
    assert listing.extra() == {"frame_gaps": [(2, 9)]}


def test_frames_errors(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        list_frames(tmp_path / "img")
    (tmp_path / "img").mkdir()
    with pytest.raises(FormatError, match="no image files"):
        list_frames(tmp_path / "img")
    write_images(tmp_path / "img", ["1.jpg", "001.png"])
    with pytest.raises(FormatError, match="two files for frame 1"):
        list_frames(tmp_path / "img")


def test_natural_key_orders_numbers_as_numbers():
    names = ["img10.png", "img2.jpg", "IMG1.jpg", "a.jpg"]
    assert sorted(names, key=natural_key) == ["a.jpg", "IMG1.jpg", "img2.jpg", "img10.png"]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"\xef\xbb\xbf\xef\xbb\xbfa red car\n", 1),  # saved twice by a BOM-adding editor
        (b"a red car\n\n\xef\xbb\xbfsecond file pasted\n", 3),
        (b"a red \xef\xbb\xbfcar\n", 1),
    ],
)
def test_a_byte_order_mark_after_the_first_is_an_error_naming_the_line(tmp_path, data, line):
    path = write_bytes(tmp_path / "language.txt", data)
    with pytest.raises(FormatError, match="byte order mark") as info:
        read_language(path)
    assert (info.value.path, info.value.line) == (path, line)


def test_control_characters_in_a_language_line_are_an_error(tmp_path):
    path = write_text(tmp_path / "nlp.txt", "\n a red\x07 car\n")
    with pytest.raises(FormatError, match="U\\+0007") as info:
        read_language(path)
    assert info.value.line == 2
    assert read_language(write_text(tmp_path / "tab.txt", "a red\tcar\n")) == "a red\tcar"
