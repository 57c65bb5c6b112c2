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

from costcore.boxes import Box
from costcore.cli import track
from costcore.engines.base import GroundingResult, TrackerEngine, TrackResult
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

    monkeypatch.setattr("costcore.engines.frame_loop.track_frames", refuse)


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


class _SteadyEngine(TrackerEngine):
    """Finds the target at a fixed place from any sentence and keeps it there, score 0.87."""

    name = "steady"
    can_ground = True

    def ground(self, frame: np.ndarray, text: str) -> GroundingResult:
        self.sentence = text
        return GroundingResult(Box(60, 50, 40, 30), 0.91)

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        self.box = Box(*box)

    def step(self, frame: np.ndarray) -> TrackResult:
        return TrackResult(self.box, 0.87, self.name)


@pytest.fixture
def steady(monkeypatch: pytest.MonkeyPatch) -> list[_SteadyEngine]:
    """Registers the steady engine; the list holds the engines the CLI built."""
    from costcore.engines import registry

    built: list[_SteadyEngine] = []

    def make(device: str = "auto") -> _SteadyEngine:
        built.append(_SteadyEngine())
        return built[-1]

    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))
    registry.register_engine("steady", make, "test engine", can_ground=True)
    return built


def gray_frames(folder: Path, count: int, size: tuple[int, int] = (160, 120)) -> Path:
    """``count`` identical mid-grey PNG frames: anything that differs in the video was drawn."""
    folder.mkdir(parents=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i + 1:04d}.png"), np.full((size[1], size[0], 3), 110, np.uint8))
    return folder


def decode(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int))
    capture.release()
    return frames


