"""Per-attribute subsets of sequences and their two kinds of average.

The toolkit (``got10k/experiments/vltot230.py``, ``ExperimentVLTOT230.report``) scores an
attribute by keeping a zero row for every sequence that lacks it and averaging over *all*
sequences: the attribute's score is (sum over its sequences) / (number of all sequences).
The scores of a partition (BRI low/medium/high, LEN short/medium/long, NAO natural/artificial)
therefore add up to the overall score. That is reported as ``toolkit``; the usual
mean over the attribute's own sequences is reported as ``standard``.

The 22 groups are those of the toolkit's ``VL-SOT500_Attribute_Evaluation.py``, in its order:
each binary attribute selects value 1 (the toolkit compares with ``True``), and NAO, BRI and
LEN are split by value, keyed ``NAO=natural``, ``BRI=low``, ``LEN=short`` and so on. The
toolkit's mACC script has no per-attribute mode; our mACC follows the same two averages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from costcore.attributes.definitions import ATTRIBUTES
from costcore.evaluation.curves import METRIC_NAMES, CurveSet

AverageKind = Literal["toolkit", "standard"]
AVERAGE_KINDS: tuple[AverageKind, ...] = ("toolkit", "standard")


@dataclass(frozen=True)
class AttributeGroup:
    """Sequences whose ``attributes[index] == value``, shown as ``key``."""

    key: str
    index: int
    value: int


def _groups() -> tuple[AttributeGroup, ...]:
    groups = []
    for definition in ATTRIBUTES:
        # A yes/no flag selects "yes"; anything else (NAO's natural/artificial too, although it
        # is 0/1) is split by value, as the toolkit's Natural_Object/Artificial_Object are.
        if tuple(allowed.label for allowed in definition.values) == ("no", "yes"):
            groups.append(AttributeGroup(definition.code, definition.index, 1))
        else:
            for allowed in definition.values:
                key = f"{definition.code}={allowed.label}"
                groups.append(AttributeGroup(key, definition.index, allowed.value))
    return tuple(groups)


#: CM, VC, PO, FO, OV, ROT, DEF, SD, IV, MB, NAO=natural, NAO=artificial, PTI, BRI=low,
#: BRI=medium, BRI=high, FM, SV, ARV, LEN=short, LEN=medium, LEN=long
ATTRIBUTE_GROUPS: tuple[AttributeGroup, ...] = _groups()


def group_mask(attributes: Sequence[Sequence[int] | None], group: AttributeGroup) -> np.ndarray:
    """Which sequences belong to ``group``; sequences without attributes never do."""
    return np.array(
        [values is not None and values[group.index] == group.value for values in attributes],
        dtype=bool,
    )


def attribute_scores(
    curves: CurveSet, attributes: Sequence[Sequence[int] | None], kind: AverageKind
) -> dict[str, dict[str, float | int | None]]:
    """``{group key: {AUC, P, P_norm, cAUC, mACC, sequences}}`` for all 22 groups.

    Empty when no sequence has attributes (non-VL-SOT layouts). A ``standard`` average over
    zero sequences has ``None`` scores; the ``toolkit`` one is 0, as the toolkit prints. In a
    mixed dataset, sequences without attributes are in no group but still count in the
    ``toolkit`` denominator (all sequences), so partitions add up to the overall score.
    """
    if len(attributes) != len(curves):
        raise ValueError(f"{len(attributes)} attribute rows for {len(curves)} sequences")
    if all(values is None for values in attributes):
        return {}
    out: dict[str, dict[str, float | int | None]] = {}
    for group in ATTRIBUTE_GROUPS:
        mask = group_mask(attributes, group)
        count = int(mask.sum())
        entry: dict[str, float | int | None]
        if kind == "toolkit":
            entry = dict(curves.mean(mask, denominator=len(curves)).scores())
        elif count:
            entry = dict(curves.mean(mask).scores())
        else:
            entry = dict.fromkeys(METRIC_NAMES)
        entry["sequences"] = count
        out[group.key] = entry
    return out
