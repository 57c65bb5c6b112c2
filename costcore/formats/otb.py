"""Reader of OTB sequences: ``img/%04d.jpg`` and ``groundtruth_rect.txt`` (comma, tab or space)."""

from __future__ import annotations

import re
from pathlib import Path

from costcore.errors import FormatError
from costcore.formats.common import (
    boxes_only_sequence,
    reader,
)
from costcore.formats.frames import list_frames
from costcore.formats.sequence import Sequence

GROUNDTRUTH = "groundtruth_rect.txt"
_TARGET_FILE = re.compile(r"groundtruth_rect\.([0-9]+)\.txt")


def target_files(folder: Path) -> list[Path]:
    """``groundtruth_rect.N.txt`` files of a multi-target OTB folder (Jogging, Skating2), by N."""
    try:
        names = [path.name for path in folder.iterdir()]
    except OSError:
        return []
    numbered = []
    for name in names:
        match = _TARGET_FILE.fullmatch(name)
        if match and (folder / name).is_file():
            numbered.append((int(match.group(1)), name))
    return [folder / name for _, name in sorted(numbered)]


def groundtruth_file(folder: Path) -> tuple[Path, str | None]:
    """The ground-truth file to read, and a note when it is one target of several."""
    plain = folder / GROUNDTRUTH
    if plain.is_file():
        return plain, None
    targets = target_files(folder)
    if not targets:
        raise FormatError(plain, "required file is missing (nor any groundtruth_rect.N.txt)")
    names = ", ".join(path.name for path in targets)
    return targets[0], f"multi-target sequence ({names}); read {targets[0].name}"


@reader
def read_otb(folder: str | Path) -> Sequence:
    """Read one OTB sequence; language from ``language.txt`` or ``nlp.txt`` (OTB99-lang)."""
    folder = Path(folder)
    listing = list_frames(folder / "img")
    gt_path, note = groundtruth_file(folder)
    return boxes_only_sequence(
        folder,
        "otb",
        listing,
        gt_path,
        ("language.txt", "nlp.txt"),
        note=note,
        groundtruth_file=gt_path.name if note else None,
    )
