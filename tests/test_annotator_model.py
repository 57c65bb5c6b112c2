"""The annotator's whole workflow without Qt: open -> draw -> track -> correct -> absent ->
review -> export, through :class:`AnnotatorModel` as the app drives it (the app only runs the
same calls on threads). The jobs run synchronously here, through the model's ``run_job`` port.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from costcore.annotation import Provenance, load_session, save_session
from costcore.annotator import AnnotatorModel, EngineSettings, prepare_open
from costcore.annotator.export import ExportOptions, export_annotation
from costcore.assist.flags import FlagReason
from costcore.assist.jobs import EngineRunner
from costcore.assist.plan import Extent
from costcore.boxes import Box
from costcore.engines import registry
from costcore.engines.registry import EngineInfo
from costcore.formats import read_sequence
from tests.assist_fakes import ScriptedEngine
from tests.gui_helpers import make_image_folder

COUNT = 30
BOX = (10.0, 10.0, 12.0, 8.0)


def folder_index(frame: np.ndarray) -> int:
    """The frame number ``make_image_folder`` encodes in the width of a white band."""
    return int(np.count_nonzero(frame[0, :, 0] == 255)) - 1


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> list[ScriptedEngine]:
    made: list[ScriptedEngine] = []

    def make(device: str = "auto") -> ScriptedEngine:
        made.append(ScriptedEngine(frame_to_index=folder_index))
        return made[-1]

    monkeypatch.setitem(registry._ENGINES, "scripted", EngineInfo("scripted", "test", make))
    return made


def open_model(tmp_path: Path, frames: Path, resume: bool = True) -> AnnotatorModel:
    model = AnnotatorModel(tmp_path / "workspace", EngineSettings("scripted"))
    result = prepare_open(frames, model.workspace, cache_bytes=1 << 24, prefetch=0)
    model.install(result, resume)
    return model


def synchronous_runner(model: AnnotatorModel) -> list[str]:
    """Run the model's jobs here and now; the job texts, in order."""
    ran: list[str] = []

    def run(job) -> bool:
        assert model.video is not None and model.assist is not None
        runner = EngineRunner(
            lambda: registry.create_engine(model.engine.name),
            _Frames(model.video.source),
            model.engine_language() or "",
        )
        model.assist.run(job, runner)
        ran.append(job.text)
        model.update_flags()
        return True

    model.run_job = run
    return ran


class _Frames:
    def __init__(self, source) -> None:
        self.source, self.frame_count = source, source.frame_count

    def frame(self, index: int) -> np.ndarray:
        return self.source.frame(index)


def x_of(model: AnnotatorModel, index: int) -> float:
    box = model.annotation.frame(index).box
    assert box is not None
    return box.x


