"""The frame view: exact scene <-> image mapping, zoom around the cursor, pan, handles."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.box_item import HANDLE_PX, handle_rects
from app.frame_view import MAX_ZOOM
from tests.gui_helpers import click, make_image_folder, make_window, open_and_wait


@pytest.fixture
def window(qtbot, tmp_path: Path):
    """A window showing a synthetic 64x48 image folder (no real data needed)."""
    frames = make_image_folder(tmp_path / "frames", 5)
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    yield window
    window.close()


def _wheel(view, pos: QPoint, notches: int) -> None:
    event = QWheelEvent(
        QPointF(pos),
        QPointF(view.viewport().mapToGlobal(pos)),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)


def test_zoom_keeps_the_point_under_the_cursor(window) -> None:
    view = window.view
    view.set_zoom(1.0)
    cursor = QPoint(view.viewport().width() // 3, view.viewport().height() // 3)
    before = view.view_to_image(QPointF(cursor))
    view.zoom_at(8.0, QPointF(cursor))
    assert view.zoom == pytest.approx(8.0)
    after = view.view_to_image(QPointF(cursor))
    # the image point under the cursor moves by less than half a screen pixel
    assert abs(after.x() - before.x()) <= 0.5 / 8 + 1e-9
    assert abs(after.y() - before.y()) <= 0.5 / 8 + 1e-9


def test_wheel_zoom_and_click_map_to_the_right_pixel(window) -> None:
    view = window.view
    view.set_zoom(2.0)
    view.centerOn(32, 24)
    cursor = view.mapFromScene(QPointF(20.5, 10.5))  # centre of pixel (20, 10), exact at 2x
    assert view.view_to_image(QPointF(cursor)) == QPointF(20.5, 10.5)
    _wheel(view, cursor, 4)  # 1.25 ** 4 = 2.44x
    assert view.zoom == pytest.approx(2 * 1.25**4)
    assert view.image_pixel_at(QPointF(cursor)) == (20, 10)
    view.zoom_at(8.0 / view.zoom, QPointF(cursor))  # exactly 8x around the same cursor
    assert view.zoom == pytest.approx(8.0)
    assert view.image_pixel_at(QPointF(cursor)) == (20, 10)
    # at 8x every image pixel is an 8x8 screen block: the neighbours are exactly 8 px away
    centre = view.mapFromScene(QPointF(20.5, 10.5))
    assert view.image_pixel_at(QPointF(centre + QPoint(8, 0))) == (21, 10)
    assert view.image_pixel_at(QPointF(centre + QPoint(0, -8))) == (20, 9)
    # scene coordinates are image coordinates: Qt's own mapping agrees at integer zoom
    assert view.mapToScene(centre) == QPointF(20.5, 10.5)


def test_zoom_is_clamped_to_32x(window) -> None:
    view = window.view
    view.set_zoom(1000.0)
    assert view.zoom == MAX_ZOOM


def test_middle_drag_and_space_drag_pan(qtbot, window) -> None:
    view = window.view
    view.set_zoom(4.0)
    viewport = view.viewport()
    start = QPoint(100, 100)
    before = view.view_to_image(QPointF(start))
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, QPoint(140, 120))
    QTest.mouseRelease(
        viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(140, 120)
    )
    # the image moved with the mouse: the point that was under (100, 100) is under (140, 120)
    assert view.view_to_image(QPointF(140, 120)) == before
    # Space + left drag pans too, and does not toggle playback
    view.setFocus()
    under_start = view.view_to_image(QPointF(start))
    QTest.keyPress(view, Qt.Key.Key_Space)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, QPoint(80, 90))
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(80, 90)
    )
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert view.view_to_image(QPointF(80, 90)) == under_start
    assert not window.navigator.playing
    assert window.model.annotation.frame(0).box is None  # panning drew nothing


def test_space_tap_toggles_playback(window) -> None:
    view = window.view
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Space)
    assert window.navigator.playing
    QTest.keyClick(view, Qt.Key.Key_Space)
    assert not window.navigator.playing


def test_handles_keep_their_screen_size(window) -> None:
    view = window.view
    window.model.set_box(0, (10, 10, 20, 16))
    for zoom in (1.0, 4.0, 16.0):
        view.set_zoom(zoom)
        rect = view.viewportTransform().mapRect(view.box_item.rect())
        handles = [h for h in handle_rects(rect) if h is not None]
        assert handles and all(h.width() == HANDLE_PX for h in handles)
        # the bottom-right handle is hit just outside the corner, the inside moves the box
        corner = rect.bottomRight() + QPointF(HANDLE_PX / 2, HANDLE_PX / 2)
        assert view.hit_test(corner) == 4
        assert view.hit_test(rect.center()) == "inside"


def test_fit_to_window_shows_the_whole_frame(window) -> None:
    view = window.view
    view.set_zoom(10.0)
    view.fit_to_window()
    top_left = view.image_to_view(QPointF(0, 0))
    bottom_right = view.image_to_view(QPointF(64, 48))
    assert top_left.x() >= 0 and top_left.y() >= 0
    assert bottom_right.x() <= view.viewport().width()
    assert bottom_right.y() <= view.viewport().height()


def test_magnifier_and_lock_follow_the_box(qtbot, window) -> None:
    controller, view = window.model, window.view
    controller.set_box(0, (40, 30, 4, 4))  # a tiny 4-px target
    controller.set_box(1, (10, 5, 4, 4))
    follow = window.follow_view
    assert follow.zoom > 8  # the 4-px target is drawn big in the magnifier
    centre = follow.mapToScene(follow.viewport().rect().center())
    assert abs(centre.x() - 42) <= 1 and abs(centre.y() - 32) <= 1
    view.set_zoom(8.0)
    window.actions_by_id["follow_lock"].setChecked(True)
    window.navigator.go_to(1)
    qtbot.waitUntil(lambda: view.displayed_index == 1)
    middle = view.view_to_image(QPointF(view.viewport().rect().center()))
    assert abs(middle.x() - 12) <= 1 and abs(middle.y() - 7) <= 1


def test_click_outside_releases_selection(window) -> None:
    view = window.view
    window.model.set_box(0, (10, 10, 20, 16))
    view.set_zoom(4.0)
    view.centerOn(32, 24)
    click(window, 20, 18)
    assert view.box_selected
    click(window, 50, 40)
    assert not view.box_selected
