"""Reading tracker result files: delimiters, "no prediction" lines, length problems, errors."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.errors import FormatError
from costcore.evaluation import GroundTruth, list_trackers, load_tracker_results, read_result_file


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def test_comma_tab_and_space_delimiters(tmp_path):
    path = write(
        tmp_path / "a.txt", "1.000,2.000,3.000,4.000\n5\t6\t7\t8\r\n9 10 11 12\n13, 14 ,15,16"
    )
    prediction = read_result_file(path)
    np.testing.assert_array_equal(prediction.boxes, np.arange(1, 17).reshape(4, 4))
    assert not prediction.empty.any()


def test_bare_zero_and_empty_lines_mean_no_prediction(tmp_path):
    path = write(tmp_path / "a.txt", "1,2,3,4\n0\n\n0.000\n5,6,7,8\n")
    prediction = read_result_file(path)
    assert prediction.empty.tolist() == [False, True, True, True, False]
    np.testing.assert_array_equal(prediction.boxes[1:4], 0.0)


def test_trailing_blank_lines_are_kept_only_up_to_the_frame_count(tmp_path):
    path = write(tmp_path / "a.txt", "1,2,3,4\n\n\n")
    assert read_result_file(path).frame_count == 1
    assert read_result_file(path, frame_count=2).empty.tolist() == [False, True]
    assert read_result_file(path, frame_count=5).frame_count == 3  # then reported as short


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1,2,3", "found 3 fields"),
        ("1,,2,3", "empty field"),
        ("7", "found 1 field"),
        ("1,2,3,x", "not a number: 'x'"),
        ("1,2,3,inf", "infinite"),
        ("1,2,3,4,5,6,7,8", "found 8 fields"),
    ],
)
def test_malformed_lines_raise_format_error_with_file_and_line(tmp_path, line, message):
    path = write(tmp_path / "seq.txt", f"1,2,3,4\n{line}\n")
    with pytest.raises(FormatError, match=message) as caught:
        read_result_file(path)
    assert caught.value.path == path
    assert caught.value.line == 2
    assert "seq.txt, line 2" in str(caught.value)


def test_unreadable_file_is_a_format_error(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"1,2,3,4\n\xff\xfe\n")
    with pytest.raises(FormatError, match="UTF-8"):
        read_result_file(path)
    with pytest.raises(FormatError, match="not found"):
        read_result_file(tmp_path / "missing.txt")


def test_missing_short_long_and_malformed_files_are_all_reported_by_name(tmp_path):
    gts = [GroundTruth(name, [[1, 1, 5, 5]] * 3, [False] * 3) for name in "abcde"]
    tracker = tmp_path / "T"
    write(tracker / "a.txt", "1,1,5,5\n" * 3)
    write(tracker / "b.txt", "1,1,5,5\n" * 2)  # short
    write(tracker / "c.txt", "1,1,5,5\n" * 4)  # long
    write(tracker / "d.txt", "1,1,5,5\n1;1;5;5\n1,1,5,5\n")  # malformed line 2
    # e.txt missing
    predictions, problems = load_tracker_results(tmp_path, "T", gts)
    assert list(predictions) == ["a"]
    by_sequence = {problem.sequence: str(problem) for problem in problems}
    assert set(by_sequence) == {"b", "c", "d", "e"}
    assert "too short: 2 lines for 3 frames" in by_sequence["b"]
    assert "b.txt" in by_sequence["b"]
    assert "too long: 4 lines for 3 frames" in by_sequence["c"]
    assert "line 2" in by_sequence["d"]
    assert "e.txt" in by_sequence["e"] and "missing" in by_sequence["e"]


def test_unknown_tracker_folder_is_a_problem(tmp_path):
    gts = [GroundTruth("a", [[1, 1, 5, 5]] * 2, [False] * 2)]
    predictions, problems = load_tracker_results(tmp_path, "nobody", gts)
    assert predictions == {} and "tracker folder not found" in str(problems[0])


def test_list_trackers_lists_visible_subfolders(tmp_path):
    for name in ("b", "a", ".hidden"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("x")
    assert list_trackers(tmp_path) == ["a", "b"]
    with pytest.raises(FormatError):
        list_trackers(tmp_path / "nope")


def test_fast_and_line_by_line_parsing_agree(tmp_path):
    """The numpy fast path and the line loop (forced by mixed delimiters) read the same."""
    rng = np.random.default_rng(1)
    boxes = np.round(rng.uniform(-50, 900, (40, 4)), 3)
    empty = rng.random(40) < 0.2
    lines = [
        "0" if e else ",".join(f"{v:.3f}" for v in row) for row, e in zip(boxes, empty, strict=True)
    ]
    fast = read_result_file(write(tmp_path / "fast.txt", "\n".join(lines) + "\n"))
    lines[-1] = "\t".join(f"{v:.3f}" for v in boxes[-1])
    empty[-1] = False
    slow = read_result_file(write(tmp_path / "slow.txt", "\n".join(lines) + "\n"))
    assert fast.empty.tolist()[:-1] == slow.empty.tolist()[:-1] == empty.tolist()[:-1]
    np.testing.assert_array_equal(fast.boxes[:-1], slow.boxes[:-1])
    np.testing.assert_array_equal(slow.boxes[-1], boxes[-1])
    np.testing.assert_array_equal(fast.boxes[~fast.empty], boxes[~fast.empty])
