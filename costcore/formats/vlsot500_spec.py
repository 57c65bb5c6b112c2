"""What the VL-SOT500 folder format is (DESIGN.md section 3), shared by reader, writer, validator.

Kept in one place so the writer can never emit something the validator rejects.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence as SequenceOf
from pathlib import Path

from costcore.attributes.definitions import ATTRIBUTE_COUNT
from costcore.attributes.definitions import ATTRIBUTES as ATTRIBUTES_BY_INDEX
from costcore.fileio import open_regular_file

IMAGES_DIR = "imgs"
FIRST_FRAME = "000001.jpg"
GROUNDTRUTH = "groundtruth_rect.txt"
ABSENT = "absent.txt"
ATTRIBUTES = "attributes.txt"
LANGUAGE = "language.txt"
#: optional: VLT's four attribute words on one comma-separated line (costcore.language)
LANGUAGE_ATTRIBUTES = "language_attributes.txt"
RELATIVE_SPEED = "relative_speed.txt"

ABSENT_LINE = "0,0,0,0"
FLOAT_FORMAT = "%.2f"
SPEED_FORMAT = "%.6f"
JPEG_QUALITY = 95
JPEG_MAGIC = b"\xff\xd8\xff"


def frame_name(index: int) -> str:
    """File name of 0-based frame ``index``: 6 digits, 1-based."""
    return f"{index + 1:06d}.jpg"


def attribute_problems(values: SequenceOf[object]) -> list[str]:
    """Why ``values`` is not a valid attribute row (empty list when it is).

    Unlike ``validate_attributes`` it lists every bad value, so a report shows them all.
    """
    if len(values) != ATTRIBUTE_COUNT:
        return [f"expected {ATTRIBUTE_COUNT} attributes, found {len(values)}"]
    problems = []
    for definition, value in zip(ATTRIBUTES_BY_INDEX, values, strict=True):
        if not isinstance(value, numbers.Integral) or not definition.allows(int(value)):
            shown = ", ".join(str(v.value) for v in definition.values)
            problems.append(
                f"{definition.code} (attribute {definition.index + 1}) is {value!r}, "
                f"must be one of {shown}"
            )
    return problems


def is_jpeg_file(path: Path) -> bool:
    """True when the file starts with the JPEG magic bytes (the extension alone proves nothing)."""
    try:
        with open_regular_file(path) as handle:
            return handle.read(3) == JPEG_MAGIC
    except OSError:
        return False
