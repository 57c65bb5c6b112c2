"""Opening a video for annotation: the frames, imported ground truth, and its saved session.

Opening is slow (a video's index scan, reading ground truth, a session file), so it happens in
two steps: :func:`prepare_open` does everything slow and touches nothing the annotator sees
(the app runs it in a worker); :func:`settle` applies the annotator's answer to "resume the
saved session?" and yields the :class:`OpenedVideo` the model installs. Where a session lives
and which video it belongs to is :mod:`costcore.annotation.workspace`'s job.

A session that cannot be resumed is never left where the new one will be saved: a damaged one
(no usable backup either) and one made for another number of frames are set aside under a
recognisable name first, and the notes say where; what still parses of a damaged one is
offered like a saved session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costcore.annotation import LoadedSession, VideoAnnotation, recover_session
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
from costcore.video import FrameSource, open_frame_source

#: file names that are session files rather than videos
SESSION_SUFFIXES = (".json",)
_FRAME_FOLDERS = ("img", "imgs")

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


@dataclass
class OpenResult:
    """What :func:`prepare_open` found; nothing of it is shown or saved yet."""

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

    def describe_existing(self) -> str:
        """What the resume question says: how much is done, and which file is whose."""
        existing = self.existing
        assert existing is not None
        annotation = existing.annotation
        done = annotation.frame_count - len(annotation.unannotated())
        if self.salvage is not None:
            text = (
                f"The saved session for “{annotation.name}” was damaged; "
                f"{self.salvage.describe()}.\n\nResume from what could be read?"
            )
        else:
            text = (
                f"There is a saved session for “{annotation.name}”: {done} of "
                f"{annotation.frame_count} frames annotated."
            )
        text += f"\n\nSession: {existing.path}\nMade for: {annotation.source}"
        if Path(annotation.source).resolve() != self.path.resolve():
            text += f"\nOpening: {self.path.resolve()}"
            if self.place is not None and self.place.moved_from:
                text += "\n(the file it was made for is gone; this one has the same content)"
        return text


@dataclass
class OpenedVideo:
    """A video the model holds open: frames, annotation, and where its session is saved."""

    path: Path
    source: FrameSource
    annotation: VideoAnnotation
    session_path: Path
    #: what the source was opened from (workers open their own uncached copy of it)
    frames: Any
    #: the app's remembered state (current frame, ...), saved with the session
    ui: dict[str, Any]
    #: what the annotation holds is already on disk (a resumed session): no save needed yet
    on_disk: bool = False


def video_name(path: Path) -> str:
    """The name a video gets in the workspace (``annotations/<name>/``)."""
    if path.is_dir():
        return path.parent.name if path.name in _FRAME_FOLDERS else path.name
    return path.stem


def prepare_open(
    path: str | Path,
    workspace: Path,
    *,
    cache_bytes: int,
    prefetch: int,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> OpenResult:
    """Everything slow about opening a video, image folder, dataset sequence or session file."""
    path = Path(path).expanduser()
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


def settle(result: OpenResult, resume: bool) -> tuple[OpenedVideo, list[str]]:
    """The opened video once the annotator answered "resume the saved session?" (``resume``;
    ignored when there is none), and the notes to show. "Start over" keeps the old session
    under a recognisable name; a moved video's session is moved with it."""
    annotation, ui, on_disk = result.annotation, dict(result.ui), result.from_session_file
    notes = list(result.notes)
    if result.existing is not None:
        if resume:
            annotation, ui = result.existing.annotation, dict(result.existing.ui)
            on_disk = result.salvage is None  # a salvage is not on disk yet: save it
            if annotation.source != result.annotation.source:  # the video was moved
                annotation = relocated(annotation, result.annotation.source)
                on_disk = False
            if result.existing.from_backup:
                notes.append(
                    "The session file was damaged; resumed from its backup (.bak): "
                    "the last changes may be missing."
                )
        elif result.salvage is None:
            kept = set_aside(result.session_path, "start-over")
            where = kept[0] if kept else result.session_path.parent
            notes.append(f"Started over; the old session was kept as {where}.")
    if result.source.damage is not None:  # last, so it is the note left on screen
        notes.append(f"Warning: {result.source.damage.describe()}")
    opened = OpenedVideo(
        result.path,
        result.source,
        annotation,
        result.session_path,
        result.frames,
        {k: v for k, v in ui.items() if isinstance(k, str)},
        on_disk,
    )
    return opened, notes


def _open_session_file(
    path: Path,
    cache_bytes: int,
    prefetch: int,
    progress: Progress | None,
    cancelled: CancelCheck | None,
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
        raise FormatError(
            path,
            f"the session has {annotation.frame_count} frames but its video "
            f"{annotation.source} has {source.frame_count}",
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
    """Load the saved session at ``result.session_path`` (see the module's docstring)."""
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
