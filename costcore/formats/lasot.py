"""Reader of LaSOT sequences: ``img/%08d.jpg``, ``groundtruth.txt``, flag files, ``nlp.txt``."""

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
from costcore.formats.textfiles import read_box_file, read_flag_file

FLAG_FILES = ("full_occlusion.txt", "out_of_view.txt")


@reader
def read_lasot(folder: str | Path) -> Sequence:
    """Read one LaSOT sequence.

    LaSOT leaves stale boxes on occluded or out-of-view frames, so visibility comes from the
    flag files: ``boxes`` keeps what the file says, ``absent`` is the union of both flags.
    The flags themselves are kept in ``extra`` (they seed the FO/OV attribute proposals).
    """
    folder = Path(folder)
    listing = list_frames(folder / "img")
    count = len(listing.frames)

    gt_path = require_file(folder / "groundtruth.txt")
    box_file = read_box_file(gt_path)
    check_count(gt_path, len(box_file.boxes), count)
    absent = absent_from_boxes(box_file)

    flags = {}
    for name in FLAG_FILES:
        path = folder / name
        if path.is_file():
            values = read_flag_file(path)
            check_count(path, len(values), count, "flags")
            flags[name.removesuffix(".txt")] = values
            absent = absent | values

    language, _ = first_language(folder / "nlp.txt")
    return Sequence(
        name=folder.absolute().name,
        root=folder,
        layout="lasot",
        frames=listing.frames,
        boxes=box_file.boxes,
        absent=absent,
        language=language,
        extra=sequence_extra(listing, **flags),
    )
