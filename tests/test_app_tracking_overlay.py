"""The confidence-map overlay lands exactly on the frame pixels its search region covers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from app.colors import GHOST_NEXT, GHOST_PREVIOUS
from costcore.assist.plan import Extent
from costcore.engines import registry
from costcore.engines.registry import EngineInfo
from tests.assist_fakes import ScriptedEngine
from tests.gui_helpers import (
    TIMEOUT_MS,
    key,
    make_image_folder,
    make_window,
    open_and_wait,
    wait_frame,
)
from tests.test_app_tracking import folder_index

WIDTH, HEIGHT = 64, 48


def render(window) -> QImage:
    """The scene at 1 image pixel = 1 output pixel (without the box, drawn over the map)."""
    window.view.box_item.setVisible(False)
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0))
    painter = QPainter(image)
    window.view.scene().render(painter, QRectF(0, 0, WIDTH, HEIGHT), QRectF(0, 0, WIDTH, HEIGHT))
    painter.end()
    window.view.box_item.setVisible(True)
    return image


@pytest.fixture
def hot_map() -> np.ndarray:
    values = np.zeros((3, 4), dtype=np.float32)  # 3 rows x 4 columns
    values[1, 2] = 1.0
    return values


def test_a_single_hot_cell_lands_on_its_frame_pixels(qtbot, tmp_path, monkeypatch, hot_map) -> None:
    def make(device: str = "auto") -> ScriptedEngine:
        return ScriptedEngine(score_map=hot_map, frame_to_index=folder_index)

    monkeypatch.setitem(registry._ENGINES, "scripted", EngineInfo("scripted", "test", make))
    window = make_window(qtbot, tmp_path)
    window.model.set_engine("scripted")
    open_and_wait(qtbot, window, make_image_folder(tmp_path / "frames", 6, (WIDTH, HEIGHT)))
    window.actions_by_id["ghosts"].setChecked(False)
    window.model.set_box(0, (10.0, 10.0, 12.0, 8.0))
    assert window.model.track(start=0, extent=Extent.END)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    window.navigator.go_to(1)
    wait_frame(qtbot, window, 1)
    assert not window.view.score_map_item.has_map()  # the overlay starts off ...
    key(window, Qt.Key.Key_M)  # ... and M shows it

    # frame 1: box (12, 10, 12, 8); the engine's search region is 3x the box around it:
    # (0, 2, 36, 24), so the 3x4 map has 9x8-pixel cells; cell (1, 2) covers x 18..26, y 10..17
    item = window.view.score_map_item
    assert item.has_map() and item.region() == QRectF(0, 2, 36, 24)
    stored = window.model.score_map(1)
    assert stored.data[1, 2] == 255 and stored.cell_rect(1, 2) == (18, 10, 9, 8)

    shown = render(window)
    window.actions_by_id["score_map"].setChecked(False)  # M toggles it
    assert not item.has_map()
    plain = render(window)

    def changed(x: int, y: int) -> bool:
        return shown.pixelColor(x, y) != plain.pixelColor(x, y)

    hot = shown.pixelColor(22, 16)
    assert hot.red() > 150 and hot.green() > 120 and hot.blue() < 90  # yellow-orange
    cold = shown.pixelColor(31, 16)  # cell (1, 3): score 0, faint blue
    assert cold.blue() > cold.red() and cold.red() < 60
    for x, y in ((18, 10), (26, 10), (18, 17), (26, 17)):  # the hot cell's corner pixels
        assert shown.pixelColor(x, y).red() > 150, (x, y)
    for x, y in ((17, 13), (27, 13), (22, 9), (22, 18)):  # just outside it
        assert shown.pixelColor(x, y).red() < 120, (x, y)
    assert not changed(50, 40) and not changed(40, 3)  # outside the search region: untouched
    assert changed(5, 20) and not changed(5, 27)  # a cold cell is tinted; below: untouched

    key(window, Qt.Key.Key_M)
    assert window.actions_by_id["score_map"].isChecked() and item.has_map()
    window.navigator.go_to(0)  # the keyframe has no map
    wait_frame(qtbot, window, 0)
    assert not item.has_map()
    window.runner.shutdown()


def test_cost_weights_are_remembered_and_its_score_maps_are_kept(qtbot, tmp_path) -> None:
    pytest.importorskip("torch")
    from costcore.model import save_checkpoint
    from costcore.model.testing import tiny_model

    weights = save_checkpoint(tiny_model(tmp_path / "vocab"), tmp_path / "tiny-cost")
    window = make_window(qtbot, tmp_path)
    c, t = window.model, window.runner
    window.tracking_panel._set_weights(str(weights))  # what the "…" menu does
    assert c.engine.name == "cost" and c.engine.current_weights() == str(weights)
    open_and_wait(qtbot, window, make_image_folder(tmp_path / "frames", 5, (WIDTH, HEIGHT)))
    window.model.set_language("a small white car")
    window.model.set_box(0, (20.0, 15.0, 16.0, 12.0))
    assert c.track(start=0, extent=Extent.END)
    qtbot.waitUntil(lambda: not t.busy, timeout=TIMEOUT_MS * 2)
    annotation = window.model.annotation
    assert [annotation.frame(i).engine for i in range(1, 5)] == ["cost"] * 4
    assert all(annotation.frame(i).score is not None for i in range(1, 5))
    assert all(c.score_map(i) is not None for i in range(1, 5))
    assert "cost · CPU" in window.engine_label.text()
    window.navigator.go_to(2)
    wait_frame(qtbot, window, 2)
    window.actions_by_id["score_map"].setChecked(True)
    assert window.view.score_map_item.has_map()
    assert window.view.score_map_item.region() == QRectF(*c.score_map(2).region)
    window.close()
    again = make_window(qtbot, tmp_path)  # the same settings file: the choice is remembered
    engine = again.model.engine
    assert engine.current_weights() == str(weights) and engine.name == "cost"
    assert again.tracking_panel.engine.currentData() == "cost"


def _black_folder(folder, count: int):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"{i + 1:05d}.png"), np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    return folder


def _edge_colours(image: QImage, box, scale: int, edges: str) -> list[QColor]:
    """The pixels along some edges of ``box`` (``"lrtb"``: left, right, top, bottom) in a
    render at ``scale``; the centre trail crosses the other edges in the other colour."""
    x, y, w, h = (round(v * scale) for v in box)
    points = []
    if "l" in edges or "r" in edges:
        xs = [x] * ("l" in edges) + [x + w] * ("r" in edges)
        points += [(xx, y + j) for j in range(2, h - 1) for xx in xs]
    if "t" in edges or "b" in edges:
        ys = [y] * ("t" in edges) + [y + h] * ("b" in edges)
        points += [(x + i, yy) for i in range(2, w - 1) for yy in ys]
    return [image.pixelColor(px, py) for px, py in points]


def _shows(colours: list[QColor], ghost: QColor) -> bool:
    """Whether some pixel has the ghost colour's hue: the faint pens blend into black."""
    for colour in colours:
        if colour.value() < 60:
            continue
        ratio = [c / max(colour.value(), 1) for c in (colour.red(), colour.green(), colour.blue())]
        target = [c / ghost.value() for c in (ghost.red(), ghost.green(), ghost.blue())]
        if max(abs(a - b) for a, b in zip(ratio, target, strict=True)) < 0.15:
            return True
    return False


