"""``python -m costcore run``: CSRT over real sequences (Crossing, Skiing), resuming, workers,
failures, interruption. The subcommand is registered here directly (or patched into the CLI's
module list), so these tests do not depend on that list."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pytest

from costcore.cli import run
from costcore.errors import CostcoreError
from costcore.formats import read_sequence
from tests.batch_fakes import make_otb_sequence
from tests.conftest import shared_sequence

RESULT_LINE = re.compile(r"^-?\d+\.\d{3},-?\d+\.\d{3},-?\d+\.\d{3},-?\d+\.\d{3}$")
TIME_LINE = re.compile(r"^\d+\.\d{8}$")
REAL = ("Crossing", "Skiing")  # the two smallest real sequences: 120 and 81 frames


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    run.register(parser.add_subparsers())
    args = parser.parse_args(["run", *argv])
    return args.handler(args)


def _real_dataset(root: Path) -> Path:
    dataset = root / "dataset"
    dataset.mkdir()
    for name in REAL:
        (dataset / name).symlink_to(shared_sequence(name), target_is_directory=True)
    return dataset


@pytest.fixture(scope="module")
def csrt_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One in-process CSRT run over Crossing and Skiing: (dataset, results)."""
    root = tmp_path_factory.mktemp("run")
    dataset, results = _real_dataset(root), root / "results"
    assert run_cli("--dataset", str(dataset), "--results", str(results), "--engine", "csrt") == 0
    return dataset, results


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.rglob("*.txt")}


def test_complete_toolkit_files_that_evaluation_reads(csrt_run: tuple[Path, Path]) -> None:
    dataset, results = csrt_run
    tracker = results / "csrt"
    assert sorted(p.name for p in tracker.iterdir()) == ["Crossing.txt", "Skiing.txt", "times"]
    for name in REAL:
        sequence = read_sequence(dataset / name)
        lines = (tracker / f"{name}.txt").read_text().split("\n")
        assert lines[-1] == "" and len(lines) == sequence.frame_count + 1
        assert all(RESULT_LINE.match(line) for line in lines[:-1])
        assert lines[0] == ",".join(f"{v:.3f}" for v in sequence.boxes[0])
        times = (tracker / "times" / f"{name}_time.txt").read_text().splitlines()
        assert len(times) == sequence.frame_count and all(TIME_LINE.match(t) for t in times)
    assert not list(results.rglob("*.tmp"))

    from costcore.evaluation import evaluate_tracker, load_ground_truths, load_tracker_results

    ground_truths = load_ground_truths(dataset)
    predictions, problems = load_tracker_results(results, "csrt", ground_truths)
    assert problems == [] and sorted(predictions) == sorted(REAL)
    report = evaluate_tracker("csrt", ground_truths, predictions)
    assert report.scores["AUC"] > 0.3  # CSRT follows both targets a good part of the way


