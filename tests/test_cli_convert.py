"""``python -m costcore convert``: real sequences of every layout -> valid VL-SOT500 folders."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from costcore.attributes import relative_speed
from costcore.cli import main
from costcore.formats import read_sequence, validate_vlsot500
from tests.conftest import PROJECT_ROOT, shared_sequence
from tests.test_formats_support import make_otb, make_tnl2k


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "layout", "language"),
    [
        ("Crossing", "otb", "a pedestrian crossing the street"),
        ("Skiing", "otb", "skier doing a flip"),
        ("truck4_1", "uav123", "the small white truck on the road"),
        ("airplane-1", "lasot", None),  # LaSOT brings its own nlp.txt
    ],
)
def test_convert_real_sequence_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, layout: str, language: str
) -> None:
    src = shared_sequence(name)
    dst = tmp_path / name
    argv = ["convert", str(src), str(dst), "--subset", "270"]
    if language:
        argv += ["--language", language]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"read {layout} sequence" in printed
    assert "BRI" in printed and "mean brightness b =" in printed
    assert "LEN" in printed and "manual: no rule" in printed

    assert [i for i in validate_vlsot500(dst) if i.severity == "error"] == []
    source, exported = read_sequence(src), read_sequence(dst)
    assert exported.layout == "vlsot500"
    assert exported.frame_count == source.frame_count
    np.testing.assert_array_equal(exported.absent, source.absent)
    present = ~source.absent
    np.testing.assert_array_equal(exported.boxes[present], np.floor(source.boxes[present] + 0.5))
    assert exported.language == (language or source.language)
    for i in (0, source.frame_count // 2, source.frame_count - 1):
        assert _sha(exported.frames[i]) == _sha(source.frames[i])
    assert _sha(dst / "000001.jpg") == _sha(source.frames[0])
    expected_speed = relative_speed(source.boxes, source.absent)
    np.testing.assert_allclose(exported.relative_speed, expected_speed, atol=5e-7)
    # LEN is exact: every one of these is a short (<= 600) or long (> 1800) video
    assert exported.attributes[16] == (2 if source.frame_count > 1800 else 0)


def test_convert_without_language_names_the_source(tmp_path: Path, capsys) -> None:
    src = shared_sequence("Crossing")
    assert main(["convert", str(src), str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert "Crossing" in error and "--language" in error
    assert not (tmp_path / "out").exists()


def test_convert_refuses_to_overwrite_unless_asked(tmp_path: Path, capsys) -> None:
    src = shared_sequence("Skiing")
    dst = tmp_path / "Skiing"
    args = ["convert", str(src), str(dst), "--language", "a skier"]
    assert main(args) == 0
    marker = dst / "language.txt"
    before = marker.read_bytes()
    assert main([*args[:-1], "another skier"]) == 2
    assert "exist" in capsys.readouterr().err
    assert marker.read_bytes() == before
    assert main([*args[:-1], "another skier", "--overwrite"]) == 0
    assert marker.read_text() == "another skier\n"
    assert not (dst / "relative_speed.txt").exists()  # subset 230 has none


def test_convert_missing_source_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["convert", str(tmp_path / "nope"), str(tmp_path / "out"), "--language", "x"]) == 2
    assert "nope" in capsys.readouterr().err


def test_validate_command_reports_a_broken_folder(tmp_path: Path, capsys) -> None:
    src = shared_sequence("Crossing")
    dst = tmp_path / "Crossing"
    assert main(["convert", str(src), str(dst), "--language", "a pedestrian"]) == 0
    assert main(["validate", str(dst)]) == 0
    lines = (dst / "groundtruth_rect.txt").read_text().splitlines()
    lines[4] = lines[4].replace(",", ", ")
    (dst / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["validate", str(dst)]) == 1
    report = capsys.readouterr().out
    assert "error: groundtruth_rect.txt:5:" in report


def test_python_dash_m_costcore_runs_as_a_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "costcore", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "convert" in result.stdout and "validate" in result.stdout


# ``python -m costcore convert`` that stops for good after writing 3 frames (to be killed)
_CONVERT_STOPPED_MID_WRITE = """
import sys, time
from costcore.cli import main
from costcore.formats import vlsot500_writer
real_write_frame = vlsot500_writer._write_frame
def write_frame(frames, index, target):
    if index == 3:
        print("writing", flush=True)
        time.sleep(60)
    real_write_frame(frames, index, target)
