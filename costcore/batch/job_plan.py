"""What a batch run has to do: which sequences to track, which are already done, which fail.

A sequence is *done* when both its files are complete: the result file
``<results>/<tracker>/<sequence>.txt`` parses and has one line per frame, and the times file
``<results>/<tracker>/times/<sequence>_time.txt`` has one number per frame. Anything else (a
missing, short, long or malformed file) is redone; files are only ever replaced atomically, so
an interrupted run leaves finished files and nothing that looks finished but is not.

Initialisation: the first frame whose target is visible, with its ground-truth box, and the
sequence's language (``""`` when it has none) in the run's language form: the sentence, or
VLT's attribute words (``language_attributes.txt``; a sequence without them then fails with
that reason instead of silently getting its sentence). Frames before it (the target is absent
at the start) get ``0,0,0,0`` -- the toolkit's "no target" box, which the absent ground truth
of those frames also is -- and a time of 0, so the file still has exactly one line per frame.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costcore.boxes import Box
from costcore.errors import CostcoreError, FormatError
from costcore.fileio import read_regular_text
from costcore.language import LanguageError, LanguageForm, LanguageInput

TIMES_FOLDER = "times"


def result_file(results_dir: str | Path, tracker: str, sequence: str) -> Path:
    """``<results>/<tracker>/<sequence>.txt``, where the toolkit looks for a result."""
    return Path(results_dir) / tracker / f"{sequence}.txt"


def times_file(results_dir: str | Path, tracker: str, sequence: str) -> Path:
    """``<results>/<tracker>/times/<sequence>_time.txt``, the toolkit's per-frame seconds."""
    return Path(results_dir) / tracker / TIMES_FOLDER / f"{sequence}_time.txt"


@dataclass(frozen=True)
class SequenceJob:
    """One sequence to track, with everything a worker needs (it reads no dataset file itself).

    ``frame_count`` is the number of lines the result file gets; ``first_index`` the frame the
    engine is initialised on with ``box`` and ``text``.
    """

    name: str
    folder: Path
    frames: tuple[Path, ...]
    frame_count: int
    first_index: int
    box: Box
    text: str
    result_file: Path
    times_file: Path

    @property
    def tracked_frames(self) -> int:
        """Frames the engine sees (initialisation frame included)."""
        return self.frame_count - self.first_index


@dataclass(frozen=True)
class SequenceFailure:
    """A sequence that could not be tracked, and why (shown in the run's summary)."""

    name: str
    reason: str
    folder: Path | None = None

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


@dataclass
class BatchPlan:
    """The outcome of looking at a dataset and a results folder before tracking anything."""

    tracker: str
    results_dir: Path
    jobs: list[SequenceJob] = field(default_factory=list)
    #: names of sequences whose files are already complete
    skipped: list[str] = field(default_factory=list)
    #: sequences that cannot be read or have nothing to initialise on
    failed: list[SequenceFailure] = field(default_factory=list)
    #: dataset subfolders that are not sequence folders in any known layout
    ignored: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.jobs) + len(self.skipped) + len(self.failed)

    @property
    def frames_to_track(self) -> int:
        return sum(job.tracked_frames for job in self.jobs)


def _count_time_lines(path: Path) -> int | None:
    """Lines of a times file when every one is a finite number, else ``None``."""
    try:
        text = read_regular_text(path)
    except (OSError, UnicodeDecodeError):
        return None
    lines = text.splitlines()
    try:
        if not all(math.isfinite(float(line)) for line in lines):
            return None
    except ValueError:
        return None
    return len(lines)


def is_complete(result_path: Path, times_path: Path, frame_count: int) -> bool:
    """True when both files exist and have one well-formed line per frame."""
    from costcore.evaluation.result_files import read_result_file

    if not result_path.is_file() or not times_path.is_file():
        return False
    try:
        prediction = read_result_file(result_path, frame_count)
    except FormatError:
        return False
    if prediction.frame_count != frame_count:
        return False
    return _count_time_lines(times_path) == frame_count


def _first_visible(boxes: np.ndarray, absent: np.ndarray, count: int) -> int | None:
    for index in range(count):
        if absent[index]:
            continue
        x, y, w, h = boxes[index]
        if np.all(np.isfinite(boxes[index])) and w > 0 and h > 0:
            return index
    return None


