"""The VL-SOT500 validator: each rule broken on its own, and several at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from costcore.formats import format_report, has_errors, validate_vlsot500
from costcore.formats.vlsot500_validator import MAX_PER_KIND, Issue
from tests.test_formats_support import image_bytes, make_vlsot500, write_bytes, write_text

GT = "groundtruth_rect.txt"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A valid 5-frame export; frame 3 absent."""
    return make_vlsot500(tmp_path / "Car", 5, absent=[0, 0, 1, 0, 0])


def _find(issues: list[Issue], file: Path, line: int | None, words: str, severity: str = "error"):
    matches = [
        issue
        for issue in issues
        if issue.file == file
        and issue.line == line
        and issue.severity == severity
        and words in issue.message
    ]
    assert matches, f"no {severity} {file}:{line} containing {words!r} in:\n" + "\n".join(
        map(str, issues)
    )
    return matches[0]


def _replace_line(path: Path, number: int, text: str) -> None:
    lines = path.read_text().split("\n")
    lines[number - 1] = text
    write_text(path, "\n".join(lines))


def test_valid_folder_has_no_issues(folder):
    assert validate_vlsot500(folder) == []
    assert "valid" in format_report([], folder)


def test_float_file_with_absent_lines_is_valid(folder):
    write_text(
        folder / GT,
        "10.00,5.00,20.00,10.00\n11.50,6.00,20.00,10.00\n0,0,0,0\n13.00,8.00,20.00,10.00\n"
        "14.00,9.00,20.00,10.00\n",
    )
    assert validate_vlsot500(folder) == []


@pytest.mark.parametrize(
    ("line", "text", "words"),
    [
        (2, "11, 6,20,10", "spaces"),
        (2, "11,6,20\t,10", "spaces"),
        (2, "11,6,20", "expected 4"),
        (2, "11,6,20,ten", "not a number"),
        (2, "11.5,6,20,10", "mixes integers and decimals"),
        (2, "11.50,6.00,20.00,10.00", "line 1 is integers"),
        (2, "11,6,-20,10", "negative width"),
        (2, "11,6,20,0", "zero height"),
        (2, "11,6,NaN,10", "not a number"),
    ],
)
def test_groundtruth_line_rules(folder, line, text, words):
    _replace_line(folder / GT, line, text)
    _find(validate_vlsot500(folder), folder / GT, line, words)


def test_integers_in_a_float_file(folder):
    write_text(folder / GT, "10.00,5.00,20.00,10.00\n11,6,20,10\n0,0,0,0\n13,8,20,10\n14,9,20,10\n")
    issues = validate_vlsot500(folder)
    for line in (2, 4, 5):
        _find(issues, folder / GT, line, "line 1 is decimals")
    assert not [issue for issue in issues if issue.line == 3]


def test_blank_line_in_the_middle(folder):
    write_text(folder / GT, "10,5,20,10\n11,6,20,10\n\n0,0,0,0\n13,8,20,10\n14,9,20,10\n")
    issues = validate_vlsot500(folder)
    _find(issues, folder / GT, 3, "blank line")
    _find(issues, folder / GT, None, "6 lines for 5 images")


def test_trailing_blank_line(folder):
    write_text(folder / GT, (folder / GT).read_text() + "\n")
    _find(validate_vlsot500(folder), folder / GT, 6, "blank line")


def test_crlf_line_endings(folder):
    write_text(folder / GT, (folder / GT).read_text().replace("\n", "\r\n"))
    issues = validate_vlsot500(folder)
    for line in range(1, 6):
        _find(issues, folder / GT, line, "carriage return")
    assert len(issues) == 5


def test_repeats_are_capped_with_a_summary(tmp_path):
    count = MAX_PER_KIND + 10
    folder = make_vlsot500(tmp_path / "Long", count)
    write_text(folder / GT, (folder / GT).read_text().replace("\n", "\r\n"))
    issues = validate_vlsot500(folder)
    assert len(issues) == MAX_PER_KIND + 1
    _find(issues, folder / GT, None, "10 more of")


def test_missing_final_newline_is_a_warning(folder):
    write_text(folder / GT, (folder / GT).read_text().rstrip("\n"))
    issues = validate_vlsot500(folder)
    _find(issues, folder / GT, 5, "no newline at the end", "warning")
    assert not has_errors(issues)


def test_byte_order_mark(folder):
    write_bytes(folder / GT, b"\xef\xbb\xbf" + (folder / GT).read_bytes())
    _find(validate_vlsot500(folder), folder / GT, 1, "byte order mark")


def test_wrong_line_count_and_too_few_lines(folder):
    write_text(folder / GT, "10,5,20,10\n11,6,20,10\n0,0,0,0\n13,8,20,10\n")
    issues = validate_vlsot500(folder)
    _find(issues, folder / GT, None, "4 lines for 5 images")
    write_text(folder / GT, "10,5,20,10\n")
    _find(validate_vlsot500(folder), folder / GT, None, "at least 2 lines")


def test_absent_disagreement(folder):
    _replace_line(folder / "absent.txt", 2, "1")
    _replace_line(folder / "absent.txt", 3, "0")
    issues = validate_vlsot500(folder)
    _find(issues, folder / "absent.txt", 2, "line 2 has a box")
    _find(issues, folder / "absent.txt", 3, "line 3 is 0,0,0,0")


