"""The open video and its annotation: opening, edit commands, undo/redo and autosave.

Everything that changes the annotation goes through :meth:`SessionController.push` (costcore
edit commands on costcore's UndoStack); the stack's listener fans changes out as the
``changed`` signal and schedules an autosave on the next event-loop turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.autosave import AutoSaver
from app.frame_view import FrameOverlay
from app.workers import Task
from costcore.annotation import (
    Change,
    ClearFrames,
    Command,
    LoadedSession,
    MarkVerified,
    Provenance,
    SetAbsent,
    SetAttribute,
    SetAttributes,
    SetBox,
    SetLanguage,
    SetLanguageAttribute,
    UndoStack,
    VideoAnnotation,
    recover_session,
)
from costcore.annotation.salvage import Salvage, salvage_session
from costcore.annotation.session import backup_path
from costcore.annotation.workspace import (
    SessionPlace,
    VideoIdentity,
    claim,
    find_session,
    relocated,
    set_aside,
    video_fingerprint,
)
from costcore.errors import CostcoreError, FormatError
from costcore.formats import detect_layout, read_sequence
from costcore.video import DEFAULT_CACHE_BYTES, FrameSource, open_frame_source

PREFETCH_FRAMES = 24
TRAIL_FRAMES = 8  # centres shown on each side of the current frame
#: file names that are session files rather than videos
SESSION_SUFFIXES = (".json",)
_FRAME_FOLDERS = ("img", "imgs")

#: box-edit kinds from the frame view -> undo text; key edits merge into one step per frame
_EDIT_TEXT = {
    "draw": "Draw box",
    "move": "Move box",
    "resize": "Resize box",
    "nudge": "Nudge box",
    "size": "Resize box (keys)",
}


@dataclass
class OpenResult:
    """What the opening worker found; the UI thread decides about resuming and installs it."""

    path: Path
    source: FrameSource
    annotation: VideoAnnotation
    session_path: Path
    existing: LoadedSession | None = None
    existing_problem: str = ""  # a session exists but cannot be resumed (why)
    notes: list[str] = field(default_factory=list)
    from_session_file: bool = False
    ui: dict[str, Any] = field(default_factory=dict)
    frames: Any = None  # what the source was opened from (a path or the list of image files)
    #: where the session lives and which video it is for (None: a session file opened as such)
    place: SessionPlace | None = None
    #: the readable part of a damaged session, offered like a saved one (``existing``)
    salvage: Salvage | None = None


def video_name(path: Path) -> str:
    """The name a video gets in the workspace (``annotations/<name>/``)."""
    if path.is_dir():
        return path.parent.name if path.name in _FRAME_FOLDERS else path.name
    return path.stem


class SessionController(QObject):
    """Owns the frame source, the annotation, its undo stack and the autosave."""

    opened = Signal()
    openFailed = Signal(str)
    openProgress = Signal(int, int)
    changed = Signal(object)  # costcore Change
    dirtyChanged = Signal(bool)
    saved = Signal(str)  # session path
    saveFailed = Signal(str)
    message = Signal(str)  # notes for the status bar
    #: something the annotator must read (a saved session set aside and where it is)
    warning = Signal(str)
    #: the open video is about to close (its annotation is still there)
    closing = Signal()
    #: a person set the box of a frame (after the edit was applied)
    boxSetByUser = Signal(int)

    def __init__(
        self,
        workspace: Path,
        parent: QObject | None = None,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        prefetch: int = PREFETCH_FRAMES,
    ) -> None:
        super().__init__(parent)
        self.workspace = Path(workspace)
        self.cache_bytes = cache_bytes
        self.prefetch = prefetch
        self.source: FrameSource | None = None
        self.annotation: VideoAnnotation | None = None
        self.undo_stack: UndoStack | None = None
        self.session_path: Path | None = None
        self.opened_path: Path | None = None
        #: what ``open_frame_source`` opened (workers open their own uncached copy of it)
        self.frames_spec: Any = None
        self.ui_state: dict[str, Any] = {}
        #: decides whether to resume a saved session; the window replaces it with a dialog
        self.ask_resume: Callable[[OpenResult], bool] = lambda result: True
        #: called with the edit's kind before every edit a person makes (the tracking
        #: controller stops a running job there, so the edit is not part of its undo step)
        self.edit_guard: Callable[[str], None] = lambda kind: None
        self._generation = 0
        self._saved_generation = 0
        self._save_scheduled = False
        self._open_task: Task | None = None
        self._saver = AutoSaver(self)
        self._saver.saved.connect(self._on_saved)
        self._saver.failed.connect(self.saveFailed)

    # ================================================================ opening
    @property
    def is_open(self) -> bool:
        return self.annotation is not None and self.source is not None

    @property
    def opening(self) -> bool:
        return self._open_task is not None

    def open_path(self, path: str | Path) -> None:
        """Open a video, image folder, dataset sequence or session file (in a worker)."""
        path = Path(path).expanduser()
        if self._open_task is not None:
            self._open_task.cancel()
        workspace, cache_bytes, prefetch = self.workspace, self.cache_bytes, self.prefetch

        def work(progress: Callable[[int, int], None], cancelled: Callable[[], bool]) -> OpenResult:
            return _prepare_open(path, workspace, cache_bytes, prefetch, progress, cancelled)

        task = Task(work, self)
        task.progress.connect(self.openProgress)
        task.finished.connect(lambda result, t=task: self._opened(t, result))
        task.failed.connect(lambda message, t=task: self._open_failed(t, message))
        task.cancelled.connect(lambda t=task: self._open_failed(t, ""))
        self._open_task = task
        task.start()

    def _open_failed(self, task: Task, message: str) -> None:
        if task is not self._open_task:
            return
        self._open_task = None
        if message:
            self.openFailed.emit(message)

    def _opened(self, task: Task, result: OpenResult) -> None:
        if task is not self._open_task:
            result.source.close()
            return
        self._open_task = None
        annotation, ui = result.annotation, dict(result.ui)
        resumed = False
        if result.existing is not None:
            if self.ask_resume(result):
                annotation, ui = result.existing.annotation, result.existing.ui
                resumed = result.salvage is None  # a salvage is not on disk yet: save it
                if annotation.source != result.annotation.source:  # the video was moved
                    annotation = relocated(annotation, result.annotation.source)
                    resumed = False
                if result.existing.from_backup:
                    result.notes.append(
                        "The session file was damaged; resumed from its backup (.bak): "
                        "the last changes may be missing."
                    )
            elif result.salvage is None:
                kept = set_aside(result.session_path, "start-over")
                where = kept[0] if kept else result.session_path.parent
                result.notes.append(f"Started over; the old session was kept as {where}.")
        problem = result.existing_problem
        self.close()
        self.source = result.source
        self.annotation = annotation
        self.session_path = result.session_path
        self.opened_path = result.path
        self.frames_spec = result.frames
        self.ui_state = {k: v for k, v in ui.items() if isinstance(k, str)}
        self.undo_stack = UndoStack(annotation)
        self.undo_stack.add_listener(self._on_change)
        self._generation = 1
        self._saved_generation = 0
        if resumed or result.from_session_file:
            self._saved_generation = 1  # what is on disk is what we show
        else:
            self._schedule_save()  # a fresh session exists on disk from the start
        self.opened.emit()
        self.dirtyChanged.emit(self.is_dirty)
        if self.source.damage is not None:  # last, so it is the note left on screen
            result.notes.append(f"Warning: {self.source.damage.describe()}")
        for note in result.notes:
            self.message.emit(note)
        if problem:
            self.warning.emit(problem)

    def close(self) -> None:
        """Write any pending change and release the source."""
        if self.annotation is not None:
            self.closing.emit()
        if self.annotation is not None and self.session_path is not None:
            self._save_now()  # also records where the annotator was (ui state)
            self._saver.flush()
        if self.source is not None:
            self.source.close()
        self.source = None
        self.annotation = None
        self.undo_stack = None
        self.session_path = None

    def shutdown(self) -> None:
        """Close and stop the saver thread (application exit)."""
        if self._open_task is not None:
            self._open_task.cancel()
            self._open_task.wait(10.0)
            self._open_task = None
        self.close()
        self._saver.close()

    # ================================================================ editing
    def push(self, command: Command) -> Change | None:
        """Apply an edit command through the undo stack; errors become a message, not a crash."""
        if self.undo_stack is None:
            return None
        try:
            return self.undo_stack.push(command)
        except (ValueError, IndexError, CostcoreError) as error:
            self.message.emit(f"Edit refused: {error}")
            return None

    def set_box(self, index: int, box: Iterable[float], kind: str = "draw") -> None:
        """A person drew, moved, resized or nudged the box: it becomes a keyframe."""
        self.edit_guard("box")
        text = f"{_EDIT_TEXT.get(kind, 'Set box')} (frame {index + 1})"
        merge = f"keys:{index}" if kind in ("nudge", "size") else None
        change = self.push(
            SetBox(index, tuple(box), Provenance.KEYFRAME, merge_key=merge, text=text)
        )
        if change is not None:
            self.boxSetByUser.emit(index)

    def toggle_absent(self, index: int) -> None:
        self.edit_guard("absent")
        frame = self.frame(index)
        if frame is None:
            return
        absent = not frame.absent
        verb = "Mark absent" if absent else "Mark present"
        self.push(SetAbsent([index], absent, text=f"{verb} (frame {index + 1})"))

    def set_absent_range(self, first: int, last: int, absent: bool = True) -> None:
        self.edit_guard("absent")
        first, last = sorted((first, last))
        verb = "Mark absent" if absent else "Mark present"
        self.push(
            SetAbsent(
                range(first, last + 1), absent, text=f"{verb} (frames {first + 1}–{last + 1})"
            )
        )

    def verify(self, indices: Iterable[int]) -> None:
        self.edit_guard("verify")
        indices = list(indices)
        where = f"frame {indices[0] + 1}" if len(indices) == 1 else f"{len(indices)} frames"
        self.push(MarkVerified(indices, text=f"Verify ({where})"))

    def clear_frames(self, indices: Iterable[int]) -> None:
        self.edit_guard("clear")
        indices = list(indices)
        self.push(ClearFrames(indices, text=f"Clear annotation (frame {indices[0] + 1})"))

    def set_language(self, text: str) -> None:
        if self.annotation is not None and text != self.annotation.language:
            self.edit_guard("language")
            self.push(SetLanguage(text))

    def set_language_word(self, field: str, word: str) -> None:
        """One of VLT's four attribute words (major class, root class, colour, position)."""
        if self.annotation is not None and self.annotation.language_attributes.word(field) != word:
            self.edit_guard("language")
            self.push(SetLanguageAttribute(field, word))

    def set_attribute(self, index: int, value: int, text: str | None = None) -> None:
        if self.annotation is not None and self.annotation.attributes[index] != value:
            self.push(SetAttribute(index, value, text=text))

    def set_attributes(self, values: Iterable[int], text: str = "Set attributes") -> None:
        values = list(values)
        if self.annotation is not None and self.annotation.attributes != values:
            self.push(SetAttributes(values, text=text))

    def undo(self) -> None:
        self.edit_guard("undo")
        if self.undo_stack is not None and self.undo_stack.can_undo:
            self.undo_stack.undo()

    def redo(self) -> None:
        self.edit_guard("redo")
        if self.undo_stack is not None and self.undo_stack.can_redo:
            self.undo_stack.redo()

    # ================================================================= reads
    def frame(self, index: int) -> Any:
        if self.annotation is None or not 0 <= index < self.annotation.frame_count:
            return None
        return self.annotation.frame(index)

    @property
    def frame_count(self) -> int:
        return 0 if self.annotation is None else self.annotation.frame_count

    def overlay(self, index: int) -> FrameOverlay:
        """What the frame view draws over frame ``index``: its box, ghosts and trail."""
        annotation = self.annotation
        if annotation is None or not 0 <= index < annotation.frame_count:
            return FrameOverlay(index)
        item = annotation.frame(index)
        count = annotation.frame_count

        def box_at(i: int) -> tuple[float, float, float, float] | None:
            if not 0 <= i < count:
                return None
            value = annotation.frame(i).box
            return None if value is None else tuple(value)

        trail: list[tuple[float, float]] = []
        current_at = -1
        for i in range(max(0, index - TRAIL_FRAMES), min(count, index + TRAIL_FRAMES + 1)):
            value = annotation.frame(i).box
            if value is None:
                continue
            if i == index:
                current_at = len(trail)
            trail.append(value.center)
        return FrameOverlay(
            index=index,
            box=None if item.box is None else tuple(item.box),
            provenance=None if item.provenance is None else item.provenance.value,
            absent=item.absent,
            previous=box_at(index - 1),
            next=box_at(index + 1),
            trail=trail,
            current_at=current_at,
        )

    # =============================================================== autosave
    @property
    def is_dirty(self) -> bool:
        """True while the newest edit is not yet on disk."""
        return self._saved_generation != self._generation

    def _on_change(self, change: Change) -> None:
        was_dirty = self.is_dirty
        self._generation += 1
        self._schedule_save()
        self.changed.emit(change)
        if not was_dirty:
            self.dirtyChanged.emit(True)

    def _schedule_save(self) -> None:
        if not self._save_scheduled:
            self._save_scheduled = True
            QTimer.singleShot(0, self._save_now)

    def schedule_save(self) -> None:
        """Write the session on the next event-loop turn (app state changed, not the
        annotation: e.g. a tracking run's record)."""
        if self.annotation is not None:
            self._schedule_save()

    def save_now(self) -> None:
        """Write the session now and wait for it (Ctrl+S; autosave makes this optional)."""
        self._save_now()
        self._saver.flush()

    def _save_now(self) -> None:
        self._save_scheduled = False
        if self.annotation is None or self.session_path is None:
            return
        self._saver.submit(
            self._generation, self.session_path, self.annotation.copy(), dict(self.ui_state)
        )

    def flush(self, timeout: float = 10.0) -> bool:
        """Make sure every edit so far is on disk (tests, shutdown)."""
        if self._save_scheduled:
            self._save_now()
        return self._saver.flush(timeout)

    def _on_saved(self, generation: int) -> None:
        was_dirty = self.is_dirty
        self._saved_generation = max(self._saved_generation, generation)
        if self.session_path is not None:
            self.saved.emit(str(self.session_path))
        if was_dirty != self.is_dirty:
            self.dirtyChanged.emit(self.is_dirty)