def test_annotate_track_correct_absent_review_and_export(tmp_path, scripted) -> None:
    frames = make_image_folder(tmp_path / "clip", COUNT, (160, 48))
    model = open_model(tmp_path, frames)
    ran = synchronous_runner(model)
    events: dict[str, list] = {"changed": [], "corrected": [], "index": []}
    model.events.changed.connect(events["changed"].append)
    model.events.corrected.connect(events["corrected"].append)
    model.events.index_changed.connect(events["index"].append)
    assert model.frame_count == COUNT and model.session_path.name == "session.json"

    # draw the first box, describe the target, track to the end (T)
    model.set_box(0, BOX)
    model.set_language("a grey square moving right")
    assert model.track(extent=Extent.END)
    assert ran == ["Track forward from frame 1 (scripted)"]
    assert [x_of(model, i) for i in (1, 29)] == [12.0, 68.0]  # the scripted engine's drift
    assert scripted[-1].inits[0][2] == "a grey square moving right"  # it got the sentence

    # a correction at frame 15 is a keyframe, and the refill after it redoes 16..29 from it
    model.set_index(15)
    model.set_box(15, (50.0, 10.0, 12.0, 8.0))
    # every box a person sets is announced; only where automatic work follows is there a job
    assert events["corrected"] == [0, 15] and events["index"] == [15]
    job = model.refill_job(15)
    assert job is not None and (job.first, job.last) == (16, 29)
    assert model.run_job(job)
    assert x_of(model, 16) == 52.0 and model.annotation.frame(15).provenance is Provenance.KEYFRAME
    assert x_of(model, 14) == 38.0  # before the correction: untouched

    # the target leaves at frame 25: absent, which is a correction of what followed too
    model.set_absent_range(25, 27, True)
    assert all(model.annotation.frame(i).absent for i in (25, 26, 27))

    # reviewing a flagged frame: a correction there refills both neighbouring segments
    model.update_flags()
    flagged = model.flagged_near(True)
    assert flagged is not None and not model.reviewing  # not there yet
    model.set_index(flagged)
    assert model.reviewing
    model.set_box(flagged, model.annotation.frame(flagged).box)
    around = model.refill_job(flagged)
    assert around is not None and around.first < flagged  # the frames before it too
    model.set_index(flagged - 1)
    model.set_index(flagged)  # stepped there, not reviewing: only what follows is redone
    assert not model.reviewing
    after = model.refill_job(flagged)
    assert after is None or after.first > flagged

    # verify, undo/redo, then every frame is annotated: export and validate
    model.verify([3])  # between two keyframes: the segment is recombined with it
    assert model.annotation.frame(3).provenance is Provenance.VERIFIED
    assert ran[-1].startswith("Recombine frames 2–")
    model.undo()  # the recombination
    assert model.annotation.frame(3).provenance is Provenance.VERIFIED
    model.undo()  # the verification
    assert model.annotation.frame(3).provenance is Provenance.TRACKED
    model.redo()
    model.redo()
    assert not model.annotation.unannotated()
    outcome = export_annotation(
        model.annotation, model.video.frames, ExportOptions(tmp_path / "exports" / "clip")
    )
    assert [issue for issue in outcome.issues if issue.severity == "error"] == []
    assert outcome.issues == []  # not even a warning: every box lies in the image
    exported = read_sequence(outcome.destination)
    assert exported.frame_count == COUNT and exported.absent[25] and not exported.absent[24]
    assert tuple(exported.boxes[15]) == (50.0, 10.0, 12.0, 8.0)
    assert exported.language == "a grey square moving right"


def test_the_session_snapshot_reopens_where_the_annotator_was(tmp_path, scripted) -> None:
    frames = make_image_folder(tmp_path / "clip", 12)
    model = open_model(tmp_path, frames)
    synchronous_runner(model)
    model.set_box(0, BOX)
    model.set_index(7)
    path, annotation, ui = model.session_snapshot()
    assert ui["frame"] == 7 and "running_job" not in ui
    save_session(path, annotation, ui)
    model.close()
    assert not model.is_open
    again = open_model(tmp_path, frames, resume=True)
    assert again.index == 7 and again.annotation.frame(0).provenance is Provenance.KEYFRAME
    assert load_session(path).annotation == again.annotation


def test_a_run_in_progress_is_in_the_snapshot_and_marked_stale_on_reopening(
    tmp_path, scripted
) -> None:
    """The app died during a run: the frames it planned but did not finish are flagged."""
    frames = make_image_folder(tmp_path / "clip", 20)
    model = open_model(tmp_path, frames)
    synchronous_runner(model)
    model.set_box(0, BOX)
    model.track(extent=Extent.END)
    model.set_box(5, (30.0, 10.0, 12.0, 8.0))
    job = model.refill_job(5)
    assert job is not None
    model.assist.begin_run(job)  # a run starts, writes frames 6..9, and the app dies
    runner = EngineRunner(
        lambda: registry.create_engine("scripted"), _Frames(model.video.source), ""
    )
    updates = [u for u, _ in zip(job.updates(runner), range(4), strict=False)]
    model.assist.apply(updates)
    save_session(*model.session_snapshot())
    messages: list[str] = []
    again = AnnotatorModel(tmp_path / "workspace", EngineSettings("scripted"))
    again.events.warning.connect(messages.append)
    again.install(prepare_open(frames, again.workspace, cache_bytes=0, prefetch=0), True)
    stale = [f.index for f in again.assist.flags if FlagReason.STALE in f.reasons]
    assert stale and min(stale) == 10 and 6 not in stale
    assert len(messages) == 1 and "frames 11–" in messages[0]


