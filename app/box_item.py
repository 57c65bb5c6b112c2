"""The current frame's box as a scene item: outline, 8 resize handles and selection state.

Scene coordinates are image pixel coordinates, so the item's rectangle *is* the box.
Handles are painted in device pixels (constant on-screen size at any zoom) and sit just outside
the box, so even a 3-px box keeps its whole inside as the move area.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.colors import SELECTION_COLOR, provenance_color

#: on-screen handle side, device pixels
HANDLE_PX = 8.0
#: handle ids, clockwise from top-left; the flags say which edges (left, top, right, bottom) move
HANDLE_EDGES: tuple[tuple[bool, bool, bool, bool], ...] = (
    (True, True, False, False),  # 0 top-left
    (False, True, False, False),  # 1 top
    (False, True, True, False),  # 2 top-right
    (False, False, True, False),  # 3 right
    (False, False, True, True),  # 4 bottom-right
    (False, False, False, True),  # 5 bottom
    (True, False, False, True),  # 6 bottom-left
    (True, False, False, False),  # 7 left
)
HANDLE_CURSORS = (
    Qt.CursorShape.SizeFDiagCursor,
    Qt.CursorShape.SizeVerCursor,
    Qt.CursorShape.SizeBDiagCursor,
    Qt.CursorShape.SizeHorCursor,
    Qt.CursorShape.SizeFDiagCursor,
    Qt.CursorShape.SizeVerCursor,
    Qt.CursorShape.SizeBDiagCursor,
    Qt.CursorShape.SizeHorCursor,
)


def handle_rects(view_rect: QRectF, size: float = HANDLE_PX) -> list[QRectF | None]:
    """Handle squares (device pixels) around a box already mapped to the viewport.

    Edge handles are dropped (None) when the box side is too short on screen to hold them
    between the corner handles.
    """
    left, top, right, bottom = (
        view_rect.left(),
        view_rect.top(),
        view_rect.right(),
        view_rect.bottom(),
    )
    mid_x, mid_y = (left + right) / 2.0, (top + bottom) / 2.0
    s, h = size, size / 2.0
    wide = view_rect.width() >= 2 * s
    tall = view_rect.height() >= 2 * s
    return [
        QRectF(left - s, top - s, s, s),
        QRectF(mid_x - h, top - s, s, s) if wide else None,
        QRectF(right, top - s, s, s),
        QRectF(right, mid_y - h, s, s) if tall else None,
        QRectF(right, bottom, s, s),
        QRectF(mid_x - h, bottom, s, s) if wide else None,
        QRectF(left - s, bottom, s, s),
        QRectF(left - s, mid_y - h, s, s) if tall else None,
    ]


class BoxItem(QGraphicsItem):
    """Draws one box; the frame view does all hit-testing and dragging."""

    def __init__(self) -> None:
        super().__init__()
        self._rect = QRectF()
        self._visible_box = False
        self._provenance: str | None = None
        self._selected = False
        self._editing = False
        self._min_scale = 1.0
        self._hovered = False
        #: only this viewport gets handles (the magnifier shares the scene but not the handles)
        self.handle_viewport: QWidget | None = None
        self.setZValue(10)

    # ----------------------------------------------------------------- state
    def set_box(self, rect: QRectF | None, provenance: str | None = None) -> None:
        self.prepareGeometryChange()
        self._visible_box = rect is not None
        self._rect = QRectF(rect) if rect is not None else QRectF()
        self._provenance = provenance
        self.update()

    def rect(self) -> QRectF | None:
        return QRectF(self._rect) if self._visible_box else None

    def set_selected_for_keys(self, selected: bool) -> None:
        self._selected = selected and self._visible_box
        self.update()

    @property
    def selected_for_keys(self) -> bool:
        return self._selected

    def set_editing(self, editing: bool) -> None:
        """While dragging, the outline is drawn in the selection colour (a live preview)."""
        self._editing = editing
        self.update()

    def set_hovered(self, hovered: bool) -> None:
        """Handles show only near the cursor (or while selected) so they never hide the target."""
        if hovered != self._hovered:
            self._hovered = hovered
            self.update()

    def set_view_scale(self, scale: float) -> None:
        """The smallest zoom showing this item, so the bounding rect covers the handles."""
        self.prepareGeometryChange()
        self._min_scale = max(scale, 1e-3)

    # -------------------------------------------------------------- painting
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        if not self._visible_box:
            return QRectF()
        margin = (HANDLE_PX + 4.0) / self._min_scale
        return self._rect.adjusted(-margin, -margin, margin, margin)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if not self._visible_box:
            return
        color = SELECTION_COLOR if self._editing else provenance_color(self._provenance)
        pen = QPen(color, 2.0 if widget is self.handle_viewport else 1.5)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._rect)
        if widget is None or widget is not self.handle_viewport:
            return
        if not (self._hovered or self._selected or self._editing):
            return
        transform: QTransform = painter.worldTransform()
        view_rect = transform.mapRect(self._rect)
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        outline = QPen(QColor(0, 0, 0), 1.0)
        painter.setPen(outline)
        fill = SELECTION_COLOR if (self._selected or self._editing) else color
        painter.setBrush(QBrush(fill))
        for handle in handle_rects(view_rect):
            if handle is not None:
                painter.drawRect(handle)
        if self._selected:
            dash = QPen(SELECTION_COLOR, 1.0, Qt.PenStyle.DashLine)
            painter.setPen(dash)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(view_rect.adjusted(-3, -3, 3, 3))
        painter.restore()

    def center(self) -> QPointF | None:
        return self._rect.center() if self._visible_box else None
