"""The frame view: the frame at full resolution with zoom, pan and direct box editing.

Scene coordinates are image coordinates (pixel ``(x, y)`` covers ``[x, x+1) x [y, y+1)``), so
a box is drawn with its own numbers and every mapping is the view's transform alone. The view
only *proposes* boxes (``boxEdited``); the session controller turns them into edit commands,
and the view shows whatever the annotation then says.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget

from app.box_edits import ARROW_STEPS, DragMode, dragged_rect, hud_text, nudged_box
from app.box_item import HANDLE_CURSORS, BoxItem, handle_rects
from app.colors import ABSENT_COLOR, provenance_color
from app.overlay_items import FrameItem, GhostItem, ProposalItem, ScoreMapItem
from costcore.annotator.overlay import FrameOverlay

MIN_ZOOM = 0.02
MAX_ZOOM = 32.0
WHEEL_STEP = 1.25  # zoom factor per wheel notch
DRAG_THRESHOLD_PX = 3.0
#: the scene extends this far around the image so any image point can be centred at any zoom
SCENE_MARGIN = 100_000.0


def _rect(box: tuple[float, float, float, float] | None) -> QRectF | None:
    return None if box is None else QRectF(*box)


class FrameView(QGraphicsView):
    """Zoomable, pannable frame with the editable box of the frame it shows."""

    #: (frame index, (x, y, w, h), kind) where kind is draw / move / resize / nudge / size
    boxEdited = Signal(int, object, str)
    zoomChanged = Signal(float)
    #: image position under the cursor (None when outside the view)
    cursorMoved = Signal(object)
    selectionChanged = Signal(bool)
    #: Space pressed and released without panning: the window toggles playback
    spaceTapped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.frame_item = FrameItem()
        self.ghost_item = GhostItem()
        self.box_item = BoxItem()
        self.box_item.handle_viewport = self.viewport()
        self.score_map_item = ScoreMapItem()
        self.proposal_item = ProposalItem()
        items = (self.frame_item, self.score_map_item, self.ghost_item, self.proposal_item)
        for item in (*items, self.box_item):
            self._scene.addItem(item)
        self._image_size: tuple[int, int] | None = None
        self._displayed_index: int | None = None
        self._overlay: FrameOverlay | None = None
        self._fit_mode = True
        self._follow_lock = False
        self._ghosts_visible = True
        self._drag = DragMode.NONE
        self._drag_index = -1
        self._drag_origin_view = QPointF()
        self._drag_origin_image = QPointF()
        self._drag_start_box: QRectF | None = None
        self._drag_handle = -1
        self._drag_started = False
        self._pan_last = QPointF()
        self._space_held = False
        self._space_panned = False
        self._hud_text = ""
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        # a full repaint is cheap next to a frame change and keeps the HUD text artefact-free
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setBackgroundBrush(QBrush(QColor(32, 32, 36)))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setMinimumSize(200, 150)

    # ================================================================ frames
    def set_image_size(self, width: int, height: int) -> None:
        """Prepare for a new video: scene rect, no frame yet, fit on the first image."""
        self._image_size = (width, height)
        self._scene.setSceneRect(
            -SCENE_MARGIN, -SCENE_MARGIN, width + 2 * SCENE_MARGIN, height + 2 * SCENE_MARGIN
        )
        self.frame_item.clear()
        self._displayed_index = None
        self._fit_mode = True
        self.fit_to_window()

    def show_frame(self, index: int, image: QImage) -> None:
        """Show frame ``index``'s image; the overlay must be set for the same index."""
        self.frame_item.set_image(image)
        self._displayed_index = index
        if self._fit_mode:
            self.fit_to_window()

    @property
    def displayed_index(self) -> int | None:
        """The frame whose image (and overlay) is on screen now."""
        return self._displayed_index

    def image_size(self) -> tuple[int, int] | None:
        return self._image_size

    # =============================================================== overlay
    def set_overlay(self, overlay: FrameOverlay) -> None:
        """Boxes for the displayed frame (drawn with the frame, never ahead of it)."""
        self._overlay = overlay
        if self._drag in (DragMode.NONE, DragMode.PAN):
            self.box_item.set_box(_rect(overlay.box), overlay.provenance)
        if overlay.box is None:
            self._set_selected(False)
        self._update_ghosts()
        self.proposal_item.set_box(_rect(overlay.proposal))
        self._hud_text = hud_text(overlay)
        if self._follow_lock and overlay.box is not None and self._drag is DragMode.NONE:
            self.centerOn(self.box_item.rect().center())
            self._fit_mode = False
        self.viewport().update()

    @property
    def overlay(self) -> FrameOverlay | None:
        return self._overlay

    def set_score_map(self, data: object | None, region: object | None = None) -> None:
        """The confidence map of the displayed frame over its search region (None: hide)."""
        self.score_map_item.set_map(data, region)  # type: ignore[arg-type]
        self.viewport().update()

    def set_ghosts_visible(self, visible: bool) -> None:
        self._ghosts_visible = visible
        self._update_ghosts()

    def ghosts_visible(self) -> bool:
        return self._ghosts_visible

    def _update_ghosts(self) -> None:
        overlay = self._overlay
        if overlay is None or not self._ghosts_visible:
            self.ghost_item.set_context(None, None, [], -1)
            return
        self.ghost_item.set_context(
            _rect(overlay.previous),
            _rect(overlay.next),
            [QPointF(x, y) for x, y in overlay.trail],
            overlay.current_at,
        )

    # ========================================================= zoom and pan
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def image_to_view(self, point: QPointF) -> QPointF:
        """Viewport position (float, device-independent pixels) of an image point."""
        return self.viewportTransform().map(point)

    def view_to_image(self, point: QPointF) -> QPointF:
        """Image position under a viewport position, exact (no integer rounding)."""
        inverse, ok = self.viewportTransform().inverted()
        return inverse.map(point) if ok else QPointF()

    def image_pixel_at(self, point: QPointF) -> tuple[int, int]:
        """The image pixel (column, row) under a viewport position."""
        image = self.view_to_image(point)
        return (math.floor(image.x()), math.floor(image.y()))

    def set_zoom(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` keeping the image point under ``anchor`` (viewport) fixed."""
        if anchor is None:
            anchor = QPointF(self.viewport().width() / 2.0, self.viewport().height() / 2.0)
        scale = min(max(scale, MIN_ZOOM), MAX_ZOOM)
        fixed = self.view_to_image(anchor)
        self.setTransform(QTransform.fromScale(scale, scale))
        self._place(fixed, anchor)
        self._fit_mode = False
        self._after_zoom()

    def zoom_at(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.zoom * factor, anchor)

    def fit_to_window(self) -> None:
        """Show the whole frame; stays in fit mode (refits on resize) until the user zooms."""
        if self._image_size is None:
            return
        width, height = self._image_size
        viewport = self.viewport()
        scale = min(viewport.width() / width, viewport.height() / height) * 0.98
        scale = min(max(scale, MIN_ZOOM), MAX_ZOOM)
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(QPointF(width / 2.0, height / 2.0))
        self._fit_mode = True
        self._after_zoom()

    def _place(self, image_point: QPointF, view_point: QPointF) -> None:
        """Scroll so ``image_point`` lies under ``view_point`` (to the nearest device pixel)."""
        now = self.image_to_view(image_point)
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        hbar.setValue(hbar.value() + round(now.x() - view_point.x()))
        vbar.setValue(vbar.value() + round(now.y() - view_point.y()))

    def _after_zoom(self) -> None:
        self.box_item.set_view_scale(self.zoom)
        self.zoomChanged.emit(self.zoom)
        self.viewport().update()

    def set_follow_lock(self, on: bool) -> None:
        """Lock mode: every frame change centres the view on the box (zoom unchanged)."""
        self._follow_lock = on
        rect = self.box_item.rect()
        if on and rect is not None:
            self.centerOn(rect.center())
            self._fit_mode = False

    def follow_lock(self) -> bool:
        return self._follow_lock

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit_to_window()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_at(WHEEL_STEP**steps, event.position())
        event.accept()

    # =============================================================== selection
    def _set_selected(self, selected: bool) -> None:
        selected = selected and self.box_item.rect() is not None
        was = self.box_item.selected_for_keys
        self.box_item.set_selected_for_keys(selected)
        if was != selected:
            self.selectionChanged.emit(selected)

    def select_box(self, selected: bool = True) -> None:
        """Select the box for keyboard editing (arrows then move it instead of stepping)."""
        self._set_selected(selected)
        if selected:
            self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @property
    def box_selected(self) -> bool:
        return self.box_item.selected_for_keys

    # ============================================================ hit testing
    def hit_test(self, view_pos: QPointF) -> int | str | None:
        """Handle id 0..7, "inside" for the move area, or None."""
        rect = self.box_item.rect()
        if rect is None:
            return None
        view_rect = self.viewportTransform().mapRect(rect)
        slop = 2.0
        for handle_id, handle in enumerate(handle_rects(view_rect)):
            if handle is not None and handle.adjusted(-slop, -slop, slop, slop).contains(view_pos):
                return handle_id
        if view_rect.adjusted(-1, -1, 1, 1).contains(view_pos):
            return "inside"
        return None

    def _near_box(self, view_pos: QPointF, distance: float = 24.0) -> bool:
        rect = self.box_item.rect()
        if rect is None:
            return False
        view_rect = self.viewportTransform().mapRect(rect)
        return view_rect.adjusted(-distance, -distance, distance, distance).contains(view_pos)

    def _editable(self) -> bool:
        return self._displayed_index is not None and self._overlay is not None

    # ================================================================= mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._drag = DragMode.PAN
            self._pan_last = pos
            self._space_panned = self._space_panned or self._space_held
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button != Qt.MouseButton.LeftButton or not self._editable():
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        hit = self.hit_test(pos)
        self._drag_index = self._displayed_index if self._displayed_index is not None else -1
        self._drag_origin_view = pos
        self._drag_origin_image = self.view_to_image(pos)
        self._drag_start_box = self.box_item.rect()
        self._drag_started = False
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._drag = DragMode.DRAW  # Shift: always a new box, even starting inside the old
        elif isinstance(hit, int):
            self._drag, self._drag_handle = DragMode.RESIZE, hit
        elif hit == "inside":
            self._drag = DragMode.MOVE
        else:
            self._drag = DragMode.DRAW
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        pos = event.position()
        self.cursorMoved.emit(self.view_to_image(pos))
        if self._drag is DragMode.PAN:
            delta = pos - self._pan_last
            self._pan_last = pos
            self._scroll_by(delta)
            event.accept()
            return
        if self._drag is DragMode.NONE:
            self._update_hover_cursor(pos)
            super().mouseMoveEvent(event)
            return
        if not self._drag_started:
            moved = pos - self._drag_origin_view
            if math.hypot(moved.x(), moved.y()) < DRAG_THRESHOLD_PX:
                return
            self._drag_started = True
            self.box_item.set_editing(True)
        rect = self._dragged_rect(self.view_to_image(pos), self._drag)
        if rect is not None:
            self.box_item.set_box(rect, self._overlay.provenance if self._overlay else None)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        mode = self._drag
        if mode is DragMode.PAN:
            self._drag = DragMode.NONE
            self.viewport().setCursor(
                Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.CrossCursor
            )
            event.accept()
            return
        if mode is DragMode.NONE or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        self._drag = DragMode.NONE
        self.box_item.set_editing(False)
        if not self._drag_started:
            # a click: on the box selects it for the keyboard, elsewhere releases it
            self._set_selected(mode in (DragMode.MOVE, DragMode.RESIZE))
            event.accept()
            return
        rect = self._dragged_rect(self.view_to_image(event.position()), mode)
        # show the model's box again until the edit comes back through the controller
        if self._overlay is not None:
            self.box_item.set_box(_rect(self._overlay.box), self._overlay.provenance)
        if rect is not None and rect.width() >= 1 and rect.height() >= 1:
            box = (rect.x(), rect.y(), rect.width(), rect.height())
            if self._drag_start_box is None or QRectF(*box) != self._drag_start_box:
                kind = {DragMode.DRAW: "draw", DragMode.MOVE: "move"}.get(mode, "resize")
                self.boxEdited.emit(self._drag_index, box, kind)
        event.accept()

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        self.cursorMoved.emit(None)
        self.box_item.set_hovered(False)
        super().leaveEvent(event)

    def _scroll_by(self, delta: QPointF) -> None:
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        hbar.setValue(hbar.value() - round(delta.x()))
        vbar.setValue(vbar.value() - round(delta.y()))
        self._fit_mode = False

    def _update_hover_cursor(self, pos: QPointF) -> None:
        if self._space_held:
            return
        hit = self.hit_test(pos) if self._editable() else None
        self.box_item.set_hovered(hit is not None or self._near_box(pos))
        if isinstance(hit, int):
            shape = HANDLE_CURSORS[hit]
        elif hit == "inside":
            shape = Qt.CursorShape.SizeAllCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        self.viewport().setCursor(shape)

    def _dragged_rect(self, image_pos: QPointF, mode: DragMode) -> QRectF | None:
        return dragged_rect(
            mode, self._drag_origin_image, image_pos, self._drag_start_box, self._drag_handle
        )

    # ================================================================== keys
    def event(self, event: QEvent) -> bool:
        # Claim keys before the window's shortcuts see them: arrows while the box is selected,
        # Space while the view has focus (tap = play/pause, hold + drag = pan).
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            key = event.key()
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if self.box_selected and (
                key in ARROW_STEPS
                or key in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter)
            ):
                allowed = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
                if not (mods & ~allowed):
                    event.accept()
                    return True
            if key == Qt.Key.Key_Space and mods == Qt.KeyboardModifier.NoModifier:
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        if key == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_held = True
                self._space_panned = False
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self.box_selected and key in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._set_selected(False)
            event.accept()
            return
        if self.box_selected and key in ARROW_STEPS:
            self._nudge(event)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
            if not self._space_panned:
                self.spaceTapped.emit()
            self._space_panned = False
            event.accept()
            return
        super().keyReleaseEvent(event)

    def _nudge(self, event: QKeyEvent) -> None:
        rect = self.box_item.rect()
        if rect is None or self._displayed_index is None:
            return
        dx, dy = ARROW_STEPS[Qt.Key(event.key())]
        mods = event.modifiers()
        step = 10 if mods & Qt.KeyboardModifier.ShiftModifier else 1
        resize = bool(mods & Qt.KeyboardModifier.ControlModifier)
        box, kind = nudged_box(rect, dx * step, dy * step, resize)
        if QRectF(*box) != rect:
            self.boxEdited.emit(self._displayed_index, box, kind)

    # ==================================================================== HUD
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        if not self._hud_text:
            return
        painter.save()
        painter.resetTransform()
        font = QFont(painter.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0))
        painter.setFont(font)
        text = f"{self._hud_text}  ·  {self.zoom * 100:.0f} %"
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        height = metrics.height() + 6
        painter.fillRect(QRectF(6, 6, width, height), QColor(0, 0, 0, 150))
        overlay = self._overlay
        color = ABSENT_COLOR if overlay and overlay.absent else QColor(235, 235, 235)
        if overlay and not overlay.absent and overlay.provenance:
            color = provenance_color(overlay.provenance).lighter(120)
        painter.setPen(color)
        painter.drawText(QRectF(12, 6, width, height), Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()
