"""Killing the app during a re-propagation: on reopening, the frames the run had not reached
are flagged as stale and the annotator is told (a real SIGKILL of a real app process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from costcore.annotation import Provenance
from costcore.assist.flags import FlagReason
from costcore.engines import registry
from costcore.engines.registry import EngineInfo
from tests.assist_fakes import ScriptedEngine
from tests.gui_helpers import TIMEOUT_MS, key, make_image_folder, make_window, open_and_wait
from tests.test_app_tracking import folder_index

ROOT = Path(__file__).resolve().parents[1]
COUNT = 40

#: the app in a process of its own: track 1..39, correct frame 11, and die by SIGKILL once
#: the re-propagation has rewritten frame 16 (and that is on disk)
APP = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from app.main_window import MainWindow
    from app.settings import AppSettings
    from costcore.assist.plan import Extent
    from costcore.engines import registry
    from costcore.engines.registry import EngineInfo
    from tests.assist_fakes import ScriptedEngine
    from tests.test_app_tracking import folder_index

    tmp = Path(sys.argv[1])
    make = lambda device="auto": ScriptedEngine(frame_to_index=folder_index, delay=0.04)
    registry._ENGINES["scripted"] = EngineInfo("scripted", "test", make)
    app = QApplication([])
    window = MainWindow(AppSettings(tmp / "app.ini"), workspace=tmp / "workspace")
    window.model.set_engine("scripted")
    c, t = window.model, window.runner

    def first_run():
        c.set_box(0, (10.0, 10.0, 12.0, 8.0))
        c.track(start=0, extent=Extent.END)
        QTimer.singleShot(50, correct)

    def correct():
        if t.busy:
            QTimer.singleShot(50, correct)
            return
        window.session.flush()
        c.set_box(10, (20.0, 14.0, 12.0, 8.0))  # a correction: re-propagates 12..40
        QTimer.singleShot(50, kill_when_half_done)

    def kill_when_half_done():
        box = c.annotation.frame(15).box
        if box is None or box.y != 14.0:  # frame 16 not re-tracked yet
            QTimer.singleShot(10, kill_when_half_done)
            return
        window.session.flush()
        print("killing", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    window.firstFrameShown.connect(lambda: QTimer.singleShot(0, first_run))
    window.open_path(tmp / "frames")
    app.exec()
    """
)


@pytest.fixture
def scripted(monkeypatch):
    made = lambda device="auto": ScriptedEngine(frame_to_index=folder_index)  # noqa: E731
    monkeypatch.setitem(registry._ENGINES, "scripted", EngineInfo("scripted", "test", made))


def test_frames_a_killed_repropagation_did_not_reach_are_marked_stale(
    qtbot, tmp_path: Path, scripted
) -> None:
    frames = make_image_folder(tmp_path / "frames", COUNT)
    script = tmp_path / "annotate_then_die.py"
    script.write_text(APP)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert "killing" in done.stdout

    window = make_window(qtbot, tmp_path, "again.ini")
    window.model.set_engine("scripted")
    window.session.ask_resume = lambda result: True
    with qtbot.waitSignal(window.firstFrameShown, timeout=TIMEOUT_MS):
        window.open_path(frames)
    annotation = window.model.annotation
    assert annotation.frame(10).provenance is Provenance.KEYFRAME
    redone = [i for i in range(11, COUNT) if annotation.frame(i).box.y == 14.0]
    older = [i for i in range(11, COUNT) if annotation.frame(i).box.y == 10.0]
    assert redone and older and max(redone) < min(older)  # the run stopped part-way
    qtbot.waitUntil(lambda: bool(window.model.assist.flags), timeout=TIMEOUT_MS)
    stale = [f.index for f in window.model.assist.flags if FlagReason.STALE in f.reasons]
    # exactly the frames the run did not reach (the last frame's flag asks for a keyframe)
    assert stale == [i for i in older if i != COUNT - 1]
    assert {f.index for f in window.model.assist.flags} >= set(older)
    said = window.errors  # a message box, not only the status bar
    assert len(said) == 1 and "stale" in said[0] and f"frames {older[0] + 1}–" in said[0]
    assert window.nav_bar.strip.flag_color(older[0]) is not None  # on the timeline too
    box = QApplication.activeModalWidget()  # the warning has the focus: a person reads it
    assert isinstance(box, QMessageBox) and "stale" in box.text()
    box.accept()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)
    window.view.setFocus()
    window.navigator.go_to(max(redone))
    key(window, Qt.Key.Key_N)  # the review walks there
    assert window.navigator.index == older[0]
    # re-running the segment clears the marks
    c, t = window.model, window.runner
    assert c.fill_segment(older[0]) or c.track(start=10, extent="next_keyframe")
    qtbot.waitUntil(lambda: not t.busy, timeout=TIMEOUT_MS)
    assert not [f for f in c.assist.flags if FlagReason.STALE in f.reasons]
    window.close()
    # and a clean end leaves no record behind: nothing is stale on the next open
    again = make_window(qtbot, tmp_path, "third.ini")
    open_and_wait(qtbot, again, frames)
    assert not [f for f in again.model.assist.flags if FlagReason.STALE in f.reasons]
    again.close()
