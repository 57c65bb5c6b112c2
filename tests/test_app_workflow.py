"""End-to-end annotation of a real sequence through the GUI, offscreen.

Open Crossing, draw a box with the mouse, nudge it with keys, step frames, mark a range
absent, set the language and attributes, undo/redo, export through the dialog's worker,
validate the export with costcore and re-open the session to find the same state. After every
edit the session on disk must load into the live state (what survives a kill).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QComboBox

from costcore.annotation import Provenance, load_session
from costcore.formats import has_errors, read_sequence, validate_vlsot500
from tests.gui_helpers import TIMEOUT_MS, click, drag, key, make_window, open_and_wait, wait_frame

Key = Qt.Key
Mod = Qt.KeyboardModifier


def _assert_recoverable(window) -> None:
    """What a kill right now would leave on disk loads into exactly the live state."""
    controller = window.model
    assert window.session.flush()
    on_disk = load_session(controller.session_path).annotation
    assert on_disk == controller.annotation


@pytest.mark.slow
def test_annotate_export_and_reopen(qtbot, tmp_path: Path, crossing: Path) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, crossing)
    controller, view = window.model, window.view
    annotation = controller.annotation
    assert annotation.frame_count == 120
    assert annotation.frame(0).provenance is Provenance.IMPORTED  # OTB ground truth imported
    assert controller.session_path == tmp_path / "workspace" / "Crossing" / "session.json"
    _assert_recoverable(window)

    # --- draw a box on frame 1 (exact: integer zoom, positions through mapFromScene)
    view.set_zoom(2.0)
    view.centerOn(150, 100)
    drag(window, (140, 70), (170, 130))
    frame = annotation.frame(0)
    assert tuple(frame.box) == (140, 70, 30, 60)
    assert frame.provenance is Provenance.KEYFRAME
    assert controller.assist.stack.count == 1  # a whole drag is one undo step
    assert "Draw box" in window.actions_by_id["undo"].text()
    _assert_recoverable(window)

    # --- move it by dragging its inside, resize by its bottom-right handle
    drag(window, (150, 90), (155, 95))
    assert tuple(annotation.frame(0).box) == (145, 75, 30, 60)
    assert controller.assist.stack.count == 2
    _assert_recoverable(window)

    # the bottom-right handle sits just outside the corner (175, 135): grab it there
    drag(window, (176, 136), (179, 139))
    assert tuple(annotation.frame(0).box) == (145, 75, 33, 63)
    assert controller.assist.stack.count == 3
    _assert_recoverable(window)

    # --- select it and nudge with keys (arrows move, Shift x10, Ctrl resizes)
    click(window, 160, 100)
    assert view.box_selected
    key(window, Key.Key_Right)
    key(window, Key.Key_Right, Mod.ShiftModifier)
    key(window, Key.Key_Up)
    key(window, Key.Key_Down, Mod.ControlModifier)
    assert tuple(annotation.frame(0).box) == (156, 74, 33, 64)
    assert window.navigator.index == 0  # arrows moved the box, not the frame
    assert controller.assist.stack.count == 4  # key nudges of one frame merge into one step
    _assert_recoverable(window)
    key(window, Key.Key_Escape)
    assert not view.box_selected

    # --- step frames with the keyboard
    key(window, Key.Key_Right)
    wait_frame(qtbot, window, 1)
    key(window, Key.Key_Right, Mod.ShiftModifier)
    wait_frame(qtbot, window, 11)
    key(window, Key.Key_BracketLeft)  # previous keyframe: frame 1
    wait_frame(qtbot, window, 0)

    # --- absent: a range through the controller, one frame with X
    controller.set_absent_range(19, 29, True)
    assert all(annotation.frame(i).absent for i in range(19, 30))
    _assert_recoverable(window)
    window.navigator.go_to(40)
    wait_frame(qtbot, window, 40)
    key(window, Key.Key_X)
    assert annotation.frame(40).absent
    assert window.frame_panel.absent_button.isChecked()
    _assert_recoverable(window)

    # --- language (Enter commits one undo step) and attributes
    window.language_panel.editor.setFocus()
    window.language_panel.editor.setPlainText("a pedestrian in dark clothes crossing the street")
    QTest.keyClick(window.language_panel.editor, Key.Key_Return)
    assert annotation.language == "a pedestrian in dark clothes crossing the street"
    assert window.language_panel.warning == ""
    _assert_recoverable(window)
    rows = window.attributes_panel.rows
    cm = rows[0].control
    assert isinstance(cm, QCheckBox)
    cm.setChecked(True)
    nao = rows[10].control
    assert isinstance(nao, QComboBox)
    nao.setCurrentIndex(nao.findData(1))
    assert annotation.attributes[0] == 1 and annotation.attributes[10] == 1
    _assert_recoverable(window)

    # --- proposals in a worker, one-click accept
    window.proposals.propose()
    qtbot.waitUntil(lambda: bool(window.attributes_panel.proposals), timeout=60_000)
    proposals = window.attributes_panel.proposals
    length = proposals[16]
    assert length.code == "LEN" and length.value == 0  # 120 frames: short
    differing = [p for p in proposals.values() if annotation.attributes[p.index] != p.value]
    assert differing, "Crossing's boxes and frames give at least one non-default proposal"
    chosen = differing[0]
    rows[chosen.index].accept.click()
    assert annotation.attributes[chosen.index] == chosen.value
    _assert_recoverable(window)

    # --- undo / redo with the keyboard
    view.setFocus()
    before = annotation.to_dict()
    key(window, Key.Key_Z, Mod.ControlModifier)
    assert annotation.to_dict() != before
    key(window, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
    assert annotation.to_dict() == before
    key(window, Key.Key_Z, Mod.ControlModifier)
    key(window, Key.Key_Y, Mod.ControlModifier)
    assert annotation.to_dict() == before
    _assert_recoverable(window)
    qtbot.waitUntil(lambda: not window.session.is_dirty, timeout=TIMEOUT_MS)
    assert "•" not in window.windowTitle()

    # --- export VL-SOT270 through the dialog and its worker
    dialog = window.commands.export_dialog()
    dialog.parent_edit.setText(str(tmp_path / "exports"))
    dialog.subset_270.setChecked(True)
    assert not [i for i in dialog.issues if i.severity == "error"], dialog.issues
    assert dialog.start_export(confirm_warnings=True)
    qtbot.waitUntil(lambda: dialog.outcome is not None or bool(dialog.job.error), timeout=60_000)
    assert dialog.outcome is not None, dialog.job.error
    exported = tmp_path / "exports" / "Crossing"
    assert dialog.outcome.destination == exported
    issues = validate_vlsot500(exported)
    assert not has_errors(issues), issues
    assert (exported / "relative_speed.txt").is_file()
    sequence = read_sequence(exported)
    assert sequence.frame_count == 120
    assert sequence.language == annotation.language
    assert list(sequence.attributes) == annotation.attributes
    assert list(sequence.boxes[0]) == [156, 74, 33, 64]
    assert list(sequence.absent.nonzero()[0]) == [*range(19, 30), 40]
    dialog.close()

    # --- close, re-open: the same state comes back (resume the session)
    state = annotation.to_dict()
    window.close()
    again = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, again, crossing, resume=True)
    assert again.model.annotation.to_dict() == state
    assert again.navigator.index == 40  # the frame we were on
    again.close()


def test_export_blocked_by_errors(qtbot, tmp_path: Path, skiing: Path) -> None:
    """Errors found before writing (no language) block the export; nothing is written."""
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, skiing)
    dialog = window.commands.export_dialog()
    dialog.parent_edit.setText(str(tmp_path / "out"))
    messages = [i.message for i in dialog.issues if i.severity == "error"]
    assert any("language" in m for m in messages)
    assert not dialog.export_button.isEnabled()
    assert not dialog.start_export(confirm_warnings=True)
    assert not (tmp_path / "out").exists()
    dialog.close()
    window.close()
