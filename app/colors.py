"""Colours that carry meaning (one per provenance), shared by the view, the strip and panels."""

from __future__ import annotations

from PySide6.QtGui import QColor

#: keyed by ``Provenance.value``; ``None`` = not annotated yet
PROVENANCE_COLORS: dict[str | None, QColor] = {
    "keyframe": QColor("#4caf50"),
    "verified": QColor("#42a5f5"),
    "tracked": QColor("#ffa726"),
    "interpolated": QColor("#ffee58"),
    "imported": QColor("#26c6da"),
    None: QColor("#757575"),
}
ABSENT_COLOR = QColor("#e53935")
GHOST_PREVIOUS = QColor(255, 120, 200)
GHOST_NEXT = QColor(120, 220, 255)
SELECTION_COLOR = QColor("#ffffff")


def provenance_color(value: str | None) -> QColor:
    return QColor(PROVENANCE_COLORS.get(value, PROVENANCE_COLORS[None]))
