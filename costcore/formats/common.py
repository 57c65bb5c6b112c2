"""Checks and helpers every layout reader shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from costcore.errors import FormatError
from costcore.formats.frames import FrameListing
from costcore.formats.sequence import Sequence
from costcore.formats.textfiles import (
    BoxFile,
    read_box_file,
    read_language,
    read_language_attributes,
)
from costcore.formats.vlsot500_spec import LANGUAGE_ATTRIBUTES


def reader(function: Callable[[Path], Sequence]) -> Callable[[str | Path], Sequence]:
    """Decorate a layout reader so OS-level failures (permissions, a file vanishing while
    it is read) surface as a FormatError naming the path, like every other bad input.

    It also reads ``language_attributes.txt`` (VLT's attribute words) when the sequence folder
    has one, whatever the layout: no public dataset ships it, but an annotator may add it next
    to a LaSOT or TNL2K sequence, and a folder without it reads exactly as before.
    """

    @functools.wraps(function)
    def read(folder: str | Path) -> Sequence:
        try:
            sequence = function(Path(folder))
            words_path = Path(folder) / LANGUAGE_ATTRIBUTES
            if sequence.language_attributes is None and words_path.is_file():
                sequence.language_attributes = read_language_attributes(words_path)
            return sequence
        except OSError as error:
            path = error.filename if isinstance(error.filename, str) else folder
            raise FormatError(path, f"cannot read: {error.strerror or error}") from error

    return read


def require_file(path: Path) -> Path:
    """``path`` if it is a file, else a FormatError saying it is missing."""
    if not path.is_file():
        raise FormatError(path, "required file is missing")
    return path


def check_count(path: Path, found: int, frame_count: int, what: str = "lines") -> None:
    """Every per-frame file must have one entry per frame, or frames and boxes drift apart."""
    if found != frame_count:
        noun = what.removesuffix("s") if found == 1 else what
        raise FormatError(path, f"{found} {noun} for {frame_count} frames")


def absent_from_boxes(box_file: BoxFile) -> np.ndarray:
    """Frames a box file itself marks as absent: NaN rows (UAV123) and ``0,0,0,0`` rows."""
    zero = np.all(box_file.boxes == 0.0, axis=1)
    return box_file.missing | zero


def first_language(*paths: Path) -> tuple[str, Path | None]:
    """The language of the first of ``paths`` that exists, and which file it was."""
    for path in paths:
        if path.is_file():
            return read_language(path), path
    return "", None


def sequence_extra(listing: FrameListing, **notes: object) -> dict[str, object]:
    """``Sequence.extra`` from the frame listing's notes plus layout notes (None dropped)."""
    extra = listing.extra()
    extra.update({key: value for key, value in notes.items() if value is not None})
    return extra


def boxes_only_sequence(
    folder: Path,
    layout: str,
    listing: FrameListing,
    gt_path: Path,
    language_files: tuple[str, ...],
    **notes: object,
) -> Sequence:
    """A sequence whose only annotation is a box file (OTB, UAV123, TNL2K).

    Absence comes from the boxes themselves (``0,0,0,0`` or NaN rows); the language from the
    first of ``language_files`` (names in ``folder``) that exists.
    """
    box_file = read_box_file(gt_path)
    check_count(gt_path, len(box_file.boxes), len(listing.frames))
    language, _ = first_language(*(folder / name for name in language_files))
    return Sequence(
        name=folder.absolute().name,
        root=folder,
        layout=layout,
        frames=listing.frames,
        boxes=box_file.boxes,
        absent=absent_from_boxes(box_file),
        language=language,
        extra=sequence_extra(listing, **notes),
    )