# ====================================================================== worker side
def _prepare_open(
    path: Path,
    workspace: Path,
    cache_bytes: int,
    prefetch: int,
    progress: Callable[[int, int], None],
    cancelled: Callable[[], bool],
) -> OpenResult:
    """Everything slow about opening (video index scan, reading ground truth, the session)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix.lower() in SESSION_SUFFIXES:
        return _open_session_file(path, cache_bytes, prefetch, progress, cancelled)
    notes: list[str] = []
    sequence = None
    if path.is_dir():
        try:
            layout = detect_layout(path)
        except FormatError:
            layout = None  # a plain image folder: nothing to import
        if layout is not None:
            try:
                sequence = read_sequence(path, layout)
            except FormatError as error:
                notes.append(f"Ground truth not imported: {error}")
    frames_from = sequence.frames if sequence is not None else path
    source = open_frame_source(
        frames_from, cache_bytes=cache_bytes, prefetch=prefetch, progress=progress, cancel=cancelled
    )
    try:
        name = sequence.name if sequence is not None else video_name(path)
        if sequence is not None and sequence.frame_count == source.frame_count:
            annotation = VideoAnnotation.from_sequence(
                sequence, frame_size=source.frame_size, fps=source.fps
            )
            notes.append(
                f"Imported {sequence.layout} ground truth of {name}: boxes are marked 'imported'."
            )
        else:
            annotation = VideoAnnotation(
                name,
                source.frame_count,
                source=str(path.resolve()),
                frame_size=source.frame_size,
                fps=source.fps,
            )
        identity = VideoIdentity(str(path.resolve()), _fingerprint(frames_from))
        place = find_session(workspace, name, identity)
        result = OpenResult(
            path, source, annotation, place.session_path, notes=notes, frames=frames_from
        )
        result.place = place
        if place.has_session():
            _read_existing(result, source.frame_count)
        claim(place, name)
        return result
    except BaseException:
        source.close()
        raise


def _open_session_file(
    path: Path,
    cache_bytes: int,
    prefetch: int,
    progress: Callable[[int, int], None],
    cancelled: Callable[[], bool],
) -> OpenResult:
    loaded = recover_session(path)
    annotation = loaded.annotation
    source = open_frame_source(
        annotation.source,
        cache_bytes=cache_bytes,
        prefetch=prefetch,
        progress=progress,
        cancel=cancelled,
    )
    if source.frame_count != annotation.frame_count:
        source.close()
        raise ValueError(
            f"{path}: the session has {annotation.frame_count} frames but its video "
            f"{annotation.source} has {source.frame_count}"
        )
    notes = []
    if loaded.from_backup:
        notes.append("The session file was damaged; opened its backup (.bak).")
    return OpenResult(
        Path(annotation.source),
        source,
        annotation,
        path,
        notes=notes,
        from_session_file=True,
        ui=loaded.ui,
        frames=annotation.source,
    )


def _fingerprint(frames: Any) -> str:
    """The video's content fingerprint; "" when its files cannot be read for it."""
    try:
        return video_fingerprint(frames)
    except (OSError, CostcoreError):
        return ""