def test_refusals_are_messages_not_errors(tmp_path, scripted) -> None:
    model = open_model(tmp_path, make_image_folder(tmp_path / "clip", 8))
    messages: list[str] = []
    model.events.message.connect(messages.append)
    assert not model.track()  # no box on frame 1
    assert "no box to track from" in messages[-1]
    model.set_engine("cost")  # needs weights nobody chose
    model.set_box(0, BOX)
    assert not model.track()
    assert "needs weights" in messages[-1]
    assert not model.fill_segment()
    model.set_engine("scripted")
    assert not model.track()  # no runner installed: said, not raised
    assert "nothing can run" in messages[-1]


def test_costcore_annotator_imports_no_qt() -> None:
    code = (
        "import sys, costcore.annotator, costcore.annotator.annotator_model, "
        "costcore.annotator.export; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class Finder(ScriptedEngine):
    """Finds "the target" where the test says; can_ground like UVLTrack."""

    can_ground = True
    found = Box(30.0, 12.0, 9.0, 7.0)

    def ground(self, frame, text):
        from costcore.engines.base import GroundingResult

        return GroundingResult(self.found, 0.8)


def test_finding_the_target_is_a_proposal_the_annotator_accepts_or_redraws(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(
        registry._ENGINES, "finder", EngineInfo("finder", "test", Finder, can_ground=True)
    )
    model = open_model(tmp_path, make_image_folder(tmp_path / "clip", 6))
    messages: list[str] = []
    model.events.message.connect(messages.append)
    asked: list[tuple[int, str]] = []

    def finder(index: int, text: str) -> bool:
        asked.append((index, text))
        found = Finder().ground(model.video.source.frame(index), text)
        model.propose_target(index, found.box, found.score)
        return True

    model.find_target_job = finder
    assert not model.find_target()  # scripted cannot ground: said, nothing asked
    assert "cannot find a target from a sentence" in messages[-1] and asked == []
    model.set_engine("finder")
    assert not model.find_target()  # no description yet
    assert "Write the description first" in messages[-1]
    model.set_language("the small grey square")
    model.set_index(2)
    assert model.find_target()
    assert asked == [(2, "the small grey square")]
    assert model.proposal is not None and model.proposal.index == 2
    assert model.overlay(2).proposal == tuple(Finder.found)
    assert model.overlay(3).proposal is None
    assert model.annotation.frame(2).box is None  # a proposal, not an edit
    assert "Ctrl+Enter accepts" in messages[-1]
    model.accept_proposal()
    assert tuple(model.annotation.frame(2).box) == tuple(Finder.found)
    assert model.annotation.frame(2).provenance is Provenance.KEYFRAME
    assert model.proposal is None and model.overlay(2).proposal is None
    # a box drawn on the proposal's frame replaces the proposal
    model.find_target(4)
    model.set_box(4, (1.0, 1.0, 5.0, 5.0))
    assert model.proposal is None and tuple(model.annotation.frame(4).box) == (1, 1, 5, 5)


def test_the_review_calibration_is_kept_with_the_session(tmp_path, scripted) -> None:
    """The answers to review proposals are counted in the session file: reopening the video
    goes on from them instead of proposing what the annotator already found to be fine."""
    frames = make_image_folder(tmp_path / "clip", 12)
    model = open_model(tmp_path, frames)
    synchronous_runner(model)
    model.set_box(0, BOX)
    model.assist.calibration.counts[("scripted", FlagReason.LOW_SCORE)] = [0, 3]
    model.assist.calibration.pending = (5, "scripted", FlagReason.JUMP)
    path, annotation, ui = model.session_snapshot()
    save_session(path, annotation, ui)
    model.close()
    again = open_model(tmp_path, frames, resume=True)
    calibration = again.assist.calibration
    assert calibration.counts == {("scripted", FlagReason.LOW_SCORE): [0, 3]}
    assert calibration.pending == (5, "scripted", FlagReason.JUMP)
    fresh = open_model(tmp_path / "other", frames, resume=False)
    assert (
        fresh.assist.calibration.is_empty
        and "review_calibration" not in (fresh.session_snapshot()[2])
    )
