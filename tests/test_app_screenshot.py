"""A grab of the main window with a sequence loaded is a real picture (not blank, full size)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from tests.gui_helpers import make_window, open_and_wait


def test_screenshot_of_a_loaded_sequence(qtbot, tmp_path: Path, skiing: Path) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, skiing)
    window.navigator.go_to(10)
    qtbot.waitUntil(lambda: window.view.displayed_index == 10)
    path = tmp_path / "shots" / "main_window.png"
    path.parent.mkdir()
    assert window.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() >= 1000 and image.height() >= 700
    small = image.scaled(200, 140).convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(small.constBits(), np.uint8).reshape(140, small.bytesPerLine())
    pixels = pixels[:, : 200 * 3].reshape(140, 200, 3)
    assert pixels.std() > 20  # a frame, panels and text: far from a flat colour
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500
    window.close()
