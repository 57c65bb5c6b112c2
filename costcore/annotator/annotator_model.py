"""The annotator's model: everything the app shows and every action a person takes, Qt-free.

napari's ``ViewerModel`` idea: the app's windows and panels are views over this object. It
holds the open video and its :class:`~costcore.annotator.AssistSession` (annotation, undo
stack, diagnostics, flags), the current frame, the engine settings, and the rules that turn a
person's actions into edits and automatic work. Views connect to :attr:`AnnotatorModel.events`
and call its methods; the Qt layer only runs the slow parts on threads (opening, tracking
jobs, saving) and hands the results back here.

Automatic work is *requested*, not run: :meth:`AnnotatorModel.track` and friends decide the
job and pass it to :attr:`AnnotatorModel.run_job`, which the app sets to its threaded runner
(tests and scripts set a synchronous one). A run is one undo step; a person's edit stops it
first (:attr:`ModelEvents.edit_starting`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from costcore.annotation import (
    Change,
    ClearFrames,
    Command,
    MarkVerified,
    Provenance,
    SetAbsent,
    SetAttribute,
    SetAttributes,
    SetBox,
    SetLanguage,
    SetLanguageAttribute,
    VideoAnnotation,
)
from costcore.annotator.assist_session import AssistJob, AssistRefused, AssistSession
from costcore.annotator.engine_settings import EngineSettings, engine_choices
from costcore.annotator.events import Event
from costcore.annotator.overlay import FrameOverlay, frame_overlay
from costcore.annotator.session_opening import OpenedVideo, OpenResult, settle
from costcore.annotator.target_proposal import TargetProposal
from costcore.assist.calibration import CALIBRATION_KEY, ReviewCalibration
from costcore.assist.flags import FlagRules
from costcore.assist.interrupted import RUN_KEY, RunRecord
from costcore.assist.plan import Extent
from costcore.assist.scoremaps import StoredMap
from costcore.assist.state import STATE_FILE, AssistState
from costcore.boxes import Box
from costcore.engines.registry import engine_info, grounding_engines
from costcore.errors import CostcoreError
from costcore.language import LanguageError

#: box-edit kinds from a view -> undo text; key edits merge into one step per frame
EDIT_TEXT = {
    "draw": "Draw box",
    "move": "Move box",
    "resize": "Resize box",
    "nudge": "Nudge box",
    "size": "Resize box (keys)",
}


class ModelEvents:
    """What the model tells its views; each is an :class:`Event` (connect a callback)."""

    def __init__(self) -> None:
        #: a video was opened (the model holds it now)
        self.opened = Event("opened")
        #: the open video is about to close (its annotation is still there)
        self.closing = Event("closing")
        #: the annotation changed: ``(Change)``
        self.changed = Event("changed")
        #: the current frame changed: ``(index)``
        self.index_changed = Event("index_changed")
        #: flags, the review queue and the plots' series were recomputed
        self.flags_changed = Event("flags_changed")
        #: the engine settings (or the flag/assist options) changed
        self.engine_changed = Event("engine_changed")
        #: a note for the status bar: ``(text)``
        self.message = Event("message")
        #: something a person must read (a session set aside, an interrupted run): ``(text)``
        self.warning = Event("warning")
        #: a person corrected frame ``(index)``: the refill after it is wanted (the app waits
        #: for a burst of nudges to end, then asks :meth:`AnnotatorModel.refill_job`)
        self.corrected = Event("corrected")
        #: a person is about to edit: ``(kind)`` (a running job stops first)
        self.edit_starting = Event("edit_starting")
        #: the app's state worth saving changed without an edit (e.g. a run's record)
        self.state_changed = Event("state_changed")
        #: a box found from the description was proposed, accepted or dismissed
        self.proposal_changed = Event("proposal_changed")


class AnnotatorModel:
    """The open video, its assisted annotation, the current frame and the engine settings."""

    def __init__(
        self,
        workspace: str | Path,
        engine: EngineSettings | None = None,
        *,
        score_threshold: float = 0.35,
        repropagate: bool = True,
        stop_at_flag: bool = False,
        calibrated_review: bool = True,
    ) -> None:
        self.workspace = Path(workspace)
        self.engine = engine or EngineSettings()
        self.flag_rules = FlagRules(score_threshold=float(score_threshold))
        #: re-run the automatic work around a correction (and after a verification)
        self.repropagate = bool(repropagate)
        #: a propagation stops at the first frame a flag rule fires on
        self.stop_at_flag = bool(stop_at_flag)
        #: the tool proposes a frame to check only while such checks keep finding wrong
        #: boxes (:mod:`costcore.assist.calibration`)
        self.calibrated_review = bool(calibrated_review)
        self.events = ModelEvents()
        self.video: OpenedVideo | None = None
        self.assist: AssistSession | None = None
        self.index = 0
        #: runs an automatic job; False when it could not start. The app installs its threaded
        #: runner; the default refuses (nothing can run without one).
        self.run_job: Callable[[AssistJob], bool] = self._no_runner
        #: asks the engine where the description puts the target in frame ``index``; the
        #: answer comes back through :meth:`propose_target`. The app installs its worker.
        self.find_target_job: Callable[[int, str], bool] = self._no_finder
        #: a box found from the description, waiting for the annotator (accept or redraw)
        self.proposal: TargetProposal | None = None
        self._review_target: int | None = None

    # ============================================================ the open video
    @property
    def is_open(self) -> bool:
        return self.video is not None and self.assist is not None

    @property
    def annotation(self) -> VideoAnnotation | None:
        return None if self.assist is None else self.assist.annotation

    @property
    def frame_count(self) -> int:
        return 0 if self.assist is None else self.assist.annotation.frame_count

    @property
    def session_path(self) -> Path | None:
        return None if self.video is None else self.video.session_path

    @property
    def ui_state(self) -> dict[str, Any]:
        """The app's remembered state, saved inside the session file (current frame, the
        record of a run in progress)."""
        return {} if self.video is None else self.video.ui

    def state_path(self) -> Path | None:
        """Where the assist state (diagnostics, score maps) lives: beside ``session.json``."""
        path = self.session_path
        return None if path is None else path.with_name(STATE_FILE)

    def install(self, result: OpenResult, resume: bool) -> OpenedVideo:
        """Take over what opening found (the annotator's answer to "resume?" is ``resume``)."""
        self.close()
        opened, notes = settle(result, resume)
        annotation = opened.annotation
        state = AssistState(annotation.frame_count)
        state_path = opened.session_path.with_name(STATE_FILE)
        if state_path.exists():
            try:
                state = AssistState.load(state_path, annotation.frame_count)
            except CostcoreError as error:
                notes.append(f"Tracking diagnostics not restored: {error}")
        self.video = opened
        self.assist = AssistSession(
            annotation,
            method=self.engine.name,
            state=state,
            flag_rules=self.flag_rules,
            calibrated_review=self.calibrated_review,
        )
        self.assist.calibration = ReviewCalibration.from_json(opened.ui.get(CALIBRATION_KEY))
        self.assist.stack.add_listener(self.events.changed.emit)
        start = opened.ui.get("frame", 0)
        self.index = start if isinstance(start, int) and 0 <= start < annotation.frame_count else 0
        self._review_target = None
        interrupted = self._mark_interrupted_run()
        self.assist.update_flags()
        self.events.opened.emit()
        for note in notes:
            self.events.message.emit(note)
        for problem in (result.existing_problem, interrupted):
            if problem:
                self.events.warning.emit(problem)
        return opened

    def _mark_interrupted_run(self) -> str:
        """A run record in the opened session means the app died during that run: its
        unfinished frames are marked stale. The warning to show ("" when there was none)."""
        assert self.video is not None and self.assist is not None
        value = self.video.ui.pop(RUN_KEY, None)
        if value is None:
            return ""
        self.events.state_changed.emit()  # the record leaves the session file
        record = RunRecord.from_json(value, self.frame_count)
        stale = [] if record is None else self.assist.mark_interrupted(record)
        if record is None or not stale:
            return ""
        self.save_state()  # the marks are on disk before the record leaves the session
        return (
            f"The app closed during “{record.text}”: {len(stale)} frame(s) it had not "
            f"re-tracked (frames {stale[0] + 1}–{stale[-1] + 1}) still hold older boxes; "
            "they are flagged as stale in the review queue."
        )

    def close(self) -> None:
        """Let the views save and let go of the open video, and release its frames."""
        if self.video is None:
            return
        self.events.closing.emit()
        self.save_state()
        self.video.source.close()
        self.video, self.assist, self.proposal = None, None, None

    def save_state(self) -> None:
        """Write the assist state (diagnostics, score maps) beside the session."""
        path = self.state_path()
        if self.assist is None or path is None:
            return
        try:
            self.assist.state.save(path)
        except (OSError, CostcoreError) as error:
            self.events.message.emit(f"Tracking diagnostics not saved: {error}")

    def session_snapshot(self) -> tuple[Path, VideoAnnotation, dict[str, Any]] | None:
        """What the autosave writes: the session path, a copy of the annotation and the app
        state (with the record of a run in progress, so a crash leaves a trace)."""
        if self.video is None or self.assist is None:
            return None
        ui = dict(self.video.ui)
        ui["frame"] = self.index
        if self.assist.running is not None:
            ui[RUN_KEY] = self.assist.running.to_json()
        if not self.assist.calibration.is_empty:
            ui[CALIBRATION_KEY] = self.assist.calibration.to_json()
        return self.video.session_path, self.assist.annotation.copy(), ui

    # ============================================================ the current frame
    def set_index(self, index: int) -> None:
        """The frame on screen (the navigator moved); leaving a reviewed frame ends its
        review."""
        if index != self._review_target:
            self._review_target = None
        if index != self.index:
            self.index = index
            self.events.index_changed.emit(index)

    def overlay(self, index: int) -> FrameOverlay:
        """What a view draws over frame ``index``: box, ghosts, trail and its flag."""
        overlay = frame_overlay(self.annotation, index)
        flag = None if self.assist is None else self.assist.queue.get(index)
        if flag is not None:
            overlay.flag = flag.describe()
        if self.proposal is not None and self.proposal.index == index:
            overlay.proposal = tuple(self.proposal.box)
        return overlay

    def score_map(self, index: int) -> StoredMap | None:
        return None if self.assist is None else self.assist.state.score_maps.get(index)

    def keyframe_near(self, forward: bool) -> int | None:
        """The next (or previous) keyframe from the current frame."""
        annotation = self.annotation
        if annotation is None:
            return None
        find = annotation.next_keyframe if forward else annotation.previous_keyframe
        return find(self.index)

    def flagged_near(self, forward: bool) -> int | None:
        """The next (or previous) flagged frame; going there starts reviewing it (a correction
        made there refills both neighbouring segments)."""
        if self.assist is None:
            return None
        queue = self.assist.queue
        flag = queue.next_after(self.index) if forward else queue.previous_before(self.index)
        return None if flag is None else self.review(flag.index)

    def review(self, index: int) -> int:
        """Frame ``index`` is looked at from the review queue (see :meth:`flagged_near`)."""
        self._review_target = index
        return index

    def proposed_check(self) -> int | None:
        """The frame the tool asks the annotator to check next (the review workflow's
        proposal; None: nothing worth a check). Going there starts reviewing it, and the
        answer (a correction or a verification there) is counted by the calibrated queue."""
        if self.assist is None:
            return None
        self.assist.method = self.engine.name
        flag = self.assist.review_proposal(exclude=[self.index] if self.reviewing else ())
        self.events.flags_changed.emit()
        return None if flag is None else self.review(flag.index)

    @property
    def reviewing(self) -> bool:
        """The current frame was reached through the review queue."""
        return self._review_target is not None and self._review_target == self.index

    # ============================================================ a person's edits
    def push(self, command: Command, kind: str = "edit") -> Change | None:
        """Apply an edit (a running job stops first); a refused edit becomes a message."""
        if self.assist is None:
            return None
        self.events.edit_starting.emit(kind)
        try:
            return self.assist.push(command)
        except (ValueError, IndexError, CostcoreError) as error:
            self.events.message.emit(f"Edit refused: {error}")
            return None

    def set_box(self, index: int, box: Iterable[float], kind: str = "draw") -> Change | None:
        """A person drew, moved, resized or nudged the box: it becomes a keyframe."""
        if self.assist is None:
            return None
        text = f"{EDIT_TEXT.get(kind, 'Set box')} (frame {index + 1})"
        merge = f"keys:{index}" if kind in ("nudge", "size") else None
        command = SetBox(index, tuple(box), Provenance.KEYFRAME, merge_key=merge, text=text)
        change = self.push(command, "box")
        if change is not None and self.proposal is not None and self.proposal.index == index:
            self.dismiss_proposal()  # a box drawn there replaces the proposal
        if change is not None and self.repropagate:
            self.events.corrected.emit(index)
        return change

    def toggle_absent(self, index: int | None = None) -> Change | None:
        """Mark frame ``index`` (default: the current one) absent, or present again."""
        index = self.index if index is None else index
        if self.assist is None or not 0 <= index < self.frame_count:
            return None
        absent = not self.assist.annotation.frame(index).absent
        return self.set_absent_range(index, index, absent)

    def set_absent_range(self, first: int, last: int, absent: bool = True) -> Change | None:
        first, last = sorted((first, last))
        verb = "Mark absent" if absent else "Mark present"
        where = f"frame {first + 1}" if first == last else f"frames {first + 1}–{last + 1}"
        change = self.push(SetAbsent(range(first, last + 1), absent, text=f"{verb} ({where})"))
        if change is not None and absent and first == last and self.repropagate:
            self.events.corrected.emit(first)  # the target left: what followed is redone
        return change

    def verify(self, indices: Iterable[int] | None = None) -> Change | None:
        """A person accepts automatic values (default: the current frame's). One verified
        frame inside a segment between two keyframes recombines that segment's runs with it
        as a checkpoint (when re-propagation is on)."""
        indices = [self.index] if indices is None else list(indices)
        if not indices:
            return None
        where = f"frame {indices[0] + 1}" if len(indices) == 1 else f"{len(indices)} frames"
        change = self.push(MarkVerified(indices, text=f"Verify ({where})"), "verify")
        if change is not None and len(indices) == 1 and self.repropagate:
            assert self.assist is not None
            job = self._decide(lambda: self.assist.recombine(indices[0]), quiet=True)
            if job is not None:
                self.run_job(job)
        return change

    def clear_frames(self, indices: Iterable[int] | None = None) -> Change | None:
        indices = [self.index] if indices is None else list(indices)
        if not indices:
            return None
        text = f"Clear annotation (frame {indices[0] + 1})"
        return self.push(ClearFrames(indices, text=text), "clear")

    def set_language(self, text: str) -> None:
        if self.annotation is not None and text != self.annotation.language:
            self.push(SetLanguage(text), "language")

    def set_language_word(self, field: str, word: str) -> None:
        """One of VLT's four attribute words (major class, root class, colour, position)."""
        annotation = self.annotation
        if annotation is not None and annotation.language_attributes.word(field) != word:
            self.push(SetLanguageAttribute(field, word), "language")

    def set_attribute(self, index: int, value: int, text: str | None = None) -> None:
        if self.annotation is not None and self.annotation.attributes[index] != value:
            self.push(SetAttribute(index, value, text=text), "attribute")

    def set_attributes(self, values: Iterable[int], text: str = "Set attributes") -> None:
        values = list(values)
        if self.annotation is not None and self.annotation.attributes != values:
            self.push(SetAttributes(values, text=text), "attribute")

    def undo(self) -> None:
        if self.assist is not None and self.assist.stack.can_undo:
            self.events.edit_starting.emit("undo")
            self.assist.stack.undo()

    def redo(self) -> None:
        if self.assist is not None and self.assist.stack.can_redo:
            self.events.edit_starting.emit("redo")
            self.assist.stack.redo()

    # ============================================================ automatic work
    def track(
        self,
        backwards: bool = False,
        extent: Extent | str = Extent.NEXT_KEYFRAME,
        count: int | None = None,
        *,
        start: int | None = None,
    ) -> bool:
        """Propagate from the current frame (T / Shift+T); False (and a message) if it
        cannot start."""
        start = self.index if start is None else start
        job = self._decide(
            lambda: self.assist.propagation(  # type: ignore[union-attr]
                start,
                backwards=backwards,
                extent=extent,
                count=count,
                stop_at_flag=self.stop_at_flag,
            )  # fmt: skip
        )
        return job is not None and self.run_job(job)

    def fill_segment(self, index: int | None = None) -> bool:
        """Fill the keyframe gap around the current frame from both ends (B)."""
        index = self.index if index is None else index
        job = self._decide(lambda: self.assist.segment_fill(index))  # type: ignore[union-attr]
        return job is not None and self.run_job(job)

    def fill_all(self) -> bool:
        """Fill every gap between keyframes (after drawing keyframes up front)."""
        job = self._decide(lambda: self.assist.fill_all())  # type: ignore[union-attr]
        if job is None:
            if self.assist is not None and self._can_start(quiet=True):
                self.events.message.emit("Nothing to fill: draw keyframes first.")
            return False
        return self.run_job(job)

    def refill_job(self, index: int) -> AssistJob | None:
        """The refill after a person corrected frame ``index`` (None: nothing to redo, or no
        engine can run). Made while reviewing that frame, it covers both neighbouring
        segments; else only the following one."""
        if self.assist is None or not 0 <= index < self.frame_count:
            return None
        preceding = self._review_target == index
        assert self.assist is not None
        return self._decide(lambda: self.assist.refill(index, preceding=preceding), quiet=True)

    def _decide(self, decide: Callable[[], AssistJob | None], quiet: bool = False):
        """A job from ``decide`` if one may start now; refusals become messages."""
        if self.assist is None or not self._can_start(quiet):
            return None
        self.assist.method = self.engine.name
        try:
            return decide()
        except AssistRefused as error:
            if not quiet:
                self.events.message.emit(str(error))
            return None

    def _can_start(self, quiet: bool) -> bool:
        assert self.assist is not None
        problem = ""
        if self.assist.running is not None:
            problem = "A tracking run is in progress (Esc cancels it)."
        else:
            problem = self.engine.cannot_start()
        if problem and not quiet:
            self.events.message.emit(problem)
        return not problem

    def engine_language(self) -> str | None:
        """The description engines get, in the chosen form (None and a message if unset)."""
        if self.annotation is None:
            return None
        try:
            return self.engine.engine_text(self.annotation.language_input)
        except LanguageError as error:
            self.events.message.emit(str(error))
            return None

    def _no_runner(self, job: AssistJob) -> bool:
        self.events.message.emit(f"{job.text}: nothing can run tracking jobs here.")
        return False

    # ============================================================ finding the target
    def find_target_problem(self) -> str:
        """Why "Find the target" cannot run now ("" when it can): the engine must be able to
        find a target from a sentence, have its weights, and the video a description."""
        info = self.engine.info()
        if info is None or not info.can_ground:
            able = ", ".join(engine_info(name).display_name for name in grounding_engines())
            return (
                f"{self.engine.label} cannot find a target from a sentence "
                f"(engines that can: {able or 'none'})."
            )
        problem = self.engine.cannot_start()
        if problem:
            return problem
        if self.annotation is None or not self.annotation.language.strip():
            return "Write the description first: the engine finds the target it describes."
        return ""

    def find_target(self, index: int | None = None) -> bool:
        """Ask the engine where the description puts the target in frame ``index`` (default:
        the current one). The answer is a proposal (:attr:`proposal`), not an edit."""
        index = self.index if index is None else index
        problem = self.find_target_problem()
        if problem:
            self.events.message.emit(problem)
            return False
        assert self.annotation is not None
        return self.find_target_job(index, self.annotation.language)

    def propose_target(self, index: int, box: Iterable[float], score: float | None) -> None:
        """An engine found the target: show its box on frame ``index`` for the annotator."""
        if not 0 <= index < self.frame_count:
            return
        self.proposal = TargetProposal(index, Box(*box), score, self.engine.name)
        self.events.proposal_changed.emit()
        self.events.message.emit(self.proposal.describe())

    def accept_proposal(self) -> Change | None:
        """The proposed box becomes the frame's keyframe (one undoable edit)."""
        proposal = self.proposal
        if proposal is None:
            self.events.message.emit("No proposed box to accept: use Find the target first.")
            return None
        return self.set_box(proposal.index, proposal.box, "draw")

    def dismiss_proposal(self) -> None:
        if self.proposal is not None:
            self.proposal = None
            self.events.proposal_changed.emit()

    def _no_finder(self, index: int, text: str) -> bool:
        self.events.message.emit("Nothing can run the engine here to find the target.")
        return False

    # ============================================================ flags and settings
    def update_flags(self) -> None:
        """Recompute the flags, the review queue and the plots' series now."""
        if self.assist is not None:
            self.assist.flag_rules = self.flag_rules
            self.assist.update_flags()
        self.events.flags_changed.emit()

    def set_score_threshold(self, value: float) -> None:
        self.flag_rules = FlagRules(score_threshold=float(value))
        self.events.engine_changed.emit()
        self.update_flags()

    def set_repropagate(self, on: bool) -> None:
        self.repropagate = bool(on)
        self.events.engine_changed.emit()

    def set_stop_at_flag(self, on: bool) -> None:
        self.stop_at_flag = bool(on)
        self.events.engine_changed.emit()

    def set_calibrated_review(self, on: bool) -> None:
        """Propose checks only where the answers so far say they pay (or every severe flag)."""
        self.calibrated_review = bool(on)
        if self.assist is not None:
            self.assist.calibrated_review = self.calibrated_review
        self.events.engine_changed.emit()
        self.events.flags_changed.emit()  # the flags worth a check change with it

    def set_engine(self, name: str) -> None:
        if name not in engine_choices():
            raise ValueError(f"unknown engine {name!r}")
        self.engine.engine = name
        if self.assist is not None:
            self.assist.method = self.engine.name
        self.events.engine_changed.emit()

    def set_weights(self, path: str) -> str:
        """Weights for the engine that takes them (see :meth:`EngineSettings.set_weights`)."""
        name = self.engine.set_weights(path)
        if self.assist is not None:
            self.assist.method = self.engine.name
        self.events.engine_changed.emit()
        return name

    def set_device(self, device: str) -> None:
        self.engine.device = device
        self.events.engine_changed.emit()

    def set_language_form(self, form: str) -> None:
        """Engines get the sentence or the attribute words (from the next run on)."""
        self.engine.language_form = form
        self.events.engine_changed.emit()