vlsot500_writer._write_frame = write_frame
sys.exit(main(sys.argv[1:]))
"""


def _kill_convert_mid_write(*argv: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CONVERT_STOPPED_MID_WRITE, *argv],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        for line in child.stdout:
            if line.strip() == "writing":
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
        child.stdout.close()


def test_a_killed_convert_leaves_its_partial_folder_to_the_next_run(tmp_path: Path) -> None:
    """SIGKILL convert mid-write: DST is untouched (absent, or the old export), and the next
    convert removes the hidden partial folder the dead one left."""
    src = make_otb(tmp_path / "Car", count=8)
    dst = tmp_path / "out" / "Car"
    args = ["convert", str(src), str(dst), "--language", "a car"]
    _kill_convert_mid_write(*args)
    (partial,) = (tmp_path / "out").iterdir()
    assert partial.name.startswith(".Car.") and (partial / "imgs" / "000003.jpg").is_file()

    assert main(args) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Car"]
    before = (dst / "language.txt").read_bytes()
    _kill_convert_mid_write(*args[:-1], "another car", "--overwrite")
    assert (dst / "language.txt").read_bytes() == before  # the old export, whole
    assert len(list((tmp_path / "out").iterdir())) == 2

    assert main([*args[:-1], "another car", "--overwrite"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Car"]
    assert (dst / "language.txt").read_text() == "another car\n"
    assert [i for i in validate_vlsot500(dst) if i.severity == "error"] == []


@pytest.mark.parametrize("fps", ["nan", "inf", "-inf", "-25", "0", "1e9", "fast"])
def test_a_frame_rate_that_is_not_one_is_a_clear_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fps: str
) -> None:
    src = make_otb(tmp_path / "Car", count=3)
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(src), str(tmp_path / "out"), "--language", "a car", f"--fps={fps}"])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "--fps: expected a frame rate in frames per second" in error and repr(fps) in error
    assert "Traceback" not in error and not (tmp_path / "out").exists()


def test_a_good_frame_rate_reaches_relative_speed_in_seconds(tmp_path: Path) -> None:
    src = make_otb(tmp_path / "Car", count=4)
    dst = tmp_path / "out"
    args = ["convert", str(src), str(dst), "--language", "a car", "--subset", "270"]
    assert main([*args, "--speed-time", "seconds", "--fps", "12.5"]) == 0
    per_second = read_sequence(dst).relative_speed
    frames = relative_speed(read_sequence(src).boxes, read_sequence(src).absent)
    np.testing.assert_allclose(per_second, frames * 12.5, atol=2e-6)


@pytest.mark.parametrize(
    ("file", "data", "said"),
    [
        ("language_attributes.txt", b"\xef\xbb\xbf\xef\xbb\xbfcar,vehicle,red,center\n", "U+FEFF"),
        ("language_attributes.txt", "car,\ufeffvehicle,red,center\n".encode(), "U+FEFF"),
        ("language_attributes.txt", b"car,vehi\x07cle,red,center\n", "U+0007"),
        ("language_attributes.txt", b"car,vehicle,red\x00,center\n", "U+0000"),
        ("language.txt", b"\xef\xbb\xbf\xef\xbb\xbfa red car\n", "byte order mark"),
        ("language.txt", b"a red\x1b[31m car\n", "U+001B"),
    ],
)
def test_malformed_language_input_stops_convert_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, data: bytes, said: str
) -> None:
    src = make_tnl2k(tmp_path / "src" / "Car")  # TNL2K: language.txt is the sentence
    (src / file).write_bytes(data)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out / "Car")]) == 2
    error = capsys.readouterr().err
    assert f"{src / file}, line 1" in error and said in error
    assert "Traceback" not in error and not out.exists()


def test_a_bom_in_the_attribute_words_option_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_tnl2k(tmp_path / "src" / "Car")
    words = "\ufeffcar,vehicle,red,center"
    with pytest.raises(SystemExit):
        main(["convert", str(src), str(tmp_path / "out"), "--language-attributes", words])
    assert "U+FEFF" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_damaged_source_frame_is_named_with_its_1_based_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = make_otb(tmp_path / "Car", count=8)
    frame = src / "img" / "0006.jpg"
    frame.write_bytes(frame.read_bytes()[: frame.stat().st_size * 2 // 3])
    assert main(["convert", str(src), str(tmp_path / "out"), "--language", "a car"]) == 2
    error = capsys.readouterr().err
    assert f"{frame}, frame 6: " in error and "JPEG" in error
    assert not (tmp_path / "out").exists()
