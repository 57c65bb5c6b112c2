"""Score-map storage, diagnostics persistence, timeline series and engine evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.annotation import FrameAnnotation, Provenance, VideoAnnotation
from costcore.assist.engine_evaluation import evaluate_run
from costcore.assist.jobs import EngineRunner
from costcore.assist.scoremaps import ScoreMapStore, quantise
from costcore.assist.series import timeline_series
from costcore.assist.state import AssistState
from costcore.assist.updates import FrameUpdate
from costcore.boxes import Box
from costcore.errors import FormatError
from costcore.evaluation import GroundTruth, compute_curves
from costcore.evaluation.result_files import Prediction
from tests.assist_fakes import IndexFrames, ScriptedEngine


def test_quantised_maps_round_trip_through_the_file(tmp_path) -> None:
    store = ScoreMapStore()
    hot = np.zeros((4, 5), dtype=np.float32)
    hot[1, 3] = 1.0
    hot[2, 2] = 0.5
    store.put(7, hot, (10.0, 20.0, 50.0, 40.0))
    store.put(9, np.full((2, 2), np.nan), (0, 0, 1, 1))
    state = AssistState(12)
    state.score_maps = store
    state.record(FrameUpdate(3, Box(1, 2, 3, 4), "x", agreement=0.25, resolved=True, lost=True))
    path = tmp_path / "assist.npz"
    state.save(path)
    loaded = AssistState.load(path, 12)
    stored = loaded.score_maps.get(7)
    assert stored.data.dtype == np.uint8 and stored.data[1, 3] == 255 and stored.data[2, 2] == 128
    assert stored.region == Box(10, 20, 50, 40)
    assert stored.cell_rect(1, 3) == Box(40, 30, 10, 10)
    assert loaded.score_maps.get(9).data.tolist() == [[0, 0], [0, 0]]
    assert list(loaded.score_maps) == [7, 9] and 8 not in loaded.score_maps
    frames = [FrameAnnotation()] * 12
    frames[3] = FrameAnnotation((1, 2, 3, 4), provenance=Provenance.TRACKED)
    diagnostics = loaded.diagnostics(VideoAnnotation("v", 12, frames=frames))
    assert diagnostics.agreement[3] == 0.25 and diagnostics.resolved[3] and diagnostics.lost[3]
    assert np.isnan(diagnostics.agreement[4])
    with pytest.raises(FormatError):
        AssistState.load(path, 13)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(FormatError):
        AssistState.load(tmp_path / "bad.npz", 12)


def test_quantise_and_store_limits() -> None:
    assert quantise(np.array([[-1.0, 0.0, 0.25, 2.0]])).tolist() == [[0, 0, 64, 255]]
    store = ScoreMapStore()
    with pytest.raises(ValueError):
        store.put(0, np.zeros(3), (0, 0, 1, 1))
    store.put(0, np.zeros((20, 20)), (0, 0, 1, 1))
    assert store.nbytes < 500  # 400 bytes a frame for a COST map
    store.discard([0])
    assert len(store) == 0


def test_timeline_series() -> None:
    frames = [
        FrameAnnotation((0, 0, 4, 4), provenance=Provenance.KEYFRAME),
        FrameAnnotation((4, 0, 4, 4), provenance=Provenance.TRACKED, score=0.5),
        FrameAnnotation(absent=True, provenance=Provenance.KEYFRAME),
        FrameAnnotation(),
    ]
    annotation = VideoAnnotation("v", 4, frames=frames)
    series = timeline_series(annotation, AssistState(4).diagnostics(annotation))
    assert series.size[:2].tolist() == [4.0, 4.0] and np.isnan(series.size[2:]).all()
    assert series.speed[1] == pytest.approx(1.0) and np.isnan(series.speed[[0, 2, 3]]).all()
    assert np.isnan(series.score[0]) and series.score[1] == 0.5


def test_evaluation_scores_an_engine_with_costcore_evaluation() -> None:
    count = 15
    truth = np.array([[2.0 * i, 0.0, 10.0, 10.0] for i in range(count)])
    boxes = truth.copy()
    boxes[[5, 6]] = np.nan  # not annotated: not scored
    absent = np.zeros(count, dtype=bool)
    absent[9] = True
    boxes[9] = np.nan
    engine = ScriptedEngine(script=lambda i, s, b: b._replace(x=b.x + 2.0 * (i - s) + 1.0))
    runner = EngineRunner(lambda: engine, IndexFrames(count))
    run = evaluate_run(runner, boxes, absent)
    assert run.start == 0 and run.scored_frames == count - 2 and run.engine == "scripted"
    assert np.isnan(run.iou[5]) and run.iou[9] == 0.0
    assert run.iou[3] == pytest.approx(90 / 110)
    mask = np.ones(count, dtype=bool)
    mask[[5, 6]] = False
    truth[9] = 0.0
    gt = GroundTruth("s", truth[mask], absent[mask])
    expected = compute_curves([gt], {"s": Prediction.from_boxes(run.boxes[mask])})
    assert run.metrics == expected.sequence("s").scores()
    assert set(run.metrics) == {"AUC", "P", "P_norm", "cAUC", "mACC"}


def test_an_interrupted_run_leaves_its_unreached_frames_stale_until_they_change(tmp_path) -> None:
    """The run record in the session names what the run planned and finished; the automatic
    frames it did not finish are stale (flagged) until a run reaches them or their box
    changes, and the marks survive a save and a load of the state."""
    from costcore.annotation import SetFrames, UndoStack
    from costcore.assist.flags import FlagReason, flag_frames
    from costcore.assist.interrupted import RunRecord, stale_frames

    annotation = VideoAnnotation("v", 30)
    stack = UndoStack(annotation)
    old = [(i, FrameAnnotation((float(i), 5.0, 10.0, 10.0), provenance=Provenance.TRACKED,
                               score=0.9, engine="x")) for i in range(1, 30)]  # fmt: skip
    stack.push(SetFrames(old))
    stack.push(SetFrames([(10, FrameAnnotation((40.0, 5.0, 10.0, 10.0),
                                               provenance=Provenance.KEYFRAME))]))  # fmt: skip
    record = RunRecord("Re-propagate after frame 11", frozenset(range(11, 30)))
    record = record.finish(range(11, 17))  # killed after frame 17
    again = RunRecord.from_json(record.to_json(), 30)
    assert again == record and record.to_json()["planned"] == [[11, 29]]
    assert RunRecord.from_json({"text": "x", "planned": [[5, 40]], "finished": []}, 30) is None
    assert RunRecord.from_json("junk", 30) is None
    stale = stale_frames(annotation, record)
    assert stale == list(range(17, 30))

    state = AssistState(30)
    state.mark_stale(stale, annotation)
    state.save(tmp_path / "assist.npz")
    state = AssistState.load(tmp_path / "assist.npz", 30)
    flags = {f.index: f for f in flag_frames(annotation, state.diagnostics(annotation))}
    assert sorted(i for i, f in flags.items() if FlagReason.STALE in f.reasons) == stale
    # a run reaches 17, a person moves 18: neither is stale any more
    state.record(FrameUpdate(17, Box(50.0, 5.0, 10.0, 10.0), "x"))
    stack.push(SetFrames([(17, FrameAnnotation((50.0, 5.0, 10.0, 10.0),
                                               provenance=Provenance.TRACKED))]))  # fmt: skip
    stack.push(SetFrames([(18, FrameAnnotation((60.0, 5.0, 10.0, 10.0),
                                               provenance=Provenance.KEYFRAME))]))  # fmt: skip
    flags = flag_frames(annotation, state.diagnostics(annotation))
    assert sorted(f.index for f in flags if FlagReason.STALE in f.reasons) == list(range(19, 30))