def test_ghosts_show_the_previous_frame_dashed_pink_and_the_next_dotted_blue(
    qtbot, tmp_path
) -> None:
    """G's ghosts: frame i-1's box in the 'previous' colour, frame i+1's in the 'next' one.

    Swapping the two (in the controller's overlay or in the item that paints it) would show
    where the target *will* be as where it *was*; the render catches either swap.
    """
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, _black_folder(tmp_path / "black", 5))
    c = window.model
    before, current, after = (4.0, 6.0, 10.0, 8.0), (26.0, 6.0, 10.0, 8.0), (48.0, 30.0, 10.0, 8.0)
    for index, box in ((1, before), (2, current), (3, after)):
        c.set_box(index, box)
    window.navigator.go_to(2)
    wait_frame(qtbot, window, 2)
    overlay = window.view.overlay
    assert overlay.previous == before and overlay.next == after

    scale = 4
    window.view.box_item.setVisible(False)
    image = QImage(WIDTH * scale, HEIGHT * scale, QImage.Format.Format_ARGB32)
    image.fill(QColor(0, 0, 0))
    painter = QPainter(image)
    window.view.scene().render(
        painter, QRectF(0, 0, WIDTH * scale, HEIGHT * scale), QRectF(0, 0, WIDTH, HEIGHT)
    )
    painter.end()
    window.view.box_item.setVisible(True)
    assert GHOST_PREVIOUS != GHOST_NEXT
    # the trail leaves the earlier box through its right edge, enters the later one at its top
    previous_edges = _edge_colours(image, before, scale, "ltb")
    next_edges = _edge_colours(image, after, scale, "rb")
    assert _shows(previous_edges, GHOST_PREVIOUS) and not _shows(previous_edges, GHOST_NEXT)
    assert _shows(next_edges, GHOST_NEXT) and not _shows(next_edges, GHOST_PREVIOUS)

    key(window, Qt.Key.Key_G)  # G hides them
    assert not window.view.ghosts_visible()
    image.fill(QColor(0, 0, 0))
    painter = QPainter(image)
    window.view.scene().render(
        painter, QRectF(0, 0, WIDTH * scale, HEIGHT * scale), QRectF(0, 0, WIDTH, HEIGHT)
    )
    painter.end()
    assert not _shows(_edge_colours(image, before, scale, "ltb"), GHOST_PREVIOUS)
