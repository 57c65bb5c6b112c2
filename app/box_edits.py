"""What a drag or a key does to the box, and the frame's heads-up line: pure geometry the frame
view applies (kept out of the widget so it can be read, and tested, on its own)."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QPointF, QRectF, Qt

from app.box_item import HANDLE_EDGES
from costcore.annotator.overlay import FrameOverlay


class DragMode(Enum):
    NONE = 0
    DRAW = 1
    MOVE = 2
    RESIZE = 3
    PAN = 4


#: the step of each arrow key while the box is selected (Shift: 10 px; Ctrl: resize)
ARROW_STEPS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


def dragged_rect(
    mode: DragMode,
    origin: QPointF,
    image_pos: QPointF,
    start: QRectF | None,
    handle: int | str | None,
) -> QRectF | None:
    """The box a drag in ``mode`` from ``origin`` to ``image_pos`` proposes (``start`` is the
    box when the drag began, ``handle`` the grabbed handle); edges snap to whole pixels."""
    if mode is DragMode.DRAW:
        left, right = sorted((round(origin.x()), round(image_pos.x())))
        top, bottom = sorted((round(origin.y()), round(image_pos.y())))
        return QRectF(left, top, right - left, bottom - top)
    if start is None:
        return None
    dx = round(image_pos.x() - origin.x())
    dy = round(image_pos.y() - origin.y())
    if mode is DragMode.MOVE:
        return start.translated(dx, dy)
    if mode is DragMode.RESIZE:
        # the grabbed edges follow the cursor's displacement (grabbing a handle a few pixels
        # off the corner must not make the edge jump)
        move_left, move_top, move_right, move_bottom = HANDLE_EDGES[handle]
        left, top, right, bottom = start.left(), start.top(), start.right(), start.bottom()
        if move_left:
            left = min(left + dx, right - 1)
        if move_right:
            right = max(right + dx, left + 1)
        if move_top:
            top = min(top + dy, bottom - 1)
        if move_bottom:
            bottom = max(bottom + dy, top + 1)
        return QRectF(left, top, right - left, bottom - top)
    return None


def nudged_box(
    rect: QRectF, dx: float, dy: float, resize: bool
) -> tuple[tuple[float, float, float, float], str]:
    """The box after an arrow key: moved by (dx, dy), or with ``resize`` its right and bottom
    edges moved (at least 1 px wide and high); and the edit's kind."""
    if resize:
        width = max(1.0, rect.width() + dx)
        height = max(1.0, rect.height() + dy)
        return (rect.x(), rect.y(), width, height), "size"
    return (rect.x() + dx, rect.y() + dy, rect.width(), rect.height()), "nudge"


def hud_text(overlay: FrameOverlay) -> str:
    """The line over the frame: its number, what its box is, and its flag."""
    parts = [f"frame {overlay.index + 1}"]
    if overlay.absent:
        parts.append("target absent")
    elif overlay.provenance:
        parts.append(overlay.provenance)
    else:
        parts.append("not annotated")
    if overlay.flag:
        parts.append(f"⚑ {overlay.flag}")
    if overlay.proposal is not None:
        parts.append("proposed box: Ctrl+Enter accepts")
    return "  ·  ".join(parts)
