"""The magnifier: a second, small view of the same scene that follows the target.

A 10-px object stays big while stepping, whatever the main view's zoom. It shares the main
view's scene (no second copy of the frame) and draws the box without handles.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QResizeEvent, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

#: the box fills about this fraction of the magnifier's shorter side
TARGET_FILL = 0.35
MIN_REGION_PX = 16.0  # never magnify a region smaller than this (in image pixels)
MAX_ZOOM = 32.0


class FollowView(QGraphicsView):
    """Non-interactive inset centred on the current box, magnified to a readable size."""

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setInteractive(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setBackgroundBrush(QBrush(QColor(20, 20, 24)))
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumSize(120, 120)
        self._box: QRectF | None = None

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(240, 240)

    def follow(self, box: tuple[float, float, float, float] | None) -> None:
        """Centre on ``box`` (image coordinates); keep the last place when there is none."""
        if box is None:
            return
        self._box = QRectF(*box)
        self._refit()

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def _refit(self) -> None:
        if self._box is None:
            return
        side = max(self._box.width(), self._box.height(), MIN_REGION_PX * TARGET_FILL)
        viewport = self.viewport()
        shorter = max(1, min(viewport.width(), viewport.height()))
        scale = min(MAX_ZOOM, shorter * TARGET_FILL / side)
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(QPointF(self._box.center()))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._refit()
