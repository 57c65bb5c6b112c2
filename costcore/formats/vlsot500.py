"""Reader of the VL-SOT500 folder format (the layout the annotator also exports)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from costcore.attributes.definitions import ATTRIBUTE_COUNT
from costcore.errors import FormatError
from costcore.formats import vlsot500_spec as spec
from costcore.formats.common import (
    absent_from_boxes,
    check_count,
    reader,
    require_file,
    sequence_extra,
)
from costcore.formats.frames import list_frames
from costcore.formats.sequence import Sequence
from costcore.formats.textfiles import (
    read_box_file,
    read_flag_file,
    read_float_column,
    read_int_row,
    read_language,
)


@reader
def read_vlsot500(folder: str | Path) -> Sequence:
    """Read ``imgs/``, ``groundtruth_rect.txt`` and the optional per-video files.

    ``absent.txt`` is authoritative when present, but it must agree with the ``0,0,0,0`` rows
    (the toolkit reads absence from those), so a disagreement is an error, not a silent choice.
    """
    folder = Path(folder)
    listing = list_frames(folder / spec.IMAGES_DIR)
    count = len(listing.frames)

    gt_path = require_file(folder / spec.GROUNDTRUTH)
    box_file = read_box_file(gt_path)
    check_count(gt_path, len(box_file.boxes), count)
    absent = absent_from_boxes(box_file)

    absent_path = folder / spec.ABSENT
    if absent_path.is_file():
        flags = read_flag_file(absent_path)
        check_count(absent_path, len(flags), count)
        mismatch = np.flatnonzero(flags != absent)
        if mismatch.size:
            index = int(mismatch[0])
            row = "is 0,0,0,0" if absent[index] else "has a box"
            raise FormatError(
                absent_path,
                f"says {int(flags[index])} but {spec.GROUNDTRUTH} line {index + 1} {row}",
                index + 1,
            )
        absent = flags

    attributes_path = folder / spec.ATTRIBUTES
    attributes = None
    if attributes_path.is_file():
        attributes = read_int_row(attributes_path, ATTRIBUTE_COUNT)

    language_path = folder / spec.LANGUAGE
    language = read_language(language_path) if language_path.is_file() else ""

    speed_path = folder / spec.RELATIVE_SPEED
    relative_speed = None
    if speed_path.is_file():
        relative_speed = read_float_column(speed_path)
        check_count(speed_path, len(relative_speed), count)

    return Sequence(
        name=Path(folder).absolute().name,
        root=folder,
        layout="vlsot500",
        frames=listing.frames,
        boxes=box_file.boxes,
        absent=absent,
        language=language,
        attributes=attributes,
        relative_speed=relative_speed,
        extra=sequence_extra(listing),
    )