def test_absent_values_and_count(folder):
    write_text(folder / "absent.txt", "0\n0\n1\n2\n")
    issues = validate_vlsot500(folder)
    _find(issues, folder / "absent.txt", 4, "expected 0 or 1")
    _find(issues, folder / "absent.txt", None, "4 lines for 5 images")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0\n", "expected 17 attributes, found 16"),
        ("0,0,0,0,0,0,0,0,0,0,0,0,3,0,0,0,2\n", "BRI (attribute 13) is 3"),
        ("0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,3\n", "LEN (attribute 17) is 3"),
        ("0,0,0,0,0,0,0,0,0,0,2,0,1,0,0,0,2\n", "NAO (attribute 11) is 2"),
        ("0,0,0,0,0,2,0,0,0,0,0,0,1,0,0,0,2\n", "ROT (attribute 6) is 2"),
        ("0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,x\n", "attribute 17 is not an integer"),
        ("0, 0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,2\n", "spaces"),
    ],
)
def test_attribute_rules(folder, text, words):
    write_text(folder / "attributes.txt", text)
    _find(validate_vlsot500(folder), folder / "attributes.txt", 1, words)


def test_attributes_on_two_lines(folder):
    write_text(folder / "attributes.txt", "0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,2\n0\n")
    _find(validate_vlsot500(folder), folder / "attributes.txt", 2, "one line")


def test_language_rules(folder):
    write_text(folder / "language.txt", "a red car\non the road\n")
    _find(validate_vlsot500(folder), folder / "language.txt", 2, "one line")
    write_text(folder / "language.txt", "   \n")
    _find(validate_vlsot500(folder), folder / "language.txt", 1, "empty")
    write_text(folder / "language.txt", "")
    _find(validate_vlsot500(folder), folder / "language.txt", None, "empty")


@pytest.mark.parametrize("name", ["absent.txt", "attributes.txt", "language.txt", GT])
def test_required_files(folder, name):
    (folder / name).unlink()
    _find(validate_vlsot500(folder), folder / name, None, "required file is missing")


def test_first_frame_copy(folder):
    (folder / "000001.jpg").unlink()
    _find(validate_vlsot500(folder), folder / "000001.jpg", None, "missing")
    write_bytes(folder / "000001.jpg", image_bytes(1))
    _find(validate_vlsot500(folder), folder / "000001.jpg", None, "not a byte copy")


def test_image_names(folder):
    images = folder / "imgs"
    (images / "000003.jpg").unlink()
    write_bytes(images / "0000006.jpg", image_bytes(5))
    write_bytes(images / "000007.JPG", image_bytes(6))
    issues = validate_vlsot500(folder)
    _find(issues, images / "000003.jpg", None, "missing frame")
    _find(issues, images / "0000006.jpg", None, "unexpected entry")
    _find(issues, images / "000007.JPG", None, "unexpected entry")
    _find(issues, folder / GT, None, "5 lines for 4 images")


def test_zero_based_and_non_jpeg_images(folder):
    images = folder / "imgs"
    write_bytes(images / "000000.jpg", image_bytes(9))
    write_bytes(images / "000002.jpg", image_bytes(1, ".png"))
    issues = validate_vlsot500(folder)
    _find(issues, images / "000000.jpg", None, "start at 000001.jpg")
    _find(issues, images / "000002.jpg", None, "not a JPEG")


def test_relative_speed_rules(folder):
    path = folder / "relative_speed.txt"
    write_text(path, "0.000000\n1.000000\n0.000000\n2.500000\n")
    _find(validate_vlsot500(folder), path, None, "4 lines for 5 images")
    write_text(path, "0.100000\n1.0\n0.000000\n-2.500000\nfast\n")
    issues = validate_vlsot500(folder)
    _find(issues, path, 1, "frame 1 must be 0")
    _find(issues, path, 2, "not formatted %.6f")
    _find(issues, path, 4, "negative")
    _find(issues, path, 5, "not a number")


def test_boxes_outside_the_image_are_warnings(folder):
    _replace_line(folder / GT, 2, "50,40,20,10")  # images are 64x48: partly outside
    _replace_line(folder / GT, 4, "100,100,20,10")  # entirely outside
    issues = validate_vlsot500(folder)
    _find(issues, folder / GT, 2, "partly outside the 64x48 image", "warning")
    _find(issues, folder / GT, 4, "entirely outside", "warning")
    assert not has_errors(issues)


def test_several_breakages_are_all_reported(folder):
    _replace_line(folder / GT, 2, "11, 6,20,10")
    _replace_line(folder / "absent.txt", 4, "1")
    write_text(folder / "attributes.txt", "0,0,0,0,0,0,0,0,0,0,0,0,3,0,0,0,2\n")
    write_text(folder / "language.txt", "line one\nline two\n")
    (folder / "000001.jpg").unlink()
    (folder / "imgs" / "000005.jpg").rename(folder / "imgs" / "000006.jpg")
    issues = validate_vlsot500(folder)
    _find(issues, folder / GT, 2, "spaces")
    _find(issues, folder / "absent.txt", 4, "has a box")
    _find(issues, folder / "attributes.txt", 1, "BRI")
    _find(issues, folder / "language.txt", 2, "one line")
    _find(issues, folder / "000001.jpg", None, "missing")
    _find(issues, folder / "imgs" / "000005.jpg", None, "missing frame")
    report = format_report(issues, folder)
    assert report.startswith(f"{folder}: 6 error(s), 0 warning(s)")
    assert "  error: groundtruth_rect.txt:2: spaces" in report
    assert "  error: imgs/000005.jpg: missing frame" in report


def test_folder_not_found(tmp_path):
    issues = validate_vlsot500(tmp_path / "nothing")
    assert [(issue.severity, issue.line) for issue in issues] == [("error", None)]
    (tmp_path / "empty").mkdir()
    issues = validate_vlsot500(tmp_path / "empty")
    assert has_errors(issues) and len(issues) >= 6


def test_os_errors_are_reported_not_raised(folder, monkeypatch):
    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", denied)
    issues = validate_vlsot500(folder)
    assert has_errors(issues)
    assert any("Permission denied" in issue.message for issue in issues)
