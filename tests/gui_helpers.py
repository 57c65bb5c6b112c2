"""Helpers for the GUI tests: a window with throw-away settings, exact mouse input, key presses.

Every window uses an INI file and a workspace under ``tmp_path``, never the user's settings.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from app.main_window import MainWindow
from app.settings import AppSettings

TIMEOUT_MS = 15_000


def make_window(qtbot, tmp_path: Path, name: str = "settings.ini") -> MainWindow:
    """A shown, active main window whose settings and workspace live in ``tmp_path``."""
    window = MainWindow(AppSettings(tmp_path / name), workspace=tmp_path / "workspace")
    window.show_error = window.errors.append  # never a modal box in tests
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)
    return window


def open_and_wait(qtbot, window: MainWindow, path: Path, resume: bool = True) -> None:
    """Open ``path`` and wait until its first frame is on screen."""
    window.session.ask_resume = lambda result: resume
    with qtbot.waitSignal(window.firstFrameShown, timeout=TIMEOUT_MS):
        window.open_path(path)
    assert window.errors == []


def wait_frame(qtbot, window: MainWindow, index: int) -> None:
    """Wait until frame ``index`` is the current frame *and* on screen."""
    qtbot.waitUntil(
        lambda: window.navigator.index == index and window.view.displayed_index == index,
        timeout=TIMEOUT_MS,
    )


def view_pos(window: MainWindow, x: float, y: float) -> QPoint:
    """Viewport position of image point ``(x, y)``; exact when the zoom is an integer."""
    point = window.view.mapFromScene(QPointF(x, y))
    back = window.view.view_to_image(QPointF(point))
    assert abs(back.x() - x) < 1e-9 and abs(back.y() - y) < 1e-9, "choose an integer zoom"
    return point


def drag(window: MainWindow, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Left-drag on the frame view between two image points, in several moves."""
    viewport = window.view.viewport()
    a, b = view_pos(window, *start), view_pos(window, *end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for t in (0.25, 0.5, 0.75, 1.0):
        step = QPoint(round(a.x() + (b.x() - a.x()) * t), round(a.y() + (b.y() - a.y()) * t))
        QTest.mouseMove(viewport, step)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def click(window: MainWindow, x: float, y: float) -> None:
    viewport = window.view.viewport()
    QTest.mouseClick(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_pos(window, x, y)
    )


def key(window: MainWindow, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press as a person makes it: to the focused widget, shortcuts included."""
    target = window.focusWidget() or window.view
    QTest.keyClick(target, key, modifiers)


def make_image_folder(folder: Path, count: int, size: tuple[int, int] = (64, 48)) -> Path:
    """A plain image folder of ``count`` small PNG frames, each with its number encoded."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    for i in range(count):
        image = np.full((height, width, 3), (i * 7) % 256, dtype=np.uint8)
        image[:, : 1 + i % width] = 255
        cv2.imwrite(str(folder / f"{i + 1:05d}.png"), image)
    return folder
