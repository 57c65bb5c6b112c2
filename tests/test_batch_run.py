"""Batch runs on tiny synthetic sequences with a fake engine: planning, resuming, failures,
worker processes (device assignment, crashes) and interruption."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from costcore.batch import (
    BatchListener,
    EngineSpec,
    is_complete,
    plan_batch,
    result_file,
    run_batch,
    times_file,
)
from costcore.errors import CostcoreError
from tests import batch_fakes
from tests.batch_fakes import FAKE_FACTORY, make_otb_sequence

FAKE = EngineSpec("fake", factory=FAKE_FACTORY)


class Recorder(BatchListener):
    def __init__(self) -> None:
        self.workers: dict[int, str] = {}
        self.started: list[str] = []
        self.finished: list[tuple[str, str]] = []
        self.frames = 0

    def worker_started(self, slot: int, device: str, description: str) -> None:
        self.workers[slot] = description

    def sequence_started(self, slot: int, job) -> None:  # noqa: ANN001
        self.started.append(job.name)

    def frames_tracked(self, count: int, slot: int = 0) -> None:
        self.frames += count

    def sequence_finished(self, outcome) -> None:  # noqa: ANN001
        self.finished.append((outcome.name, outcome.status))


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_plan_run_resume(tmp_path: Path) -> None:
    data, results = tmp_path / "data", tmp_path / "results"
    make_otb_sequence(data, "a", 6, language="a red car")
    make_otb_sequence(data, "b", 5)
    plan = plan_batch(data, results, "fake")
    assert [job.name for job in plan.jobs] == ["a", "b"] and plan.frames_to_track == 11
    batch_fakes.CREATED.clear()
    recorder = Recorder()
    result = run_batch(plan.jobs, FAKE, ["cpu"], listener=recorder)
    assert [o.name for o in result.done] == ["a", "b"] and not result.failed
    assert recorder.frames == 11 and recorder.finished == [("a", "done"), ("b", "done")]
    assert len(batch_fakes.CREATED) == 1  # one engine for all sequences
    # the language is the text; a sequence without language gets ""
    (_, text_a, _), (_, text_b, _) = batch_fakes.CREATED[0].initialized
    assert (text_a, text_b) == ("a red car", "")

    assert _lines(result_file(results, "fake", "a")) == [
        f"{8 + i}.000,16.000,12.000,12.000" for i in range(6)
    ]
    assert len(_lines(times_file(results, "fake", "b"))) == 5
    assert not list(results.rglob("*.tmp"))

    again = plan_batch(data, results, "fake")
    assert again.jobs == [] and again.skipped == ["a", "b"]
    assert [job.name for job in plan_batch(data, results, "fake", overwrite=True).jobs] == [
        "a",
        "b",
    ]
    times_file(results, "fake", "a").unlink()  # results without their times are redone
    assert [job.name for job in plan_batch(data, results, "fake").jobs] == ["a"]


def test_completeness_check(tmp_path: Path) -> None:
    result, times = tmp_path / "s.txt", tmp_path / "times" / "s_time.txt"
    times.parent.mkdir()
    result.write_text("1.000,2.000,3.000,4.000\n" * 3)
    times.write_text("0.10000000\n" * 3)
    assert is_complete(result, times, 3)
    assert not is_complete(result, times, 4)
    result.write_text("1.000,2.000,3.000,4.000\n" * 2 + "1.000,2.0")  # torn last line
    assert not is_complete(result, times, 3)
    result.write_text("1.000,2.000,3.000,4.000\n" * 3)
    times.write_text("0.1\n0.1\n")
    assert not is_complete(result, times, 3)
    times.write_text("0.1\nx\n0.1\n")
    assert not is_complete(result, times, 3)


def test_first_frames_absent_get_zero_boxes(tmp_path: Path) -> None:
    data, results = tmp_path / "data", tmp_path / "results"
    make_otb_sequence(data, "late", 7, absent_first=3)
    make_otb_sequence(data, "never", 4, absent_first=4)
    plan = plan_batch(data, results, "fake")
    assert [(f.name, "absent in every frame" in f.reason) for f in plan.failed] == [("never", True)]
    (job,) = plan.jobs
    assert (job.first_index, tuple(job.box)) == (3, (11.0, 16.0, 12.0, 12.0))
    assert plan.frames_to_track == 4
    result = run_batch(plan.jobs, FAKE, ["cpu"])
    assert result.done[0].frames == 4
    lines = _lines(result_file(results, "fake", "late"))
    assert lines[:3] == ["0.000,0.000,0.000,0.000"] * 3
    assert lines[3] == "11.000,16.000,12.000,12.000" and len(lines) == 7
    assert _lines(times_file(results, "fake", "late"))[:3] == ["0.00000000"] * 3

    from costcore.evaluation import load_ground_truths, load_tracker_results

    predictions, problems = load_tracker_results(results, "fake", load_ground_truths(data))
    # "never" has no result file (it was reported as failed); "late" is read back whole
    assert [p.sequence for p in problems] == ["never"] and predictions["late"].frame_count == 7


def test_failures_are_reported_and_the_rest_finishes(tmp_path: Path) -> None:
    data, results = tmp_path / "data", tmp_path / "results"
    make_otb_sequence(data, "good", 5)
    make_otb_sequence(data, "badgt", 5, groundtruth="1,2,3\n" * 5)
    make_otb_sequence(data, "corrupt", 6, corrupt_frame=3)
    make_otb_sequence(data, "boom", 4, language="explode")
    (data / "notes").mkdir()
    plan = plan_batch(data, results, "fake")
    assert [f.name for f in plan.failed] == ["badgt"] and "groundtruth_rect.txt" in str(
        plan.failed[0]
    )
    assert [p.name for p in plan.ignored] == ["notes"]
    result = run_batch(plan.jobs, FAKE, ["cpu"])
    assert [o.name for o in result.done] == ["good"]
    reasons = {o.name: o.reason for o in result.failed}
    assert "0004.jpg" in reasons["corrupt"]  # the frame that cannot be decoded, by name
    assert reasons["boom"] == "RuntimeError: the fake engine exploded"
    assert sorted(p.name for p in (results / "fake").glob("*.txt")) == ["good.txt"]


def test_sequence_selection_and_duplicate_names(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_otb_sequence(data / "cats", "seq", 3)
    make_otb_sequence(data / "dogs", "seq", 3)
    make_otb_sequence(data, "other", 3)
    plan = plan_batch(data, tmp_path / "r", "fake")
    assert [job.folder.parent.name for job in plan.jobs] == ["cats", "data"]
    assert [(f.name, "same file" in f.reason) for f in plan.failed] == [("seq", True)]
    assert [
        job.name for job in plan_batch(data, tmp_path / "r", "fake", sequences=["other"]).jobs
    ] == ["other"]
    with pytest.raises(CostcoreError, match="no sequence named nope"):
        plan_batch(data, tmp_path / "r", "fake", sequences=["other", "nope"])
    one = plan_batch(data / "other", tmp_path / "r", "fake")  # a sequence folder: a dataset of one
    assert [job.name for job in one.jobs] == ["other"] and one.ignored == []
    with pytest.raises(CostcoreError, match="no sequence folders"):
        plan_batch(data / "other" / "img", tmp_path / "r", "fake")
    with pytest.raises(CostcoreError, match="plain folder name"):
        plan_batch(data, tmp_path / "r", "a/b")


def test_max_frames_limits_every_file(tmp_path: Path) -> None:
    data, results = tmp_path / "data", tmp_path / "results"
    make_otb_sequence(data, "a", 8)
    plan = plan_batch(data, results, "fake", max_frames=3)
    run_batch(plan.jobs, FAKE, ["cpu"])
    assert len(_lines(result_file(results, "fake", "a"))) == 3
    assert plan_batch(data, results, "fake", max_frames=3).skipped == ["a"]
    assert [job.frame_count for job in plan_batch(data, results, "fake").jobs] == [8]


def test_interrupt_in_process_keeps_finished_files_only(tmp_path: Path) -> None:
    data, results = tmp_path / "data", tmp_path / "results"
    for name in ("a", "b", "c"):
        make_otb_sequence(data, name, 4)

    class InterruptSecond(Recorder):
        def frames_tracked(self, count: int, slot: int = 0) -> None:
            if len(self.started) == 2:
                raise KeyboardInterrupt

    plan = plan_batch(data, results, "fake")
    result = run_batch(plan.jobs, FAKE, ["cpu"], listener=InterruptSecond())
    assert result.cancelled and [o.name for o in result.done] == ["a"]
    assert [(o.name, o.status) for o in result.outcomes[1:]] == [("b", "cancelled")]
    assert result.not_started == ["c"]
    assert sorted(p.name for p in results.rglob("*") if p.is_file()) == ["a.txt", "a_time.txt"]
    assert [job.name for job in plan_batch(data, results, "fake").jobs] == ["b", "c"]


def test_worker_processes_devices_failures_and_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two spawned workers on fake GPUs: each sees only its own GPU; a sequence whose engine
    raises and one whose worker process dies are failed by name, the others finish."""
    data, results = tmp_path / "data", tmp_path / "results"
    for index in range(3):
        make_otb_sequence(data, f"good{index}", 5 + index)
    make_otb_sequence(data, "boom", 4, language="explode")
    make_otb_sequence(data, "crash", 4, language="crash")
    # the parent's own list, as a cluster scheduler sets it: worker 0 -> "3", worker 1 -> "7"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,7")
    plan = plan_batch(data, results, "fake")
    recorder = Recorder()
    result = run_batch(plan.jobs, FAKE, ["cuda:0", "cuda:1"], listener=recorder)
    assert recorder.workers[0] == "fake on cuda:0 CUDA_VISIBLE_DEVICES=3 [cuda:0]"
    assert recorder.workers[1] == "fake on cuda:0 CUDA_VISIBLE_DEVICES=7 [cuda:1]"
    assert sorted(o.name for o in result.done) == ["good0", "good1", "good2"]
    reasons = {o.name: o.reason for o in result.failed}
    assert reasons["boom"] == "RuntimeError: the fake engine exploded"
    assert "worker process died" in reasons["crash"]
    assert not result.cancelled and result.not_started == []
    # good ones + boom's first frame (+ crash's, if it was reported before the crash)
    assert recorder.frames in (5 + 6 + 7 + 1, 5 + 6 + 7 + 2)
    # same files as a run in this process (the fake engine, like CSRT, is deterministic)
    here = tmp_path / "here"
    goods = [f"good{index}" for index in range(3)]
    run_batch(plan_batch(data, here, "fake", sequences=goods).jobs, FAKE, ["cpu"])
    for index in range(3):
        name = f"good{index}"
        assert result_file(results, "fake", name).read_bytes() == (
            result_file(here, "fake", name).read_bytes()
        )


