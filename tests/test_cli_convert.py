"""``python -m costcore convert``: real sequences of every layout -> valid VL-SOT500 folders."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from costcore.attributes import relative_speed
from costcore.cli import main
from costcore.formats import read_sequence, validate_vlsot500
from tests.conftest import PROJECT_ROOT, shared_sequence


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
