"""Annotated folders -> the sequences training samples from, with their descriptions.

A ``--data`` folder is either one sequence (any layout :func:`costcore.formats.read_sequence`
recognises) or a dataset root (:func:`costcore.formats.iter_sequences`). The description is the
sequence's own (VL-SOT500 ``language.txt``, LaSOT ``nlp.txt``, TNL2K, OTB with a sentence
file); GOT-10k has none, so, as the paper does, its pseudo-language is "major class + motion
class" from ``meta_info.ini`` (e.g. "viverrine walking").

Only frames with a visible target and a box of positive size can be sampled ("visible");
absent frames are never templates and never search frames (a search frame without a target
has no box to regress, and COST's head has no "absent" output to train, so we skip them, as
TransT's sampler does with its ``visible`` flags).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcore.errors import FormatError
from costcore.formats import Sequence, detect_layout, iter_sequences, read_sequence

#: GOT-10k meta_info.ini keys of the pseudo-language, in order (the paper: major + motion)
PSEUDO_LANGUAGE_KEYS = ("major_class", "motion_class")


@dataclass(frozen=True)
class TrainingSequence:
    """What the pair sampler needs of one sequence (small and picklable for data workers).

    Frame files are kept as one folder and a newline-joined string of names rather than a
    list of paths: a training set of millions of frames then costs a few bytes per frame in
    every data worker instead of a Python object each.
    """

    name: str
    layout: str
    frame_dir: str
    frame_names: str  # "\n"-joined names in frame order, relative to frame_dir
    boxes: np.ndarray  # (N, 4) float64 x, y, w, h
    visible: np.ndarray  # (N,) bool: present and a finite box of positive size
    language: str = ""  # "" when the sequence has no description

    @classmethod
    def from_frames(
        cls,
        name: str,
        layout: str,
        frames: Iterable[str | Path],
        boxes: np.ndarray,
        visible: np.ndarray,
        language: str = "",
    ) -> TrainingSequence:
        paths = [Path(f) for f in frames]
        parents = {p.parent for p in paths}
        if len(parents) == 1:
            folder, names = str(parents.pop()), [p.name for p in paths]
        else:
            folder, names = "", [str(p) for p in paths]
        return cls(name, layout, folder, "\n".join(names), boxes, visible, language)

    @property
    def frames(self) -> list[Path]:
        folder = Path(self.frame_dir)
        return [folder / name for name in self.frame_names.split("\n")]

    @property
    def has_language(self) -> bool:
        return bool(self.language)

    @property
    def visible_frames(self) -> np.ndarray:
        return np.flatnonzero(self.visible)

    def without_language(self) -> TrainingSequence:
        return dataclasses.replace(self, language="")


@dataclass
class DataReport:
    """What was found under the ``--data`` folders, for the log."""

    used: int = 0
    without_language: int = 0  # used with an empty description
    skipped: list[tuple[str, str]] | None = None  # (folder, why)

    def describe(self) -> str:
        skipped = self.skipped or []
        text = f"{self.used} sequences"
        if self.without_language:
            text += f" ({self.without_language} without a description)"
        if skipped:
            text += f", {len(skipped)} skipped"
        return text


def got10k_pseudo_language(meta_info: dict[str, str] | None) -> str:
    """ "major class + motion class" of a GOT-10k ``meta_info.ini`` ("" when neither is known).

    Underscores become spaces (GOT-10k writes "sea_lion"); "unknown" values are dropped. The
    object class stands in when the major class is missing.
    """
    if not meta_info:
        return ""
    words = []
    for key in PSEUDO_LANGUAGE_KEYS:
        value = meta_info.get(key, "")
        if key == "major_class" and not _known(value):
            value = meta_info.get("object_class", "")
        if _known(value):
            words.append(" ".join(value.replace("_", " ").split()))
    return " ".join(words)


def _known(value: str) -> bool:
    return bool(value.strip()) and value.strip().lower() not in ("unknown", "none", "n/a")


def sequence_language(sequence: Sequence) -> str:
    """The description training uses: the sequence's own, or GOT-10k's pseudo-language."""
    text = " ".join(sequence.language.split())
    if not text and sequence.layout == "got10k":
        meta = sequence.extra.get("meta_info")
        text = got10k_pseudo_language(meta if isinstance(meta, dict) else None)
    return text


def visible_frames_mask(sequence: Sequence) -> np.ndarray:
    boxes = sequence.boxes
    finite = np.all(np.isfinite(boxes), axis=1)
    sized = finite & (np.nan_to_num(boxes[:, 2]) > 0) & (np.nan_to_num(boxes[:, 3]) > 0)
    return sized & ~sequence.absent


def to_training_sequence(sequence: Sequence) -> TrainingSequence:
    return TrainingSequence.from_frames(
        sequence.name,
        sequence.layout,
        sequence.frames,
        np.asarray(sequence.boxes, dtype=np.float64),
        visible_frames_mask(sequence),
        sequence_language(sequence),
    )


def sequence_folders(data_dir: str | Path) -> list[Path]:
    """``data_dir`` itself when it is a sequence, else the sequences of the dataset root."""
    data_dir = Path(data_dir)
    try:
        detect_layout(data_dir)
        return [data_dir]
    except FormatError:
        pass
    folders = list(iter_sequences(data_dir))
    if not folders:
        raise FormatError(data_dir, "neither a sequence folder nor a dataset root of sequences")
    return folders


def load_training_sequences(
    data_dirs: Iterable[str | Path],
    *,
    need_language: bool = True,
    without_language: str = "empty",
) -> tuple[list[TrainingSequence], DataReport]:
    """Read every sequence under ``data_dirs``.

    ``need_language`` is False for a visual-only (TransT) model, which ignores descriptions.
    Otherwise ``without_language`` decides about a sequence without one: ``"empty"`` keeps it
    (its pairs get an empty description, the same input the tracker gets when the annotator
    types none, and are left out of the contrastive loss), ``"skip"`` drops it. Sequences
    without a visible frame are skipped; a folder that cannot be read is an error.
    """
    data_dirs = [Path(d) for d in data_dirs]
    sequences: list[TrainingSequence] = []
    report = DataReport(skipped=[])
    for data_dir in data_dirs:
        for folder in sequence_folders(data_dir):
            sequence = to_training_sequence(read_sequence(folder))
            if not sequence.visible.any():
                report.skipped.append((str(folder), "no frame with a visible target"))
                continue
            if need_language and not sequence.has_language:
                if without_language == "skip":
                    report.skipped.append((str(folder), "no description"))
                    continue
                report.without_language += 1
            if not need_language:
                sequence = sequence.without_language()
            sequences.append(sequence)
    report.used = len(sequences)
    if not sequences:
        where = data_dirs[0] if len(data_dirs) == 1 else Path(".")
        reasons = "; ".join(f"{Path(f).name}: {why}" for f, why in report.skipped[:5])
        raise FormatError(
            where, "no usable training sequence" + (f" ({reasons})" if reasons else "")
        )
    return sequences, report
