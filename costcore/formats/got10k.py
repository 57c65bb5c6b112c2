"""Reader of GOT-10k sequences: frames beside ``groundtruth.txt``, ``absence.label``, meta info."""

from __future__ import annotations

from pathlib import Path

from costcore.formats.common import (
    absent_from_boxes,
    check_count,
    reader,
    require_file,
    sequence_extra,
)
from costcore.formats.frames import list_frames
from costcore.formats.sequence import Sequence
from costcore.formats.textfiles import read_box_file, read_flag_file, read_text, split_lines


def read_meta_info(path: str | Path) -> dict[str, str]:
    """``key: value`` lines of ``meta_info.ini`` (section headers and comments skipped).

    Kept as plain strings: training turns ``object_class``/``motion_class`` into
    pseudo-language later, and nothing else needs them typed.
    """
    info: dict[str, str] = {}
    for line in split_lines(read_text(path)):
        line = line.strip()
        if not line or line.startswith(("[", "#", ";")):
            continue
        separators = [index for index in (line.find(":"), line.find("=")) if index > 0]
        if not separators:
            continue
        cut = min(separators)
        info[line[:cut].strip()] = line[cut + 1 :].strip()
    return info


@reader
def read_got10k(folder: str | Path) -> Sequence:
    """Read one GOT-10k sequence; ``absence.label`` (optional) adds to the absent frames."""
    folder = Path(folder)
    listing = list_frames(folder)
    count = len(listing.frames)
    gt_path = require_file(folder / "groundtruth.txt")
    box_file = read_box_file(gt_path)
    check_count(gt_path, len(box_file.boxes), count)
    absent = absent_from_boxes(box_file)

    absence_path = folder / "absence.label"
    if absence_path.is_file():
        flags = read_flag_file(absence_path)
        check_count(absence_path, len(flags), count, "flags")
        absent = absent | flags

    meta_path = folder / "meta_info.ini"
    meta = read_meta_info(meta_path) if meta_path.is_file() else None
    return Sequence(
        name=folder.absolute().name,
        root=folder,
        layout="got10k",
        frames=listing.frames,
        boxes=box_file.boxes,
        absent=absent,
        extra=sequence_extra(listing, meta_info=meta),
    )
