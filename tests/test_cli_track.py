"""``python -m costcore track`` on a real sequence, called through its own parser.

The subcommand is registered here directly, so these tests do not depend on the CLI's module
list.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from costcore.cli import track
from costcore.errors import CostcoreError
from costcore.formats import read_sequence

RESULT_LINE = re.compile(r"^-?\d+\.\d{3},-?\d+\.\d{3},-?\d+\.\d{3},-?\d+\.\d{3}$")


def run_track(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    track.register(parser.add_subparsers())
    args = parser.parse_args(["track", *argv])
    return args.handler(args)


def test_track_sequence_writes_results_times_and_video(
    crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, times, video = tmp_path / "Crossing.txt", tmp_path / "times.txt", tmp_path / "boxes.mp4"
    frames = 30
    code = run_track(
        "--sequence", str(crossing), "--out", str(out), "--times", str(times),
        "--save-video", str(video), "--max-frames", str(frames),
    )  # fmt: skip
    assert code == 0

    lines = out.read_text().split("\n")
    assert lines[-1] == "" and len(lines) == frames + 1
    assert all(RESULT_LINE.match(line) for line in lines[:-1])
    gt = read_sequence(crossing).boxes[0]
    assert lines[0] == ",".join(f"{v:.3f}" for v in gt)
    time_lines = times.read_text().splitlines()
    assert len(time_lines) == frames and all(re.match(r"^\d+\.\d{8}$", t) for t in time_lines)

    printed = capsys.readouterr().out
    assert "csrt (cpu)" in printed and "FPS" in printed

    capture = cv2.VideoCapture(str(video))
    assert capture.isOpened()
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
    decoded = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        decoded.append(bgr)
    capture.release()
    assert len(decoded) == frames
    # frame 1's box is the gt box: its left and top edges are drawn in BOX_COLOR_RGB
    rgb = cv2.cvtColor(decoded[0], cv2.COLOR_BGR2RGB).astype(int)
    x, y, w, h = (round(v) for v in gt)
    left_edge = rgb[y + h // 4 : y + 3 * h // 4, x].mean(axis=0)
    top_edge = rgb[y, x + 3 : x + w - 3].mean(axis=0)
    for edge in (left_edge, top_edge):
        red, _, blue = edge
        assert red > 180 and blue < 90, edge  # a swapped (BGR) write would be blue


def test_track_frames_folder_with_bbox_and_kcf(crossing: Path, tmp_path: Path) -> None:
    out = tmp_path / "kcf.txt"
    code = run_track(
        "--frames", str(crossing / "img"), "--bbox", "205", "151", "17", "50",
        "--engine", "kcf", "--out", str(out), "--max-frames", "5", "--text", "ignored",
    )  # fmt: skip
    assert code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and lines[0] == "205.000,151.000,17.000,50.000"
    x, y, _, _ = (float(v) for v in lines[-1].split(","))
    assert abs(x - 201) < 8 and abs(y - 150) < 8  # gt of frame 5 is 201,150,18,48


def test_track_video_file(tmp_path: Path) -> None:
    # a bright square drifting right on a noisy background, as an .avi the test writes itself
    path = tmp_path / "moving.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 12.0, (96, 64))
    rng = np.random.default_rng(0)
    background = rng.integers(0, 80, (64, 96, 3), dtype=np.uint8)
    for i in range(8):
        frame = background.copy()
        frame[20:36, 10 + 2 * i : 26 + 2 * i] = (40, 220, 250)
        writer.write(frame)
    writer.release()
    out = tmp_path / "out" / "moving.txt"
    assert run_track("--video", str(path), "--bbox", "10", "20", "16", "16", "--out", str(out)) == 0
    boxes = np.loadtxt(out, delimiter=",")
    assert boxes.shape == (8, 4)
    assert boxes[-1, 0] == pytest.approx(24.0, abs=3.0)


def test_frames_without_bbox_is_a_clear_error(crossing: Path, tmp_path: Path) -> None:
    with pytest.raises(CostcoreError, match="--bbox"):
        run_track("--frames", str(crossing / "img"), "--out", str(tmp_path / "x.txt"))
    assert not (tmp_path / "x.txt").exists()


def test_unknown_engine_and_bad_device(crossing: Path, tmp_path: Path) -> None:
    with pytest.raises(CostcoreError, match="available"):
        run_track("--sequence", str(crossing), "--engine", "nope", "--out", str(tmp_path / "x"))
    with pytest.raises(SystemExit):
        run_track("--sequence", str(crossing), "--device", "gpu")


def test_format_helpers() -> None:
    from costcore.boxes import Box

    assert track.format_results([Box(1, 2.5, 3.25, 4.0005)]) == "1.000,2.500,3.250,4.000\n"
    assert track.format_times([0.1, 2]) == "0.10000000\n2.00000000\n"


def test_through_costcore_main(
    crossing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from costcore import cli

    monkeypatch.chdir(tmp_path)
    frames = str(crossing / "img")
    assert cli.main(["track", "--frames", frames, "--bbox", "205", "151", "17", "50",
                     "--max-frames", "3"]) == 0  # fmt: skip
    results = tmp_path / "Crossing.txt"  # named after the sequence folder holding img/
    assert len(results.read_text().splitlines()) == 3
    assert cli.main(["track", "--frames", frames]) == 2
    assert "--bbox" in capsys.readouterr().err


def test_failing_engine_leaves_no_video(
    crossing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from costcore.engines import registry
    from costcore.engines.opencv_engine import OpenCVEngine

    class Exploding(OpenCVEngine):
        def step(self, frame: np.ndarray):  # noqa: ANN201
            raise CostcoreError("boom")

    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))
    registry.register_engine("exploding", lambda device="auto": Exploding("csrt"), "test")
    video, out = tmp_path / "v.mp4", tmp_path / "r.txt"
    with pytest.raises(CostcoreError, match="boom"):
        run_track("--sequence", str(crossing), "--engine", "exploding",
                  "--save-video", str(video), "--out", str(out))  # fmt: skip
    assert not video.exists() and not out.exists()


@pytest.fixture
def no_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tracking any frame fails the test: the output checks must come first."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("tracking started before the output paths were checked")

    monkeypatch.setattr("costcore.engines.run.track_frames", refuse)


@pytest.mark.parametrize("option", ["--out", "--times", "--save-video"])
def test_unwritable_outputs_are_refused_before_tracking(
    crossing: Path, tmp_path: Path, read_only_folder: Path, no_tracking: None, option: str
) -> None:
    target = read_only_folder / ("v.mp4" if option == "--save-video" else "r.txt")
    args = ["--sequence", str(crossing), "--out", str(tmp_path / "r.txt"), option, str(target)]
    with pytest.raises(CostcoreError) as error:
        run_track(*args)
    message = str(error.value)
    assert f"{option} {target}" in message and "cannot write in" in message
    assert str(read_only_folder) in message and "nothing was tracked" in message


def test_an_output_that_is_a_folder_or_a_fifo_is_refused_before_tracking(
    crossing: Path, tmp_path: Path, no_tracking: None
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    with pytest.raises(CostcoreError, match=r"results: is a folder; give a file name"):
        run_track("--sequence", str(crossing), "--out", str(folder))
    fifo = tmp_path / "times.txt"
    os.mkfifo(fifo)
    with pytest.raises(CostcoreError, match=r"times.txt: is a named pipe \(FIFO\)"):
        run_track("--sequence", str(crossing), "--out", str(tmp_path / "r.txt"),
                  "--times", str(fifo))  # fmt: skip
    with pytest.raises(CostcoreError, match="same file"):
        run_track("--sequence", str(crossing), "--out", str(tmp_path / "r.txt"),
                  "--times", str(tmp_path / "." / "r.txt"))  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results", "times.txt"]


def test_missing_output_folders_are_fine(crossing: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "r.txt"
    assert run_track("--sequence", str(crossing), "--out", str(out), "--max-frames", "3") == 0
    assert len(out.read_text().splitlines()) == 3


def test_a_damaged_video_is_tracked_with_a_warning_and_exit_code_1(
    crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """400 bytes flipped mid-file: 58 of 120 frames were tracked with exit 0 and no word."""
    video = tmp_path / "crossing.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (360, 240))
    for image in sorted((crossing / "img").glob("*.jpg")):
        writer.write(cv2.imread(str(image)))
    writer.release()
    data = bytearray(video.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 400] = bytes(b ^ 0xFF for b in data[middle : middle + 400])
    video.write_bytes(bytes(data))
    out = tmp_path / "r.txt"
    code = run_track("--video", str(video), "--bbox", "205", "151", "17", "50", "--out", str(out))
    assert code == 1
    lines = out.read_text().splitlines()
    assert 100 < len(lines) < 120  # the frames after the damage are tracked too
    error = capsys.readouterr().err
    assert f"{video}: the video is damaged: only {len(lines)} of its 120 frames" in error
    assert "missing: frame" in error and "exit code 1" in error
