"""Engine runs kept on disk for the effort benchmark (``bench effort --run-cache``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from costcore import cli
from costcore.assist.jobs import CachedRunner
from costcore.assist.runstore import RunStore
from costcore.assist.updates import Anchor
from costcore.boxes import Box
from costcore.effort import simulate
from tests.assist_fakes import IndexFrames, ScriptedEngine
from tests.test_effort import COUNT, TRUTH, LosingEngine, follows_six_frames

START = Anchor(3, Box(19.0, 20.0, 10.0, 10.0))


def store(tmp_path) -> RunStore:
    return RunStore(tmp_path / "runs", "scripted", "synthetic", COUNT)


def no_engine() -> ScriptedEngine:
    raise AssertionError("the run should have come from the store")


def values(updates) -> list[tuple]:
    return [(u.index, tuple(u.box), u.score, u.lost, u.source) for u in updates]


def test_a_stored_run_comes_back_without_tracking(tmp_path) -> None:
    first = CachedRunner(lambda: LosingEngine(script=follows_six_frames), IndexFrames(COUNT))
    first.store = store(tmp_path)
    live = values(first.run(START, COUNT))
    backward = values(first.run(START, -1, backwards=True))
    assert first.persist() == 2 and first.persist() == 0  # nothing grew since
    # both reached the video's end: stored as complete, nothing will be tracked again
    assert store(tmp_path).load(START, False).complete
    assert store(tmp_path).load(START, True).complete
    again = CachedRunner(no_engine, IndexFrames(COUNT), store=store(tmp_path))
    assert values(again.run(START, COUNT)) == live
    assert values(again.run(START, -1, backwards=True)) == backward
    assert again.frames_tracked == 0
    assert live[0][2] == 0.9 and live[-1][2] == 0.2  # scores kept


def test_a_shorter_stored_run_is_extended_with_the_same_values(tmp_path) -> None:
    def make() -> LosingEngine:
        return LosingEngine(script=follows_six_frames)

    first = CachedRunner(make, IndexFrames(COUNT), store=store(tmp_path))
    assert len(list(first.run(START, 12))) == 8
    first.persist()
    longer = CachedRunner(make, IndexFrames(COUNT), store=store(tmp_path))
    reference = CachedRunner(make, IndexFrames(COUNT))
    assert values(longer.run(START, COUNT)) == values(reference.run(START, COUNT))
    longer.persist()
    complete = CachedRunner(no_engine, IndexFrames(COUNT), store=store(tmp_path))
    assert len(list(complete.run(START, COUNT))) == COUNT - 4


def test_damaged_or_foreign_files_are_tracked_again(tmp_path) -> None:
    def make() -> LosingEngine:
        return LosingEngine(script=follows_six_frames)

    first = CachedRunner(make, IndexFrames(COUNT), store=store(tmp_path))
    expected = values(first.run(START, COUNT))
    first.persist()
    path = store(tmp_path).path(START, False)
    path.write_bytes(b"not an npz file")
    assert store(tmp_path).load(START, False) is None
    rerun = CachedRunner(make, IndexFrames(COUNT), store=store(tmp_path))
    assert values(rerun.run(START, COUNT)) == expected and rerun.frames_tracked == COUNT - 4
    rerun.persist()
    # a file saved for another start box under this name is not believed
    other = Anchor(START.index, Box(25.0, 20.0, 10.0, 10.0))
    path.replace(store(tmp_path).path(other, False))
    assert store(tmp_path).load(other, False) is None


def test_the_simulation_gives_the_same_result_from_the_store(tmp_path) -> None:
    absent = np.zeros(COUNT, dtype=bool)

    def make() -> LosingEngine:
        return LosingEngine(script=follows_six_frames)

    first = CachedRunner(make, IndexFrames(COUNT), store=store(tmp_path))
    a = simulate("assisted", "v", TRUTH, absent, 0.5, first)
    first.persist()
    second = CachedRunner(no_engine, IndexFrames(COUNT), store=store(tmp_path))
    b = simulate("assisted", "v", TRUTH, absent, 0.5, second)
    assert (a.draws, a.verifies, a.complete) == (b.draws, b.verifies, b.complete)
    assert second.frames_tracked == 0 < first.frames_tracked


@pytest.mark.parametrize("weights", [False, True])
def test_bench_effort_run_cache(tmp_path, capsys, weights) -> None:
    """Twice on a tiny OTB sequence with CSRT: the second run tracks no frame."""
    import cv2

    folder = tmp_path / "data" / "square"
    (folder / "img").mkdir(parents=True)
    lines = []
    for i in range(12):
        image = np.zeros((60, 80, 3), dtype=np.uint8)
        x = 10 + 2 * i
        image[20:34, x : x + 14] = (255, 255, 255)
        cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.jpg"), image)
        lines.append(f"{x},20,14,14")
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    args = ["bench", "effort", "--data", str(tmp_path / "data"), "--taus", "0.5", "--quiet"]
    args += ["--run-cache", str(tmp_path / "cache")]
    if weights:  # csrt ignores weights; they only take part in the cache key
        (tmp_path / "w.bin").write_bytes(b"x")
        args += ["--weights", str(tmp_path / "w.bin")]
    results = []
    for attempt in range(2):
        out = tmp_path / f"effort{attempt}.json"
        assert cli.main([*args, "--json", str(out)]) == 0
        results.append(json.loads(out.read_text()))
    capsys.readouterr()
    first, second = (r[0]["workflows"] for r in results)
    assert first["tracking/csrt"]["engine_frames"] > 0
    assert all(second[w]["engine_frames"] == 0 for w in ("tracking/csrt", "assisted/csrt"))
    assert {w: first[w]["cost"] for w in first} == {w: second[w]["cost"] for w in second}


def test_a_run_cache_that_is_a_file_is_a_clear_error(tmp_path, capsys) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a folder")
    code = cli.main(["bench", "effort", "--data", str(tmp_path), "--run-cache", str(blocker)])
    assert code == 2
    error = capsys.readouterr().err
    assert str(blocker) in error and "cannot keep engine runs here" in error
    assert blocker.read_text() == "a file, not a folder"  # nothing overwritten


def test_a_run_that_cannot_be_written_is_reported_and_work_goes_on(tmp_path) -> None:
    runner = CachedRunner(
        lambda: LosingEngine(script=follows_six_frames), IndexFrames(COUNT), store=store(tmp_path)
    )
    expected = values(runner.run(START, COUNT))
    runner.store.folder.parent.mkdir(parents=True)
    runner.store.folder.write_text("in the way")  # the store's folder cannot be made
    assert runner.persist() == 0
    assert len(runner.store_errors) == 1 and str(runner.store.folder) in runner.store_errors[0]
    assert values(runner.run(START, COUNT)) == expected  # the runs in memory are intact