def _read_existing(result: OpenResult, frame_count: int) -> None:
    """Load the saved session at ``result.session_path`` for the opening worker.

    A session that cannot be resumed is never left where the new one will be saved: a
    damaged one (no usable backup either) and one made for another number of frames are set
    aside under a recognisable name first, and the notes say where; what still parses of a
    damaged one is offered like a saved session.
    """
    session_path = result.session_path
    moved_from = result.place.moved_from if result.place is not None else ""
    try:
        existing = recover_session(session_path)
    except CostcoreError as error:
        salvage = _best_salvage(session_path)
        kept = set_aside(session_path, "damaged")
        where = kept[0] if kept else session_path
        text = f"The saved session could not be read and was kept as {where}"
        if salvage is not None and salvage.annotation.frame_count == frame_count:
            result.salvage = salvage
            result.existing = LoadedSession(salvage.annotation, {}, where)
            text += f"; {salvage.describe()}."
        else:
            text += "; nothing in it could be recovered."
        result.existing_problem = f"{text}\n\nWhy: {error}"
        return
    if existing.annotation.frame_count != frame_count:
        kept = set_aside(session_path, "other-length")
        where = kept[0] if kept else session_path
        result.existing_problem = (
            f"The saved session was kept as {where}: it has "
            f"{existing.annotation.frame_count} frames but the video has {frame_count}, so it "
            "was not resumed."
        )
        return
    result.existing = existing
    if moved_from:
        result.notes.append(
            f"The session was made for {moved_from}, which is gone; this video has the "
            "same content, so the session now belongs to it."
        )


def _best_salvage(session_path: Path) -> Salvage | None:
    """What parses of the damaged main file or of its backup, whichever holds more frames."""
    best = None
    for path in (session_path, backup_path(session_path)):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        found = salvage_session(path, data)
        if found is not None and (best is None or found.frames_read > best.frames_read):
            best = found
    return best