@pytest.fixture
def ctrl_c_handler():
    """Python's own Ctrl+C handler, whatever the test process inherited.

    A shell that starts the tests in the background (``cmd &``) makes them ignore SIGINT, and
    then no KeyboardInterrupt ever comes; an interactive run has this handler.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_handler")
def test_ctrl_c_stops_worker_processes_cleanly(tmp_path: Path) -> None:
    data, results = tmp_path / "data", tmp_path / "results"
    make_otb_sequence(data, "a_short", 3)
    for name in ("b_long", "c_long", "d_long"):
        make_otb_sequence(data, name, 60)

    class CtrlC(Recorder):
        pressed = False

        def frames_tracked(self, count: int, slot: int = 0) -> None:
            super().frames_tracked(count, slot)
            if (
                not self.pressed
                and ("a_short", "done") in self.finished
                and "b_long" in self.started
            ):
                self.pressed = True
                signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl+C now

    slow = EngineSpec("fake", options={"delay": 0.05}, factory=FAKE_FACTORY)
    plan = plan_batch(data, results, "fake")
    result = run_batch(plan.jobs, slow, ["cpu", "cpu"], listener=CtrlC())
    assert result.cancelled
    assert [o.name for o in result.done] == ["a_short"]
    cancelled = {o.name for o in result.outcomes if o.status == "cancelled"}
    assert "b_long" in cancelled and "d_long" in result.not_started
    assert cancelled | set(result.not_started) == {"b_long", "c_long", "d_long"}
    assert sorted(p.name for p in results.rglob("*") if p.is_file()) == [
        "a_short.txt",
        "a_short_time.txt",
    ]


def test_an_engine_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_otb_sequence(data, "a", 3)
    jobs = plan_batch(data, tmp_path / "r", "x").jobs
    with pytest.raises(CostcoreError, match="needs weights"):
        run_batch(jobs, EngineSpec("cost"), ["cpu"])
    with pytest.raises(CostcoreError, match=r"no worker could start: .*needs weights"):
        run_batch(jobs, EngineSpec("cost"), ["cpu"], processes=True)