def make_job(
    sequence: object,
    results_dir: Path,
    tracker: str,
    max_frames: int | None = None,
    language_form: LanguageForm | str = LanguageForm.SENTENCE,
) -> SequenceJob:
    """The job for a sequence read by :mod:`costcore.formats`; raises when there is no visible
    target to initialise on, or no language of ``language_form`` when that is attributes."""
    count = len(sequence.boxes)
    if len(sequence.frames) != count:
        raise FormatError(
            sequence.root, f"{len(sequence.frames)} frames but {count} ground-truth boxes"
        )
    if max_frames is not None:
        count = min(count, max_frames)
    first = _first_visible(sequence.boxes, sequence.absent, count)
    if first is None:
        within = f"the first {count} frames" if count < len(sequence.boxes) else "every frame"
        raise CostcoreError(f"the target is absent in {within}: nothing to initialise on")
    language = LanguageInput(
        (sequence.language or "").strip(), getattr(sequence, "language_attributes", None)
    )
    try:
        text = language.text(language_form)
    except LanguageError:
        from costcore.formats.vlsot500_spec import LANGUAGE_ATTRIBUTES

        raise CostcoreError(
            f"no attribute words ({LANGUAGE_ATTRIBUTES}) for the language form 'attributes'"
        ) from None
    return SequenceJob(
        name=sequence.name,
        folder=Path(sequence.root),
        frames=tuple(Path(path) for path in sequence.frames[:count]),
        frame_count=count,
        first_index=first,
        box=Box(*(float(v) for v in sequence.boxes[first])),
        text=text,
        result_file=result_file(results_dir, tracker, sequence.name),
        times_file=times_file(results_dir, tracker, sequence.name),
    )


def _ignored_folders(dataset_dir: Path, sequence_folders: list[Path]) -> list[Path]:
    """Visible subfolders that are neither a sequence nor hold one (reported, not failed)."""
    used = {folder.resolve() for folder in sequence_folders}
    used |= {folder.resolve().parent for folder in sequence_folders}
    try:
        children = sorted(
            Path(entry.path)
            for entry in os.scandir(dataset_dir)
            if entry.is_dir() and not entry.name.startswith(".")
        )
    except OSError:
        return []
    return [child for child in children if child.resolve() not in used]


def plan_batch(
    dataset_dir: str | Path,
    results_dir: str | Path,
    tracker: str,
    *,
    sequences: Iterable[str] | None = None,
    max_frames: int | None = None,
    overwrite: bool = False,
    language_form: LanguageForm | str = LanguageForm.SENTENCE,
) -> BatchPlan:
    """Read every sequence of ``dataset_dir`` (any layout) and sort it into to-do, done, failed.

    ``dataset_dir`` may also be one sequence folder (a dataset of one). ``sequences``
    restricts the run to these names (sequence or folder names); a name that
    matches nothing is an error, so a typo does not silently run nothing. A sequence that cannot
    be read, or a second one with the same name (it would write the same file), is a failure of
    that sequence only. ``overwrite`` redoes complete ones too. ``language_form`` picks what
    each job's text is: the sentence, or the attribute words (a sequence without them fails).
    """
    from costcore.formats import detect_layout, iter_sequences, read_sequence

    dataset_dir = Path(dataset_dir)
    results_dir = Path(results_dir)
    try:
        language_form = LanguageForm.parse(language_form)
    except ValueError as error:
        raise CostcoreError(str(error)) from None
    if not tracker or tracker != tracker.strip() or any(c in tracker for c in "/\\"):
        raise CostcoreError(f"tracker name {tracker!r} must be a plain folder name")
    folders = list(iter_sequences(dataset_dir))
    ignored = _ignored_folders(dataset_dir, folders)
    if not folders:
        try:  # a sequence folder itself: a dataset of one
            detect_layout(dataset_dir)
            folders, ignored = [dataset_dir], []
        except FormatError:
            pass
    plan = BatchPlan(tracker, results_dir, ignored=ignored)
    wanted = None if sequences is None else list(dict.fromkeys(sequences))
    if wanted is not None:
        # folder names usually are the sequence names: read only those when all are found
        by_folder = [folder for folder in folders if folder.name in wanted]
        if {folder.name for folder in by_folder} >= set(wanted):
            folders = by_folder
    if not folders:
        raise FormatError(dataset_dir, "no sequence folders found")

    seen: dict[str, Path] = {}
    matched: set[str] = set()
    for folder in folders:
        try:
            sequence = read_sequence(folder)
        except CostcoreError as error:
            if wanted is None or folder.name in wanted:
                plan.failed.append(SequenceFailure(folder.name, str(error), folder))
                matched.add(folder.name)
            continue
        if wanted is not None:
            if sequence.name not in wanted and folder.name not in wanted:
                continue
            matched.update((sequence.name, folder.name))
        if sequence.name in seen:
            reason = f"another sequence with this name ({seen[sequence.name]}) writes the same file"
            plan.failed.append(SequenceFailure(sequence.name, reason, folder))
            continue
        seen[sequence.name] = folder
        try:
            job = make_job(sequence, results_dir, tracker, max_frames, language_form)
        except CostcoreError as error:
            plan.failed.append(SequenceFailure(sequence.name, str(error), folder))
            continue
        if not overwrite and is_complete(job.result_file, job.times_file, job.frame_count):
            plan.skipped.append(job.name)
        else:
            plan.jobs.append(job)
    if wanted is not None:
        unknown = [name for name in wanted if name not in matched]
        if unknown:
            raise CostcoreError(f"no sequence named {', '.join(unknown)} in {dataset_dir}")
    return plan
