"""Reader of TNL2K sequences: ``imgs/`` (mixed names), ``groundtruth.txt``, ``language.txt``."""

from __future__ import annotations

from pathlib import Path

from costcore.formats.common import (
    absent_from_boxes,
    check_count,
    first_language,
    reader,
    require_file,
    sequence_extra,
)
from costcore.formats.frames import list_frames
from costcore.formats.sequence import Sequence
from costcore.formats.textfiles import read_box_file


@reader
def read_tnl2k(folder: str | Path) -> Sequence:
    """Read one TNL2K sequence; frames are the natural-sorted images of ``imgs/``.

    TNL2K has no absence file: ``0,0,0,0`` (and NaN) rows mark frames without the target.
    """
    folder = Path(folder)
    listing = list_frames(folder / "imgs")
    gt_path = require_file(folder / "groundtruth.txt")
    box_file = read_box_file(gt_path)
    check_count(gt_path, len(box_file.boxes), len(listing.frames))
    language, _ = first_language(folder / "language.txt")
    return Sequence(
        name=folder.absolute().name,
        root=folder,
        layout="tnl2k",
        frames=listing.frames,
        boxes=box_file.boxes,
        absent=absent_from_boxes(box_file),
        language=language,
        extra=sequence_extra(listing),
    )