def test_second_run_skips_and_a_damaged_file_is_redone(
    csrt_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset, finished = csrt_run
    results = tmp_path / "results"
    shutil.copytree(finished, results)
    before = _mtimes(results)
    assert run_cli("--dataset", str(dataset), "--results", str(results)) == 0  # csrt by default
    assert "0 to track" in capsys.readouterr().out
    assert _mtimes(results) == before

    skiing = results / "csrt" / "Skiing.txt"
    lines = skiing.read_text().splitlines()
    skiing.write_text("\n".join(lines[:-1]) + "\n")  # a file one line short
    assert run_cli("--dataset", str(dataset), "--results", str(results)) == 0
    out = capsys.readouterr().out
    assert "1 to track (81 frames), 1 already complete" in out
    after = _mtimes(results)
    assert after["Crossing.txt"] == before["Crossing.txt"]
    assert after["Crossing_time.txt"] == before["Crossing_time.txt"]
    assert after["Skiing.txt"] != before["Skiing.txt"]
    assert skiing.read_text().splitlines() == lines  # CSRT is deterministic


def test_two_workers_write_the_same_results(
    csrt_run: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset, single = csrt_run
    results = tmp_path / "results"
    code = run_cli(
        "--dataset", str(dataset), "--results", str(results), "--engine", "csrt",
        "--workers", "2", "--device", "cpu",
    )  # fmt: skip
    assert code == 0
    assert "2 workers on cpu, cpu" in capsys.readouterr().out
    for name in REAL:
        assert (results / "csrt" / f"{name}.txt").read_bytes() == (
            single / "csrt" / f"{name}.txt"
        ).read_bytes()
        times = (results / "csrt" / "times" / f"{name}_time.txt").read_text().splitlines()
        assert len(times) == len((single / "csrt" / f"{name}.txt").read_text().splitlines())


def test_a_failing_sequence_is_named_and_the_others_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, results = tmp_path / "data", tmp_path / "results"
    make_otb_sequence(data, "alpha", 8, language="a bright square")
    make_otb_sequence(data, "broken", 8, groundtruth="1,2,3,4\nnot,a,box,here\n" * 4)
    make_otb_sequence(data, "corrupt", 8, corrupt_frame=5)
    make_otb_sequence(data, "omega", 8)
    code = run_cli("--dataset", str(data), "--results", str(results), "--tracker-name", "CSRT")
    assert code == 1  # some failed
    out = capsys.readouterr().out
    assert "done: 2 sequence(s)" in out and "failed: 2" in out
    assert re.search(r"^  broken: .*groundtruth_rect\.txt, line 2", out, re.M)
    assert re.search(r"^  corrupt: .*0006\.jpg, frame 6:", out, re.M)  # counted from 1
    assert sorted(p.name for p in (results / "CSRT").glob("*.txt")) == ["alpha.txt", "omega.txt"]


def test_a_read_only_results_folder_is_refused_before_tracking(
    tmp_path: Path, read_only_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_otb_sequence(tmp_path / "data", "alpha", 4)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("tracking started before the results folder was checked")

    monkeypatch.setattr("costcore.batch.runner.run_batch", refuse)
    with pytest.raises(CostcoreError, match="nothing was tracked") as error:
        run_cli("--dataset", str(tmp_path / "data"), "--results", str(read_only_folder))
    assert f"cannot write in {read_only_folder}" in str(error.value)


def test_ctrl_c_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from costcore import cli

    data, results = tmp_path / "data", tmp_path / "results"
    for name in ("a", "b", "c"):
        make_otb_sequence(data, name, 6)

    def interrupt_after_first(self: run.RunReporter, outcome: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run.RunReporter, "sequence_finished", interrupt_after_first)
    code = cli.main(["run", "--dataset", str(data), "--results", str(results)])
    assert code == 130
    assert "interrupted: 2 sequence(s) not finished; run again to resume" in capsys.readouterr().out
    assert sorted(p.name for p in results.rglob("*.txt")) == ["a.txt", "a_time.txt"]


def test_engine_and_argument_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    make_otb_sequence(data, "a", 3)
    common = ("--dataset", str(data), "--results", str(tmp_path / "r"))
    with pytest.raises(CostcoreError, match="needs --weights"):
        run_cli(*common, "--engine", "cost")
    with pytest.raises(CostcoreError, match="weights not found"):
        run_cli(*common, "--engine", "transt", "--weights", str(tmp_path / "none.pth"))
    with pytest.raises(CostcoreError, match="available"):
        run_cli(*common, "--engine", "nope")
    from costcore.batch import devices

    monkeypatch.setattr(devices, "torch_cuda_count", lambda: 0)
    with pytest.raises(CostcoreError, match="cuda:0, cuda:1 requested, but this machine has no"):
        run_cli(*common, "--gpus", "2")
    with pytest.raises(CostcoreError, match="no sequence named zeta"):
        run_cli(*common, "--sequences", "zeta")
    with pytest.raises(SystemExit):
        run_cli(*common, "--workers", "0")
    assert not (tmp_path / "r").exists()


def test_default_tracker_name(tmp_path: Path) -> None:
    assert run.default_tracker_name("csrt", None) == "csrt"
    checkpoint = tmp_path / "cost-vlsot500"
    checkpoint.mkdir()
    assert run.default_tracker_name("cost", checkpoint) == "cost-cost-vlsot500"
    assert run.default_tracker_name("transt", tmp_path / "transt.pth") == "transt-transt"


@pytest.mark.slow
def test_cost_engine_in_worker_processes(tmp_path: Path) -> None:
    """The torch engine on a tiny checkpoint in two spawned workers: same files as in-process."""
    pytest.importorskip("transformers")
    from costcore.model import save_checkpoint
    from costcore.model.testing import tiny_model

    weights = save_checkpoint(tiny_model(tmp_path / "vocab"), tmp_path / "tiny-cost")
    data = tmp_path / "data"
    make_otb_sequence(data, "car", 6, language="a small red car")
    make_otb_sequence(data, "silent", 5, absent_first=1)  # no language: COST gets ""
    common = ("--dataset", str(data), "--engine", "cost", "--weights", str(weights))
    common += ("--device", "cpu")
    assert run_cli(*common, "--results", str(tmp_path / "two"), "--workers", "2") == 0
    assert run_cli(*common, "--results", str(tmp_path / "one")) == 0
    for name, count in (("car", 6), ("silent", 5)):
        two = (tmp_path / "two" / "cost-tiny-cost" / f"{name}.txt").read_text()
        assert len(two.splitlines()) == count
        assert two == (tmp_path / "one" / "cost-tiny-cost" / f"{name}.txt").read_text()


def test_reporter_on_a_terminal(tmp_path: Path) -> None:
    import io

    from costcore.batch.sequence_run import SequenceOutcome

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    data = tmp_path / "data"
    make_otb_sequence(data, "a", 10)
    make_otb_sequence(data, "b", 10)
    from costcore.batch import plan_batch

    job_a, job_b = plan_batch(data, tmp_path / "r", "x").jobs
    stream = Terminal()
    reporter = run.RunReporter("x", 2, 20, stream=stream)
    reporter.sequence_started(0, job_a)
    reporter.sequence_started(1, job_b)
    reporter.frames_tracked(4, 0)
    reporter.frames_tracked(3, 1)
    reporter.sequence_finished(SequenceOutcome("b", "failed", reason="boom"))
    # b's 7 frames left will not be tracked: out of the total, so the time left stays right
    assert reporter.frames_total == 13 and "7/13 frames" in reporter.status()
    reporter.frames_tracked(6, 0)
    reporter.sequence_finished(SequenceOutcome("a", "done", 10, 0.5, 0.6))
    reporter.close()
    text = stream.getvalue()
    assert "[1/2] b: FAILED: boom\n" in text and "[2/2] a: 10 frames, 18.0 FPS\n" in text
    assert "\r\x1b[K" in text and "x: 2/2 sequences, 13/13 frames" in text


def test_nanotrack_from_the_weights_cache_names_its_weights(tmp_path: Path) -> None:
    """Without --weights, nanotrack runs the cache's best entry, named in the results folder
    (so V2 and V3 results never mix); with nothing installed, the command says how to get it."""
    from costcore.weights import install_from
    from tests.nanotrack_helpers import released_file

    v3 = released_file(3)
    dataset, results = _real_dataset(tmp_path), tmp_path / "results"
    args = ["--dataset", str(dataset), "--results", str(results), "--engine", "nanotrack"]
    with pytest.raises(CostcoreError, match="NanoTrack weights are not installed: run `python"):
        run_cli(*args)
    install_from("nanotrack-v3", [v3.parent])
    assert run_cli(*args, "--sequences", "Skiing", "--max-frames", "12", "--device", "cpu") == 0
    lines = (results / "nanotrack-nanotrackv3" / "Skiing.txt").read_text().splitlines()
    assert len(lines) == 12 and all(RESULT_LINE.match(line) for line in lines)
    # the hybrid runs on NanoTrack's weights: the installed ones, named the same way
    hybrid = ["--engine", "hybrid", "--sequences", "Skiing", "--max-frames", "5"]
    assert run_cli(*args[:4], *hybrid, "--device", "cpu") == 0
    assert len((results / "hybrid-nanotrackv3" / "Skiing.txt").read_text().splitlines()) == 5
