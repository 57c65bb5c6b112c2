"""Reader of TNL2K sequences: ``imgs/`` (mixed names), ``groundtruth.txt``, ``language.txt``."""

from __future__ import annotations

from pathlib import Path

from costcore.formats.common import (
    boxes_only_sequence,
    reader,
    require_file,
)
from costcore.formats.frames import list_frames
from costcore.formats.sequence import Sequence


@reader
def read_tnl2k(folder: str | Path) -> Sequence:
    """Read one TNL2K sequence; frames are the natural-sorted images of ``imgs/``.

    TNL2K has no absence file: ``0,0,0,0`` (and NaN) rows mark frames without the target.
    """
    folder = Path(folder)
    listing = list_frames(folder / "imgs")
    gt_path = require_file(folder / "groundtruth.txt")
    return boxes_only_sequence(folder, "tnl2k", listing, gt_path, ("language.txt",))
