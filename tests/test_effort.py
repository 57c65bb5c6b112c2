"""The annotation-effort simulation on a tiny synthetic case, and ``costcore bench effort``."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from costcore import cli
from costcore.assist.jobs import CachedRunner
from costcore.effort import (
    EffortResult,
    SimulatedAnnotator,
    effort_on_sequence,
    format_effort_table,
    keyframe_spacing,
    simulate,
)
from costcore.formats.sequence import Sequence
from tests.assist_fakes import IndexFrames, ScriptedEngine

COUNT = 40
TRUTH = np.array([[10.0 + 3 * i, 20.0, 10.0, 10.0] for i in range(COUNT)])


def follows_six_frames(index: int, start: int, box):
    """Tracks the true motion for 6 frames from where it started, then loses the target."""
    steps = int(np.clip(index - start, -6, 6))
    return box._replace(x=box.x + 3.0 * steps)


class LosingEngine(ScriptedEngine):
    """``follows_six_frames``, and says so: score 0.9 while it follows, 0.2 after."""

    def step(self, frame):
        result = super().step(frame)
        result.score = 0.9 if abs(self.frame_to_index(frame) - self._start) <= 6 else 0.2
        return result


def runner() -> CachedRunner:
    return CachedRunner(lambda: LosingEngine(script=follows_six_frames), IndexFrames(COUNT))


def test_annotator_judges_and_counts() -> None:
    from costcore.annotation import FrameAnnotation, Provenance, VideoAnnotation
    from costcore.annotator import AssistSession

    absent = np.zeros(COUNT, dtype=bool)
    absent[5] = True
    annotator = SimulatedAnnotator(TRUTH, absent, 0.5)
    good = FrameAnnotation((11, 20, 10, 10), provenance=Provenance.TRACKED)
    far = FrameAnnotation((40, 20, 10, 10), provenance=Provenance.TRACKED)
    assert annotator.acceptable(good, 0) and not annotator.acceptable(far, 0)
    assert not annotator.acceptable(good, 5)
    assert annotator.acceptable(FrameAnnotation(absent=True, provenance=Provenance.TRACKED), 5)
    video = VideoAnnotation("v", COUNT)
    session = AssistSession(video)
    annotator.correct(session, 5)
    annotator.correct(session, 6)
    assert video.frame(5).absent and tuple(video.frame(6).box) == tuple(TRUTH[6])
    assert video.frame(6).provenance is Provenance.KEYFRAME and annotator.draws == 2


def test_workflows_on_a_synthetic_sequence() -> None:
    absent = np.zeros(COUNT, dtype=bool)
    shared = runner()
    results = {
        w: simulate(w, "synthetic", TRUTH, absent, 0.5, shared)
        for w in ("interpolation", "tracking", "assisted")
    }
    assert all(r.complete for r in results.values())
    hold, track, tool = results["interpolation"], results["tracking"], results["assisted"]
    # holding a box moving 3 px/frame fails every 2nd frame; the tracker lasts 7 frames
    assert hold.draws == 20 and hold.verifies == 0 and hold.corrections == 19
    assert track.draws == 5 and track.verifies == 0  # frames 0, 8, 16, 24, 32
    assert track.cost == 4  # frame 1's box is not counted
    assert tool.reviews > 0 and tool.draws <= track.draws
    assert tool.cost == tool.draws - 1 + 0.25 * tool.verifies
    assert tool.per_100 == pytest.approx(100 * tool.cost / COUNT)
    assert shared.frames_tracked > 0


class FalseAlarms(ScriptedEngine):
    """Follows the target exactly but scores every frame low: its flags are false alarms."""

    def step(self, frame):
        result = super().step(frame)
        result.score = 0.05
        return result


def test_the_calibrated_workflow_stops_checking_false_alarms() -> None:
    """The plain review queue checks every low-score frame (all fine: verifications only);
    the calibrated one stops after the first useless check of each kind of flag."""
    from costcore.assist.flags import FlagRules

    truth = np.array([[10.0 + 2 * i, 20.0, 10.0, 10.0] for i in range(COUNT)])
    absent = np.zeros(COUNT, dtype=bool)
    shared = CachedRunner(lambda: FalseAlarms(), IndexFrames(COUNT))
    rules = FlagRules(open_end_frames=0)  # only the scores flag frames
    plain = simulate("assisted", "s", truth, absent, 0.5, shared, flag_rules=rules)
    calibrated = simulate("calibrated", "s", truth, absent, 0.5, shared, flag_rules=rules)
    track = simulate("tracking", "s", truth, absent, 0.5, shared, flag_rules=rules)
    assert track.cost == 0 and plain.corrections == calibrated.corrections == 0
    assert plain.verifies == COUNT - 1  # every tracked frame was proposed and was fine
    assert calibrated.verifies == 1 and calibrated.reviews == 1
    assert calibrated.cost == 0.25 and calibrated.complete


def test_keyframes_every_n_frames_then_segment_fill() -> None:
    """every-N: N-th frames drawn up front; the fill holds where both runs reach, no further."""
    absent = np.zeros(COUNT, dtype=bool)
    shared = runner()
    close = simulate("every-5", "synthetic", TRUTH, absent, 0.5, shared)
    # keyframes 0, 5, ..., 35: every gap is within the engine's 6 good frames of a keyframe
    assert close.draws == 8 and close.verifies == 0 and close.complete
    far = simulate("every-20", "synthetic", TRUTH, absent, 0.5, shared)
    # keyframes 0 and 20: frames 7..13 are beyond both runs' reach -> corrected in playback
    assert far.complete and far.draws > 2
    table = format_effort_table([effort_on_sequence_rows(close, far)])
    assert "every-5" in table and "every-20" in table
    assert "nan" not in table  # no anchor and no assisted run: no ratio is claimed
    assert "| **sum** | 40 | 0.5 | **7** |" in table


def effort_on_sequence_rows(*results: EffortResult):
    from costcore.effort import SequenceEffort

    return SequenceEffort("synthetic", COUNT, 0.5, {r.workflow: r for r in results})


@pytest.mark.parametrize("name", ["every-1", "every-x", "every-", "bogus"])
def test_unknown_workflow_names(name: str) -> None:
    with pytest.raises(ValueError, match="every-N"):
        keyframe_spacing(name)
    assert keyframe_spacing("every-12") == 12 and keyframe_spacing("tracking") is None


def test_sequence_table_sums_over_sequences_and_compares_engines() -> None:
    """Two engines in one table: sums per tau, the better anchor (CSRT restart tracking or
    interpolation), the best other workflow, and assisted vs restart with the same engine."""
    from costcore.effort import summarise

    sequence = Sequence("synthetic", None, "otb", [None] * COUNT, TRUTH, np.zeros(COUNT, bool))
    engines = {
        "csrt": lambda: ScriptedEngine(script=follows_six_frames),
        "good": lambda: ScriptedEngine(),  # never loses a target moving 3 px/frame? it drifts 2
    }
    rows = effort_on_sequence(sequence, IndexFrames(COUNT), engines, taus=(0.5,), max_frames=30)
    rows += effort_on_sequence(sequence, IndexFrames(COUNT), engines, taus=(0.5,), max_frames=20)
    assert [row.frames for row in rows] == [30, 20]
    keys = set(rows[0].results)
    assert keys == {
        "interpolation", "tracking/csrt", "assisted/csrt", "calibrated/csrt",
        "tracking/good", "assisted/good", "calibrated/good",
    }  # fmt: skip
    (summary,) = summarise(rows)
    total = sum(row.results["tracking/csrt"].cost for row in rows)
    assert summary.totals["tracking/csrt"] == total
    cheaper = min(("interpolation", "tracking/csrt"), key=lambda k: summary.totals[k])
    assert summary.anchor == cheaper
    others = {
        k: v for k, v in summary.totals.items() if k not in ("interpolation", "tracking/csrt")
    }
    assert summary.best == min(others, key=others.get)
    assert summary.best_ratio == pytest.approx(others[summary.best] / summary.totals[cheaper])
    expected = summary.totals["assisted/good"] / summary.totals["tracking/good"]
    assert summary.assisted_ratio("good") == pytest.approx(expected)
    calibrated = summary.totals["calibrated/good"] / summary.totals["tracking/good"]
    assert summary.assisted_ratio("good", "calibrated") == pytest.approx(calibrated)
    for key in ("assisted/csrt", "calibrated/good"):
        engine = key.partition("/")[2]
        worse = [
            row.sequence
            for row in rows
            if row.results[key].cost > row.results[f"tracking/{engine}"].cost
        ]
        assert summary.worse[key] == tuple(worse)
    table = format_effort_table(rows)
    assert "| synthetic | 30 | 0.5 |" in table and "| **sum** | 50 | 0.5 |" in table
    assert f"better anchor {summary.anchor} = " in table
    assert "assisted/good = " in table and " x tracking/good" in table


def square_sequence(folder, *, width: int, first_x: int, step: int) -> None:
    """A 16-frame OTB folder: a white square with a red centre moving right ``step`` px a
    frame."""
    (folder / "img").mkdir(parents=True)
    lines = []
    for i in range(16):
        image = np.zeros((60, width, 3), dtype=np.uint8)
        x, y = first_x + step * i, 20
        image[y : y + 14, x : x + 14] = (255, 255, 255)
        image[y + 4 : y + 10, x + 4 : x + 10] = (0, 0, 255)
        cv2.imwrite(str(folder / "img" / f"{i + 1:04d}.jpg"), image)
        lines.append(f"{x},{y},14,14")
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")


def test_bench_effort_command(tmp_path, monkeypatch, capsys) -> None:
    """The CLI on a tiny OTB sequence with the real CSRT engine."""
    square_sequence(tmp_path / "data" / "square", width=80, first_x=10, step=2)
    out = tmp_path / "effort.json"
    code = cli.main(
        ["bench", "effort", "--data", str(tmp_path / "data"), "--taus", "0.5", "--json", str(out)]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "| square | 16 | 0.5 |" in text
    assert '"assisted/csrt"' in out.read_text()
    assert (
        cli.main(["bench", "effort", "--data", str(tmp_path / "data"), "--sequences", "nope"]) == 2
    )
    data = ["bench", "effort", "--data", str(tmp_path / "data"), "--taus", "0.5"]
    assert cli.main([*data, "--workflows", "tracking,every-0"]) == 2
    assert "every-0" in capsys.readouterr().err
    assert cli.main([*data, "--workflows", " , "]) == 2
    assert "at least one workflow" in capsys.readouterr().err
    for taus in ("x", "0.5,", "1.5", "0"):
        assert cli.main([*data[:-2], "--taus", taus]) == 2
        assert "--taus" in capsys.readouterr().err
    assert cli.main([*data, "--workflows", "tracking,every-4"]) == 0
    assert "every-4" in capsys.readouterr().out
    # two labels for one engine, one of them with weights of its own (csrt ignores weights)
    (tmp_path / "w.bin").write_bytes(b"x")
    spec = ["--engines", "csrt,again=csrt", "--weights", f"again={tmp_path / 'w.bin'}"]
    assert cli.main([*data, "--workflows", "tracking", *spec]) == 0
    text = capsys.readouterr().out
    assert "tracking/csrt" in text and "tracking/again" in text
    for bad in ("csrt,csrt", "a/b=csrt", "nosuchengine", " , "):
        assert cli.main([*data, "--engines", bad]) == 2
        assert "engine" in capsys.readouterr().err


def test_a_reversed_sequence_pairs_each_frame_with_its_box() -> None:
    from costcore.effort.reversal import ReversedFrames, ReversedSequence

    frames = IndexFrames(COUNT)
    sequence = Sequence("walk", None, "otb", [None] * COUNT, TRUTH, np.zeros(COUNT, bool))
    sequence.absent[3] = True
    backwards = ReversedSequence.of(sequence)
    view = ReversedFrames(frames)
    assert backwards.name == "walk-reversed" and backwards.frame_count == COUNT
    assert view.frame_count == COUNT
    for i in (0, 7, COUNT - 1):
        assert np.array_equal(view.frame(i), frames.frame(COUNT - 1 - i))
        assert tuple(backwards.boxes[i]) == tuple(TRUTH[COUNT - 1 - i])
    assert backwards.absent[COUNT - 4] and backwards.absent.sum() == 1
    with pytest.raises(IndexError):
        view.frame(COUNT)


def test_bench_effort_reversed_runs_every_sequence_backwards_too(tmp_path, capsys) -> None:
    """A white square crossing the frame; played backwards CSRT follows it just as well, which
    it could not if the frames were not reversed with the boxes."""
    square_sequence(tmp_path / "data" / "square", width=100, first_x=8, step=4)
    out = tmp_path / "effort.json"
    data = ["bench", "effort", "--data", str(tmp_path / "data"), "--taus", "0.5"]
    cache = ["--run-cache", str(tmp_path / "runs")]
    args = [*data, "--workflows", "interpolation,tracking", "--reversed", *cache]
    assert cli.main([*args, "--json", str(out)]) == 0
    rows = {(r["sequence"]): r["workflows"] for r in json.loads(out.read_text())}
    assert set(rows) == {"square", "square-reversed"}
    for name in rows:
        assert rows[name]["tracking/csrt"]["cost"] == 0
        assert rows[name]["interpolation"]["cost"] > 0  # the held box falls behind the square
    # the reversed runs are cached apart from the forward ones
    assert len(list((tmp_path / "runs").iterdir())) == 2
    assert "| square-reversed | 16 | 0.5 |" in capsys.readouterr().out


def test_the_run_cache_key_follows_the_weights_content_not_the_file(tmp_path) -> None:
    import os

    from costcore.cli.bench import _engine_key

    first, copy, other = tmp_path / "a.pth", tmp_path / "b.pth", tmp_path / "c.pth"
    first.write_bytes(b"weights one")
    copy.write_bytes(b"weights one")
    other.write_bytes(b"weights two")
    os.utime(copy, ns=(1, 1))  # another date, another path: the same runs
    assert _engine_key("nanotrack", str(first)) == _engine_key("nanotrack", str(copy))
    assert _engine_key("nanotrack", str(first)) != _engine_key("nanotrack", str(other))
    assert _engine_key("nanotrack", str(first)) != _engine_key("hybrid", str(first))
    assert _engine_key("csrt", None) == "csrt"
