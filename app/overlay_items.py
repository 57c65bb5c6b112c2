"""Context drawn under the current box: the frame image, ghost boxes and the centre trail."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.colors import GHOST_NEXT, GHOST_PREVIOUS


class FrameItem(QGraphicsItem):
    """The frame at full resolution, pixel (x, y) covering scene [x, x+1) x [y, y+1).

    Smoothing is chosen per paint from the painter's scale: smooth when shrinking, nearest
    neighbour at 1x and above, so zoomed pixels stay crisp squares in every view sharing it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pixmap = QPixmap()
        self.setZValue(0)

    def set_image(self, image: QImage) -> None:
        if image.size() != self._pixmap.size():
            self.prepareGeometryChange()
        self._pixmap = QPixmap.fromImage(image)
        self.update()

    def clear(self) -> None:
        self.prepareGeometryChange()
        self._pixmap = QPixmap()
        self.update()

    def has_image(self) -> bool:
        return not self._pixmap.isNull()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(0, 0, self._pixmap.width(), self._pixmap.height())

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._pixmap.isNull():
            return
        scale = painter.worldTransform().m11()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 0.999)
        painter.drawPixmap(QPointF(0, 0), self._pixmap)


class GhostItem(QGraphicsItem):
    """Faint boxes of the previous and next frames and a short trail of box centres."""

    def __init__(self) -> None:
        super().__init__()
        self._previous: QRectF | None = None
        self._next: QRectF | None = None
        self._trail: list[QPointF] = []
        self._current_at = 0
        self.setZValue(5)

    def set_context(
        self,
        previous: QRectF | None,
        next_: QRectF | None,
        trail: Sequence[QPointF],
        current_at: int,
    ) -> None:
        """``trail`` is ordered in time; ``trail[current_at]`` is the current frame's centre."""
        self.prepareGeometryChange()
        self._previous, self._next = previous, next_
        self._trail = list(trail)
        self._current_at = current_at
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        rect = QRectF()
        for box in (self._previous, self._next):
            if box is not None:
                rect = rect.united(box)
        for point in self._trail:
            rect = rect.united(QRectF(point.x() - 1, point.y() - 1, 2, 2))
        # cosmetic pens and dots extend a few device pixels; a generous scene margin covers them
        return rect.adjusted(-50, -50, 50, 50) if not rect.isNull() else QRectF()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for box, color, style in (
            (self._previous, GHOST_PREVIOUS, Qt.PenStyle.DashLine),
            (self._next, GHOST_NEXT, Qt.PenStyle.DotLine),
        ):
            if box is None:
                continue
            faint = QColor(color)
            faint.setAlpha(150)
            pen = QPen(faint, 1.5, style)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(box)
        if len(self._trail) < 2:
            return
        scale = max(painter.worldTransform().m11(), 1e-3)
        for i in range(len(self._trail) - 1):
            past = i < self._current_at
            color = QColor(GHOST_PREVIOUS if past else GHOST_NEXT)
            distance = abs(i - self._current_at)
            color.setAlpha(max(60, 220 - 12 * distance))
            pen = QPen(color, 1.5)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLine(self._trail[i], self._trail[i + 1])
        painter.setPen(Qt.PenStyle.NoPen)
        radius = 2.0 / scale
        for i, point in enumerate(self._trail):
            color = QColor(GHOST_PREVIOUS if i < self._current_at else GHOST_NEXT)
            if i == self._current_at:
                color = QColor(255, 255, 255)
            painter.setBrush(color)
            painter.drawEllipse(point, radius, radius)


def heat_lut(opacity: float = 0.6) -> list[int]:
    """256 ARGB colours: transparent dark blue for 0 through orange to opaque yellow for 1."""
    stops = [
        (0.0, (20, 20, 160)),
        (0.35, (160, 30, 200)),
        (0.65, (250, 110, 40)),
        (1.0, (255, 240, 60)),
    ]
    table = []
    for value in range(256):
        t = value / 255.0
        for (t0, c0), (t1, c1) in zip(stops, stops[1:], strict=False):
            if t <= t1:
                f = (t - t0) / (t1 - t0)
                r, g, b = (round(a + (z - a) * f) for a, z in zip(c0, c1, strict=True))
                break
        alpha = round(255 * opacity * (0.15 + 0.85 * t))
        table.append((alpha << 24) | (r << 16) | (g << 8) | b)
    return table


class ScoreMapItem(QGraphicsItem):
    """A tracker's score map as a semi-transparent heat map over its search region.

    Map cell ``(row, col)`` of an ``rows x cols`` map over region ``(x, y, w, h)`` covers the
    image rectangle ``[x + col*w/cols, x + (col+1)*w/cols) x [y + row*h/rows, ...)``; cells
    are drawn as flat blocks (no smoothing) so what is hot is exactly where it is drawn. The
    region itself is outlined.
    """

    LUT = heat_lut()

    def __init__(self) -> None:
        super().__init__()
        self._image: QImage | None = None
        self._region = QRectF()
        self.setZValue(3)

    def set_map(self, data: object | None, region: Sequence[float] | None) -> None:
        """``data``: uint8 array (rows, cols), 255 = score 1; None hides the item."""
        self.prepareGeometryChange()
        if data is None or region is None:
            self._image, self._region = None, QRectF()
            self.update()
            return
        array = np.ascontiguousarray(np.asarray(data, dtype=np.uint8))
        rows, cols = array.shape
        image = QImage(array.data, cols, rows, cols, QImage.Format.Format_Indexed8)
        image.setColorTable(self.LUT)
        self._image = image.convertToFormat(QImage.Format.Format_ARGB32)
        self._region = QRectF(*(float(v) for v in region))
        self.update()

    def region(self) -> QRectF | None:
        return None if self._image is None else QRectF(self._region)

    def has_map(self) -> bool:
        return self._image is not None

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        if self._image is None:
            return QRectF()
        return self._region.adjusted(-20, -20, 20, 20)  # room for the cosmetic outline

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._image is None:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self._region, self._image)
        pen = QPen(QColor(255, 255, 255, 200), 1.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._region)


class ProposalItem(QGraphicsItem):
    """A box an engine found from the description: dashed, with its confidence, until the
    annotator accepts it or draws their own."""

    COLOR = QColor("#e040fb")

    def __init__(self) -> None:
        super().__init__()
        self._rect: QRectF | None = None
        self.setZValue(8)

    def set_box(self, rect: QRectF | None) -> None:
        self.prepareGeometryChange()
        self._rect = rect
        self.update()

    def box(self) -> QRectF | None:
        return self._rect

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF() if self._rect is None else self._rect.adjusted(-2, -2, 2, 2)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._rect is None:
            return
        pen = QPen(self.COLOR, 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)  # the same width at every zoom
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._rect)
