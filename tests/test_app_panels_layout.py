"""What a new user saw in the panels: the frame counter, the confidence-map key, the plots'
size, docks that jump, and an evaluation that could not be stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from costcore.engines import registry
from costcore.engines.registry import EngineInfo
from tests.assist_fakes import ScriptedEngine
from tests.gui_helpers import TIMEOUT_MS, key, make_image_folder, make_window, open_and_wait
from tests.test_app_tracking import folder_index

COUNT = 40
BOX = (10.0, 10.0, 12.0, 8.0)


class Engines:
    def __init__(self) -> None:
        self.options: dict[str, object] = {}

    def __call__(self, device: str = "auto") -> ScriptedEngine:
        return ScriptedEngine(frame_to_index=folder_index, **self.options)


@pytest.fixture
def engines(monkeypatch) -> Engines:
    made = Engines()
    monkeypatch.setitem(registry._ENGINES, "scripted", EngineInfo("scripted", "test", made))
    return made


@pytest.fixture
def window(qtbot, tmp_path: Path, engines):
    win = make_window(qtbot, tmp_path)
    win.model.set_engine("scripted")
    open_and_wait(qtbot, win, make_image_folder(tmp_path / "frames", COUNT))
    yield win
    win.runner.shutdown()


def test_the_frame_counter_counts_absent_frames_once(qtbot, window) -> None:
    c = window.model
    c.set_box(0, BOX)
    assert window.model.track(start=0, extent=window.tracking_panel.extent_choice()[0])
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    c.set_absent_range(10, 14)  # 5 tracked frames become absent
    window.navigator.go_to(20)
    key(window, Qt.Key.Key_X)  # and one more, by key
    qtbot.waitUntil(
        lambda: window.frame_panel.summary.text() == "1 keyframe · 33 tracked · 6 absent",
        timeout=TIMEOUT_MS,
    )


def test_the_confidence_map_starts_off_and_the_first_m_says_why_nothing_shows(
    qtbot, window
) -> None:
    action = window.actions_by_id["score_map"]
    assert not action.isChecked()  # nothing to show before any run: off
    window.model.set_box(0, BOX)
    window.navigator.go_to(0)
    key(window, Qt.Key.Key_M)  # the first press turns it on ...
    assert action.isChecked()
    message = window.statusBar().currentMessage()
    assert "no confidence map" in message.lower()  # ... and says why there is nothing to see
    key(window, Qt.Key.Key_M)
    assert not action.isChecked()


def test_an_evaluation_can_be_cancelled(qtbot, window, engines) -> None:
    engines.options = {"delay": 0.05}  # 40 frames: two seconds
    c, t = window.model, window.runner
    for i in range(COUNT):
        c.set_box(i, (10.0 + 2 * i, 10.0, 12.0, 8.0))
    button = window.tracking_panel.evaluate
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: t.evaluating, timeout=TIMEOUT_MS)
    assert button.isEnabled() and "cancel" in button.text().lower()
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)  # the same button cancels
    qtbot.waitUntil(lambda: not t.evaluating, timeout=TIMEOUT_MS)
    assert t.evaluation is None
    assert "cancelled" in window.tracking_panel.metrics.text().lower()
    assert "cancel" not in button.text().lower() and button.isEnabled()
    # Esc cancels an evaluation too
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: t.evaluating, timeout=TIMEOUT_MS)
    window.view.setFocus()
    key(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not t.evaluating, timeout=TIMEOUT_MS)
    assert t.evaluation is None


def test_the_timeline_plots_keep_a_usable_height_and_separate_labels(qtbot, window) -> None:
    plots = window.plots

    def check() -> None:
        rects = {k: p.vb.sceneBoundingRect() for k, p in plots.plots.items()}
        labels = {k: plots.labels[k].sceneBoundingRect() for k in plots.plots}
        for k, rect in rects.items():
            assert rect.height() >= 56, f"{k} plot is {rect.height():.0f} px tall"
            assert rect.contains(labels[k]), f"{k} label sticks out of its plot"
            assert labels[k].height() <= rect.height() / 2
        keys = list(labels)
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                assert not labels[a].intersects(labels[b]), (a, b)

    qtbot.waitUntil(lambda: plots.plots["iou"].vb.sceneBoundingRect().height() > 0)
    check()
    # a person drags the dock small: the plots scroll rather than squash
    window.resizeDocks([window.docks["plots"]], [90], Qt.Orientation.Vertical)
    qtbot.wait(50)
    check()


def test_docks_stay_put_when_a_run_shows_its_progress(qtbot, window, engines) -> None:
    engines.options = {"delay": 0.03}
    window.model.set_box(0, BOX)
    qtbot.wait(100)

    def geometry() -> dict[str, object]:
        shapes = {k: d.geometry() for k, d in window.docks.items() if d.isVisible()}
        shapes["view"] = window.view.geometry()
        panel = window.tracking_panel
        shapes["evaluate"] = panel.evaluate.geometry()
        return shapes

    before = geometry()
    c, t = window.model, window.runner
    assert c.track(start=0, extent=window.tracking_panel.extent_choice()[0])
    qtbot.waitUntil(lambda: window.tracking_panel.progress.isVisible(), timeout=TIMEOUT_MS)
    qtbot.wait(100)  # layouts settle on the next turns of the event loop
    assert geometry() == before
    qtbot.waitUntil(lambda: not t.busy, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    assert geometry() == before
    window.tracking_panel.show_note("Evaluating… 3/40")  # the evaluation's note line too
    qtbot.wait(100)
    assert geometry() == before
