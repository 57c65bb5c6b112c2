"""The 17 VL-SOT500 attributes as data, in the order of ``attributes.txt``.

Everything that shows, validates or proposes an attribute reads it from here, so the order,
the allowed values and their labels exist in exactly one place.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ProposalMethod = Literal["exact", "heuristic", "manual"]

#: BRI: b <= 83 is low, 83 < b <= 119 medium, above 119 high (b = mean grey level of the video)
BRIGHTNESS_LOW_MAX = 83.0
BRIGHTNESS_MEDIUM_MAX = 119.0
#: LEN: n <= 600 frames is short, 600 < n <= 1800 medium, above 1800 long
LENGTH_SHORT_MAX = 600
LENGTH_MEDIUM_MAX = 1800


@dataclass(frozen=True)
class AttributeValue:
    """One allowed value of an attribute and the word shown for it."""

    value: int
    label: str


@dataclass(frozen=True)
class AttributeDefinition:
    """One attribute: its place in ``attributes.txt``, what it means and how it is proposed."""

    index: int
    code: str
    name: str
    definition: str
    values: tuple[AttributeValue, ...]
    proposal: ProposalMethod

    @property
    def is_binary(self) -> bool:
        return tuple(v.value for v in self.values) == (0, 1)

    def allows(self, value: int) -> bool:
        return any(v.value == value for v in self.values)

    def label(self, value: int) -> str:
        """The label of ``value``; ``ValueError`` when the attribute does not allow it."""
        for allowed in self.values:
            if allowed.value == value:
                return allowed.label
        raise ValueError(_bad_value_message(self, value))


_BINARY = (AttributeValue(0, "no"), AttributeValue(1, "yes"))


def _binary(
    index: int, code: str, name: str, definition: str, proposal: ProposalMethod = "manual"
) -> AttributeDefinition:
    return AttributeDefinition(index, code, name, definition, _BINARY, proposal)


ATTRIBUTES: tuple[AttributeDefinition, ...] = (
    _binary(0, "CM", "Camera Motion", "Abrupt motion of the camera."),
    _binary(
        1, "VC", "Viewpoint Change", "The viewpoint affects the target's appearance significantly."
    ),
    _binary(2, "PO", "Partial Occlusion", "The target is partially occluded."),
    _binary(3, "FO", "Full Occlusion", "The target is fully occluded.", "heuristic"),
    _binary(4, "OV", "Out-of-View", "The target completely leaves the frame.", "heuristic"),
    _binary(5, "ROT", "Rotation", "The target rotates."),
    _binary(6, "DEF", "Deformation", "The target is deformable."),
    _binary(7, "SD", "Similar Distractors", "Similar objects or background near the target."),
    _binary(
        8,
        "IV",
        "Illumination Variation",
        "The illumination in the target region changes.",
        "heuristic",
    ),
    _binary(9, "MB", "Motion Blur", "The target region is blurred.", "heuristic"),
    AttributeDefinition(
        10,
        "NAO",
        "Natural or Artificial Object",
        "Whether the target is natural or man-made.",
        (AttributeValue(0, "natural"), AttributeValue(1, "artificial")),
        "manual",
    ),
    _binary(
        11,
        "PTI",
        "Partial Target Information",
        "Only part of the target is visible in the first frame.",
    ),
    AttributeDefinition(
        12,
        "BRI",
        "Brightness",
        "Mean brightness b of the video (mean grey level over all frames): "
        f"low if b <= {BRIGHTNESS_LOW_MAX:g}, medium if b <= {BRIGHTNESS_MEDIUM_MAX:g}, "
        "else high.",
        (AttributeValue(0, "low"), AttributeValue(1, "medium"), AttributeValue(2, "high")),
        "exact",
    ),
    _binary(13, "FM", "Fast Motion", "The motion of the object is larger than its size.", "exact"),
    _binary(
        14,
        "SV",
        "Scale Variation",
        "The ratio of the box size to the first frame's is outside [0.5, 2].",
        "exact",
    ),
    _binary(
        15,
        "ARV",
        "Aspect Ratio Variation",
        "The ratio of the box aspect ratio to the first frame's is outside [0.5, 2].",
        "exact",
    ),
    AttributeDefinition(
        16,
        "LEN",
        "Length",
        f"Video length: short if <= {LENGTH_SHORT_MAX} frames, medium if "
        f"<= {LENGTH_MEDIUM_MAX}, else long.",
        (AttributeValue(0, "short"), AttributeValue(1, "medium"), AttributeValue(2, "long")),
        "exact",
    ),
)

ATTRIBUTE_COUNT = len(ATTRIBUTES)
ATTRIBUTE_CODES: tuple[str, ...] = tuple(a.code for a in ATTRIBUTES)
_BY_CODE = {a.code: a for a in ATTRIBUTES}


def attribute(key: int | str) -> AttributeDefinition:
    """Look an attribute up by index (0..16) or code (case-insensitive); ``KeyError`` if unknown."""
    if isinstance(key, str):
        try:
            return _BY_CODE[key.strip().upper()]
        except KeyError:
            raise KeyError(f"unknown attribute code {key!r}") from None
    if 0 <= key < ATTRIBUTE_COUNT:
        return ATTRIBUTES[key]
    raise KeyError(f"attribute index {key} is outside 0..{ATTRIBUTE_COUNT - 1}")


def brightness_level(b: float) -> int:
    """BRI value for a mean brightness ``b`` (0 low, 1 medium, 2 high)."""
    if b <= BRIGHTNESS_LOW_MAX:
        return 0
    return 1 if b <= BRIGHTNESS_MEDIUM_MAX else 2


def length_level(frame_count: int) -> int:
    """LEN value for a video of ``frame_count`` frames (0 short, 1 medium, 2 long)."""
    if frame_count <= LENGTH_SHORT_MAX:
        return 0
    return 1 if frame_count <= LENGTH_MEDIUM_MAX else 2


def _bad_value_message(definition: AttributeDefinition, value: object) -> str:
    allowed = ", ".join(f"{v.value} ({v.label})" for v in definition.values)
    return (
        f"attribute {definition.index} {definition.code} ({definition.name}): "
        f"value {value!r} is not one of {allowed}"
    )


def validate_attributes(values: Sequence[object]) -> list[int]:
    """Check a 17-value list and return it as plain ints.

    Raises ``ValueError`` naming the attribute and the offending value, because a wrong flag in
    ``attributes.txt`` silently corrupts per-attribute evaluation.
    """
    if isinstance(values, (str, bytes)) or len(values) != ATTRIBUTE_COUNT:
        count = len(values) if not isinstance(values, (str, bytes)) else "a string"
        raise ValueError(f"expected {ATTRIBUTE_COUNT} attribute values, got {count}")
    result: list[int] = []
    for definition, raw in zip(ATTRIBUTES, values, strict=True):
        try:
            value = operator.index(raw)  # ints and numpy ints; rejects 1.0, "1", None
        except TypeError:
            raise ValueError(_bad_value_message(definition, raw)) from None
        if not definition.allows(value):
            raise ValueError(_bad_value_message(definition, raw))
        result.append(int(value))
    return result


def format_attributes_line(values: Sequence[object]) -> str:
    """The ``attributes.txt`` line (17 comma-separated integers, no spaces, no newline)."""
    return ",".join(str(v) for v in validate_attributes(values))


def parse_attributes_line(line: str) -> list[int]:
    """Parse an ``attributes.txt`` line; tolerant of spaces and a trailing ``\\r\\n``."""
    fields = line.strip().split(",")
    if len(fields) != ATTRIBUTE_COUNT:
        raise ValueError(
            f"expected {ATTRIBUTE_COUNT} comma-separated attribute values, got {len(fields)}"
        )
    values: list[int] = []
    for definition, text in zip(ATTRIBUTES, fields, strict=True):
        text = text.strip()
        try:
            values.append(int(text))
        except ValueError:
            raise ValueError(_bad_value_message(definition, text)) from None
    return validate_attributes(values)
