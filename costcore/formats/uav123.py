"""Reader of UAV123 sequences: ``<name>.txt`` beside ``img/``, NaN rows for absent frames."""

from __future__ import annotations

from pathlib import Path

from costcore.errors import FormatError
from costcore.formats.common import (
    boxes_only_sequence,
    reader,
)
from costcore.formats.frames import list_frames
from costcore.formats.sequence import Sequence
from costcore.formats.textfiles import read_box_file

_NOT_GROUNDTRUTH = frozenset({"language.txt", "nlp.txt"})


def find_groundtruth(folder: Path) -> Path | None:
    """``<folder name>.txt``, else the only other ``*.txt`` that parses as boxes, else None.

    The fallback lets a renamed folder (``truck4_1`` copied as ``truck``) still be read
    while a stray README or SOURCE.txt beside the images never gets mistaken for boxes.
    """
    named = folder / f"{folder.absolute().name}.txt"
    if named.is_file():
        return named
    try:
        candidates = sorted(
            path
            for path in folder.iterdir()
            if path.suffix.lower() == ".txt"
            and not path.name.startswith(".")
            and path.name.lower() not in _NOT_GROUNDTRUTH
            and path.is_file()
        )
    except OSError:
        return None
    parsed = []
    for path in candidates:
        try:
            read_box_file(path)
        except FormatError:
            continue
        parsed.append(path)
    return parsed[0] if len(parsed) == 1 else None


@reader
def read_uav123(folder: str | Path) -> Sequence:
    """Read one UAV123 sequence; NaN rows (and ``0,0,0,0`` rows) are absent frames."""
    folder = Path(folder)
    listing = list_frames(folder / "img")
    gt_path = find_groundtruth(folder)
    if gt_path is None:
        raise FormatError(
            folder / f"{folder.absolute().name}.txt",
            "ground-truth file is missing (and no single other .txt file holds boxes)",
        )
    return boxes_only_sequence(
        folder,
        "uav123",
        listing,
        gt_path,
        ("language.txt", "nlp.txt"),
        groundtruth_file=gt_path.name,
    )
