"""Navigation keys reach the frame view whatever panel widget a click left the focus in.

Driven as a person would: the engine picker is opened and an engine chosen with the mouse,
T starts a run, dock tabs are clicked. Left/Right/Home/End must then still step frames, while
a text field the annotator is typing in keeps its keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabBar

from costcore.engines import registry
from costcore.engines.registry import EngineInfo
from tests.assist_fakes import ScriptedEngine
from tests.gui_helpers import TIMEOUT_MS, key, make_image_folder, make_window, open_and_wait
from tests.test_app_tracking import folder_index

COUNT = 30


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    def make(device: str = "auto") -> ScriptedEngine:
        return ScriptedEngine(frame_to_index=folder_index)

    monkeypatch.setitem(registry._ENGINES, "scripted", EngineInfo("scripted", "test", make))
    win = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, win, make_image_folder(tmp_path / "frames", COUNT))
    yield win
    win.runner.shutdown()


def choose_engine_with_the_mouse(qtbot, window, name: str) -> None:
    combo = window.tracking_panel.engine
    QTest.mouseClick(combo, Qt.MouseButton.LeftButton)
    popup = combo.view()
    qtbot.waitUntil(popup.isVisible, timeout=TIMEOUT_MS)
    row = combo.findData(name)
    rect = popup.visualRect(popup.model().index(row, 0))
    QTest.mouseMove(popup.viewport(), rect.center())  # hovering makes the row current
    QTest.mouseClick(popup.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not popup.isVisible(), timeout=TIMEOUT_MS)
    assert window.model.engine.name == name


def steps_frames(window) -> None:
    """Right, Left, End and Home, sent to whatever has the focus, move the current frame."""
    window.navigator.go_to(5)
    key(window, Qt.Key.Key_Right)
    assert window.navigator.index == 6, f"Right was eaten by {window.focusWidget()!r}"
    key(window, Qt.Key.Key_Left)
    assert window.navigator.index == 5
    key(window, Qt.Key.Key_End)
    assert window.navigator.index == COUNT - 1
    key(window, Qt.Key.Key_Home)
    assert window.navigator.index == 0


def test_arrows_step_frames_after_choosing_an_engine_and_pressing_t(qtbot, window) -> None:
    window.model.set_box(5, (10.0, 10.0, 12.0, 8.0))
    window.navigator.go_to(5)
    choose_engine_with_the_mouse(qtbot, window, "scripted")
    key(window, Qt.Key.Key_T)  # T tracks forward, whatever has the focus
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    assert window.model.annotation.frame(6).provenance.value == "tracked"
    assert window.focusWidget() is not window.tracking_panel.weights
    steps_frames(window)


def test_arrows_step_frames_with_the_focus_in_any_panel_widget(qtbot, window) -> None:
    panel = window.tracking_panel
    for widget in (panel.weights, panel.engine, panel.device, panel.forward, panel.repropagate):
        widget.setFocus(Qt.FocusReason.MouseFocusReason)  # what a click leaves behind
        steps_frames(window)
    bar = next(b for b in window.findChildren(QTabBar) if b.count() > 1)
    review = next(i for i in range(bar.count()) if bar.tabText(i).startswith("Review"))
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(review).center())
    steps_frames(window)
    bar.setFocus(Qt.FocusReason.TabFocusReason)  # a tab bar turns tabs with Left/Right
    steps_frames(window)
    assert bar.currentIndex() == review


def test_a_text_field_being_typed_in_keeps_its_keys(qtbot, window) -> None:
    window.navigator.go_to(5)
    key(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # edit the language
    editor = window.language_panel.editor
    assert window.focusWidget() is editor
    QTest.keyClicks(editor, "a red car")
    for k in (Qt.Key.Key_Left, Qt.Key.Key_Home, Qt.Key.Key_End, Qt.Key.Key_Right):
        key(window, k)
    key(window, Qt.Key.Key_Home)
    QTest.keyClicks(editor, "X")
    assert editor.toPlainText() == "Xa red car"  # Home moved the text cursor ...
    assert window.navigator.index == 5  # ... not the frame
    spin = window.tracking_panel.count
    spin.setFocus()
    key(window, Qt.Key.Key_End)
    assert window.navigator.index == 5