def test_the_report_gives_frames_speed_and_peak_memory(
    crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_track("--sequence", str(crossing), "--engine", "kcf", "--max-frames", "12",
                     "--out", str(tmp_path / "r.txt")) == 0  # fmt: skip
    printed = capsys.readouterr().out
    speed = re.search(r"^(\d+) frames, ([\d.]+) FPS tracking, ([\d.]+) FPS overall", printed, re.M)
    memory = re.search(r"^peak memory: (\d+) MiB CPU RSS \(process\)$", printed, re.M)
    assert speed and memory, printed
    assert int(speed.group(1)) == 12
    assert float(speed.group(2)) > 0 and float(speed.group(3)) > 0
    status = Path("/proc/self/status")
    if status.is_file():  # the peak is at least what the process holds now, and sane
        now_kib = int(re.search(r"VmRSS:\s+(\d+)", status.read_text()).group(1))
        assert now_kib / 1024 - 1 <= int(memory.group(1)) < 64 * 1024
    assert "CUDA" not in printed  # a CPU run has no CUDA line


def test_report_lines_and_cuda_only_on_cuda() -> None:
    from costcore.engines.run_report import RunReport, cuda_peak_bytes

    report = RunReport(11, 2.0, 4.0, 300 * 2**20, 1536 * 2**20, lost_frames=2)
    assert report.lines() == [
        "11 frames, 5.0 FPS tracking, 2.8 FPS overall, target lost on 2 frames",
        "peak memory: 300 MiB CPU RSS (process), 1536 MiB CUDA allocated",
    ]
    assert RunReport(1, 0.0, 0.5).memory_line() == "peak memory: not measurable here"
    assert cuda_peak_bytes("cpu") is None


def test_cuda_peak_is_measured_on_a_gpu() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from costcore.engines.run_report import cuda_peak_bytes, reset_cuda_peak

    reset_cuda_peak("cuda")
    block = torch.empty(64 * 2**20, dtype=torch.uint8, device="cuda")
    assert cuda_peak_bytes("cuda") >= block.numel()


def test_saved_video_shows_box_score_and_frame_number(
    tmp_path: Path, steady: list[_SteadyEngine]
) -> None:
    frames = gray_frames(tmp_path / "grey", 6)
    video = tmp_path / "demo.avi"
    box = ["--bbox", "60", "50", "40", "30"]
    assert run_track("--frames", str(frames), "--engine", "steady", *box,
                     "--save-video", str(video), "--out", str(tmp_path / "r.txt")) == 0  # fmt: skip
    decoded = decode(video)
    assert len(decoded) == 6 and all(f.shape == (120, 160, 3) for f in decoded)
    background = decoded[0][100:, 120:]  # far from every drawing
    assert np.abs(background - 110).max() < 8
    for frame in decoded:  # the box, in BOX_COLOR_RGB, where the box is
        red, _, blue = frame[55:75, 60].mean(axis=0)
        assert red > 180 and blue < 90
        inside = frame[58:72, 70:90]
        assert np.abs(inside - 110).max() < 8  # only the outline is drawn
    above_box = (slice(30, 45), slice(60, 100))
    assert np.abs(decoded[0][above_box] - 110).max() < 8  # frame 1: the given box, no score
    for frame in decoded[1:]:  # tracked frames: the score, in the box's colour, above the box
        label = frame[above_box].reshape(-1, 3)
        assert ((label[:, 0] > 180) & (label[:, 2] < 100)).sum() > 10
    corner = (slice(0, 22), slice(0, 30))
    for frame in decoded:  # the frame number, white, in the corner
        assert (frame[corner].min(axis=-1) > 200).sum() > 5
    numbers = [frame[corner] for frame in decoded]
    assert all(np.abs(a - b).max() > 100 for a, b in zip(numbers, numbers[1:], strict=False))


def test_a_sentence_without_a_box_is_grounded_by_engines_that_can(
    crossing: Path, tmp_path: Path, steady: list[_SteadyEngine], capsys
) -> None:
    frames = gray_frames(tmp_path / "grey", 4)
    out, video = tmp_path / "found.txt", tmp_path / "found.avi"
    assert run_track("--frames", str(frames), "--engine", "steady", "--text", "a red car",
                     "--out", str(out), "--save-video", str(video)) == 0  # fmt: skip
    assert out.read_text().splitlines() == ["60.000,50.000,40.000,30.000"] * 4
    assert steady[-1].sentence == "a red car"
    assert "target found from the sentence: 60.000,50.000,40.000,30.000 (score 0.91)" in (
        capsys.readouterr().out
    )
    label = decode(video)[0][30:45, 60:100].reshape(-1, 3)  # frame 1 shows the grounding score
    assert ((label[:, 0] > 180) & (label[:, 2] < 100)).sum() > 10

    # a sequence has its own first box; --ground asks for the sentence's instead
    out = tmp_path / "seq.txt"
    assert run_track("--sequence", str(crossing), "--engine", "steady", "--text", "a man",
                     "--max-frames", "3", "--out", str(out)) == 0  # fmt: skip
    assert out.read_text().splitlines()[0] == "205.000,151.000,17.000,50.000"
    assert run_track("--sequence", str(crossing), "--engine", "steady", "--text", "a man",
                     "--ground", "--max-frames", "3", "--out", str(out)) == 0  # fmt: skip
    assert out.read_text().splitlines()[0] == "60.000,50.000,40.000,30.000"


def test_a_sentence_without_a_box_is_a_clear_error_for_other_engines(
    crossing: Path, tmp_path: Path, capsys, steady
) -> None:
    from costcore import cli

    out = tmp_path / "x.txt"
    frames = str(crossing / "img")
    with pytest.raises(CostcoreError) as caught:
        run_track("--frames", frames, "--text", "a man", "--out", str(out))
    assert str(caught.value) == "engine 'csrt' cannot find a target from a sentence; give --bbox"
    assert cli.main(["track", "--frames", frames, "--text", "a man", "--engine", "kcf",
                     "--out", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "engine 'kcf' cannot find a target from a sentence; give --bbox" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    with pytest.raises(CostcoreError, match="--ground needs a sentence"):
        run_track("--sequence", str(crossing), "--engine", "steady", "--ground", "--out", str(out))
    with pytest.raises(CostcoreError, match="drop --bbox"):
        run_track("--frames", frames, "--engine", "steady", "--ground", "--text", "a man",
                  "--bbox", "1", "2", "3", "4")  # fmt: skip
    assert not out.exists()
