"""Autosave, kill-and-recover, resuming, session files, settings and the export worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.settings import AppSettings
from costcore.annotation import Provenance, load_session
from tests.gui_helpers import TIMEOUT_MS, make_image_folder, make_window, open_and_wait


@pytest.fixture
def frames(tmp_path: Path) -> Path:
    return make_image_folder(tmp_path / "clip", 12)


def _on_disk(window):
    assert window.session.flush()
    return load_session(window.model.session_path).annotation


def test_every_edit_is_on_disk_at_once(qtbot, tmp_path: Path, frames: Path) -> None:
    """A kill after any edit loses nothing: the file on disk always loads into the live state."""
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    c = window.model
    live = c.annotation
    assert c.session_path == tmp_path / "workspace" / "clip" / "session.json"
    edits = [
        lambda: c.set_box(0, (1, 2, 10, 8), "draw"),
        lambda: c.set_box(0, (2, 2, 10, 8), "nudge"),
        lambda: c.set_box(0, (3, 2, 10, 8), "nudge"),
        lambda: c.set_box(3, (5, 5, 4, 4), "draw"),
        lambda: c.toggle_absent(4),
        lambda: c.set_absent_range(6, 9, True),
        lambda: c.set_absent_range(8, 9, False),
        lambda: c.verify([3]),
        lambda: c.clear_frames([3]),
        lambda: c.set_language("the bright bar on the left"),
        lambda: c.set_attribute(0, 1),
        lambda: c.set_attributes([1] * 12 + [2, 0, 0, 0, 1]),
        c.undo,
        c.undo,
        c.redo,
    ]
    for edit in edits:
        edit()
        assert _on_disk(window) == live
    # the title says saved once the writer has caught up
    qtbot.waitUntil(lambda: not window.session.is_dirty, timeout=TIMEOUT_MS)
    assert "•" not in window.windowTitle()
    c.set_box(1, (1, 1, 3, 3))
    assert window.session.is_dirty and "•" in window.windowTitle()  # until the next event-loop turn
    qtbot.waitUntil(lambda: not window.session.is_dirty, timeout=TIMEOUT_MS)
    assert _on_disk(window) == live
    window.close()


def test_reopen_offers_to_resume_or_start_over(qtbot, tmp_path: Path, frames: Path) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    window.model.set_box(2, (4, 4, 8, 8))
    window.navigator.go_to(2)
    state = window.model.annotation.to_dict()
    window.close()

    asked = []
    resumed = make_window(qtbot, tmp_path)
    resumed.session.ask_resume = lambda result: asked.append(result) or True
    with qtbot.waitSignal(resumed.firstFrameShown, timeout=TIMEOUT_MS):
        resumed.open_path(frames)
    assert len(asked) == 1 and asked[0].existing is not None
    assert resumed.model.annotation.to_dict() == state
    assert resumed.navigator.index == 2
    resumed.close()

    fresh = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, fresh, frames, resume=False)
    assert fresh.model.annotation.frame(2).box is None
    kept = sorted(p.name for p in (tmp_path / "workspace" / "clip").glob("session.*-*.json"))
    assert kept, "starting over keeps the old session under a dated name"
    fresh.close()


def test_damaged_session_recovers_from_backup(qtbot, tmp_path: Path, frames: Path) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    window.model.set_box(0, (1, 1, 5, 5))
    window.session.flush()
    window.model.set_box(1, (2, 2, 5, 5))
    window.close()
    session = tmp_path / "workspace" / "clip" / "session.json"
    session.write_text("{ torn write")  # what a crash outside our control could leave
    again = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, again, frames, resume=True)
    assert again.model.annotation.frame(0).box is not None  # from session.json.bak
    again.close()


def test_open_a_session_file_directly(qtbot, tmp_path: Path, frames: Path) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    window.model.set_box(5, (3, 3, 6, 6))
    session = window.model.session_path
    window.close()
    document = json.loads(session.read_text())
    assert document["frames"][5][0] == "keyframe"
    other = make_window(qtbot, tmp_path, "other.ini")
    open_and_wait(qtbot, other, session)
    assert other.model.annotation.frame(5).provenance is Provenance.KEYFRAME
    assert other.model.session_path == session
    other.close()


def test_settings_are_remembered_in_the_given_file(qtbot, tmp_path: Path, frames: Path) -> None:
    window = make_window(qtbot, tmp_path)
    assert window.settings.theme == "dark"
    window.commands.set_theme("light")
    open_and_wait(qtbot, window, frames)
    window.close()
    settings = AppSettings(tmp_path / "settings.ini")
    assert settings.theme == "light"
    assert settings.recent_files[0] == str(frames.resolve())
    assert (tmp_path / "settings.ini").is_file()
    window2 = make_window(qtbot, tmp_path)
    window2.commands.set_theme("dark")
    window2.close()


def test_export_cancel_leaves_nothing(qtbot, tmp_path: Path, frames: Path) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    c = window.model
    for i in range(12):
        c.set_box(i, (1, 1, 5, 5))
    c.set_language("the bar")
    dialog = window.commands.export_dialog()
    dialog.parent_edit.setText(str(tmp_path / "out"))
    dialog.cancel_export()  # nothing running yet: harmless
    assert dialog.start_export(confirm_warnings=True)
    dialog.cancel_export()
    qtbot.waitUntil(lambda: dialog.job.done, timeout=TIMEOUT_MS)
    if dialog.job.was_cancelled:
        assert not (tmp_path / "out" / "clip").exists()
        assert list((tmp_path / "out").glob("*")) == []  # no temporary folder left behind
        assert "cancelled" in dialog.result_label.text()
    else:  # the 12 tiny frames were written before the cancel arrived: still a valid export
        assert dialog.outcome is not None and not dialog.outcome.issues
    # an existing export is only replaced when the annotator agrees
    dialog.confirm = lambda title, text: False
    if (tmp_path / "out" / "clip").exists():
        assert not dialog.start_export(confirm_warnings=True)
    dialog.close()
    window.close()


def test_open_a_video_file(qtbot, tmp_path: Path) -> None:
    """A video file opens (indexed in the worker) and gets its own session."""
    import cv2
    import numpy as np

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48))
    for i in range(15):
        writer.write(np.full((48, 64, 3), 10 * i, np.uint8))
    writer.release()
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, path)
    assert window.model.frame_count == 15
    assert window.navigator.fps == 25.0
    assert window.model.session_path == tmp_path / "workspace" / "clip" / "session.json"
    window.navigator.go_to(14)
    qtbot.waitUntil(lambda: window.view.displayed_index == 14)
    window.close()


def test_opening_a_damaged_video_says_so(qtbot, tmp_path: Path) -> None:
    """A video cut in half opens with the frames that decode, and the status bar says which
    are missing (it used to open silently short)."""
    import cv2
    import numpy as np

    full = tmp_path / "full.mkv"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48))
    if not writer.isOpened():
        pytest.skip("OpenCV cannot write MJPG in MKV here")
    rng = np.random.default_rng(0)
    for _ in range(40):
        writer.write(rng.integers(0, 256, (48, 64, 3), np.uint8))
    writer.release()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, cut)
    decodable = window.model.frame_count
    assert 5 < decodable < 30
    shown = window.statusBar().currentMessage()
    assert "cut.mkv: the video is damaged" in shown
    assert f"only {decodable} of its 40 frames" in shown and f"frames {decodable + 1}-40" in shown
    window.close()


def test_command_line_screenshot(tmp_path: Path) -> None:
    """``python main.py PATH --screenshot FILE`` opens PATH, grabs the window and quits."""
    import os
    import subprocess
    import sys

    frames = make_image_folder(tmp_path / "seq", 6)
    shot = tmp_path / "shot.png"
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, str(root / "main.py"), str(frames), "--screenshot", str(shot),
         "--settings", str(tmp_path / "cli.ini"), "--workspace", str(tmp_path / "ws"),
         "--frame", "3", "--size", "900x600"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert (tmp_path / "ws" / "seq" / "session.json").is_file()


def test_per_frame_actions_and_help_sheet(qtbot, tmp_path: Path, frames: Path) -> None:
    """V verifies, X toggles absent, Delete clears, the range dialog marks; F1 lists every key."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTextBrowser

    from app.actions import ACTIONS
    from app.panels.frame_info_panel import AbsentRangeDialog
    from costcore.annotation import FrameAnnotation, SetFrames
    from tests.gui_helpers import key

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    c = window.model
    tracked = FrameAnnotation((2, 2, 5, 5), provenance=Provenance.TRACKED, score=0.9, engine="csrt")
    c.push(SetFrames([(0, tracked)], text="Track"))
    window.view.setFocus()
    assert "tracked" in window.frame_panel.provenance.text()
    key(window, Qt.Key.Key_V)
    assert c.annotation.frame(0).provenance is Provenance.VERIFIED
    assert "verified" in window.frame_panel.provenance.text()
    assert window.nav_bar.strip._kinds[0] == "verified"  # the timeline recoloured that frame
    key(window, Qt.Key.Key_X)
    assert c.annotation.frame(0).absent
    key(window, Qt.Key.Key_X)
    assert c.annotation.frame(0).provenance is None  # present again: to be drawn
    key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert c.annotation.frame(0).absent
    key(window, Qt.Key.Key_Delete)
    assert not c.annotation.frame(0).is_annotated

    dialog = AbsentRangeDialog(12, 3, window)
    dialog.first.setValue(4)
    dialog.last.setValue(9)
    first, last, absent = dialog.result_range()
    c.set_absent_range(first, last, absent)
    assert [f.absent for f in c.annotation.frames] == [i in range(3, 9) for i in range(12)]
    assert "Mark absent (frames 4–9)" in window.actions_by_id["undo"].text()

    key(window, Qt.Key.Key_F1)
    text = window.commands.shortcut_dialog.findChild(QTextBrowser).toPlainText()
    for spec in ACTIONS:
        assert spec.text in text or not spec.keys
    window.commands.shortcut_dialog.close()
    window.close()


# ---------------------------------------------------------------- which session is whose
def _open_recording(qtbot, window, path: Path, resume: bool = True) -> list:
    """Open ``path``; returns the OpenResults the app asked about resuming."""
    asked: list = []
    window.session.ask_resume = lambda result: asked.append(result) or resume
    with qtbot.waitSignal(window.firstFrameShown, timeout=TIMEOUT_MS):
        window.open_path(path)
    return asked


def test_an_export_named_like_its_source_is_not_offered_the_sources_session(
    qtbot, tmp_path: Path, frames: Path
) -> None:
    import shutil

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    window.model.set_box(2, (4, 4, 8, 8))
    source_session = window.model.session_path
    window.close()
    export = tmp_path / "exports" / "clip"
    shutil.copytree(frames, export)  # the frames byte for byte, the same name
    other = make_window(qtbot, tmp_path)
    assert _open_recording(qtbot, other, export) == []  # nothing offered
    assert other.model.session_path != source_session
    assert other.model.annotation.frame(2).box is None
    other.model.set_box(7, (1, 1, 3, 3))
    other.close()
    back = make_window(qtbot, tmp_path)
    asked = _open_recording(qtbot, back, frames)
    assert len(asked) == 1 and back.model.session_path == source_session
    annotation = back.model.annotation
    assert annotation.frame(2).box is not None and annotation.frame(7).box is None
    back.close()


def test_a_session_from_before_video_json_still_opens_with_its_video(
    qtbot, tmp_path: Path, frames: Path
) -> None:
    from costcore.annotation import FrameAnnotation, VideoAnnotation, save_session

    legacy = tmp_path / "workspace" / "clip" / "session.json"  # keyed by name only
    marked = [FrameAnnotation((1, 1, 4, 4), provenance=Provenance.KEYFRAME)] + [
        FrameAnnotation() for _ in range(11)
    ]
    video = VideoAnnotation("clip", 12, source=str(frames.resolve()), frames=marked)
    save_session(legacy, video)
    window = make_window(qtbot, tmp_path)
    asked = _open_recording(qtbot, window, frames)
    assert len(asked) == 1 and window.model.session_path == legacy
    assert window.model.annotation.frame(0).provenance is Provenance.KEYFRAME
    assert (legacy.parent / "video.json").is_file()  # migrated: it now says whose it is
    window.close()


def test_a_moved_video_is_offered_its_session_and_the_dialog_names_the_file(
    qtbot, tmp_path: Path, frames: Path
) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    window.model.set_box(3, (2, 2, 6, 6))
    window.close()
    moved = tmp_path / "elsewhere" / "clip"
    moved.parent.mkdir()
    frames.rename(moved)
    again = make_window(qtbot, tmp_path)
    asked = _open_recording(qtbot, again, moved)
    assert len(asked) == 1
    text = asked[0].describe_existing()
    assert str(frames.resolve()) in text and str(moved.resolve()) in text
    assert again.model.annotation.frame(3).box is not None
    assert again.model.annotation.source == str(moved.resolve())
    again.close()


# ---------------------------------------------------------------- never overwrite a session
def test_a_damaged_session_without_backup_is_kept_and_its_keyframes_salvaged(
    qtbot, tmp_path: Path
) -> None:
    frames = make_image_folder(tmp_path / "clip", 60)
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    c = window.model
    for i in range(0, 30, 5):
        c.set_box(i, (i, 2, 6, 6))
    session = c.session_path
    window.close()
    data = session.read_bytes()
    # torn after the last keyframe's entry (what a copy cut short leaves): the surviving
    # part holds every keyframe
    half = data[: data.rindex(b'"keyframe"') + 60]
    with pytest.raises(ValueError):
        json.loads(half)
    session.write_bytes(half)
    # no backup to fall back on (edits made in one event-loop turn are written once, so
    # there may be none to remove)
    session.with_name("session.json.bak").unlink(missing_ok=True)
    again = make_window(qtbot, tmp_path)
    asked = _open_recording(qtbot, again, frames)
    kept = sorted(session.parent.glob("session.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == half  # kept aside, untouched
    assert len(again.errors) == 1 and str(kept[0]) in again.errors[0]  # said, in a box
    assert len(asked) == 1 and asked[0].salvage is not None  # the readable part is offered
    annotation = again.model.annotation
    assert [i for i in range(60) if annotation.frame(i).box is not None] == list(range(0, 30, 5))
    assert again.session.flush()
    assert load_session(session).annotation == annotation  # the new file is whole
    assert kept[0].read_bytes() == half
    again.close()


def test_a_session_for_another_frame_count_is_kept_on_every_open(
    qtbot, tmp_path: Path, frames: Path
) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    window.model.set_box(1, (2, 2, 5, 5))
    session = window.model.session_path
    window.close()
    original = session.read_bytes()
    make_image_folder(tmp_path / "clip", 15)  # the video now has 15 frames
    said = []
    for _ in range(2):  # the second open must not destroy the first one's file either
        again = make_window(qtbot, tmp_path)
        _open_recording(qtbot, again, frames)
        assert again.model.frame_count == 15
        said.append(list(again.errors))
        again.close()
    kept = sorted(session.parent.glob("session.other-length-*.json"))
    assert len(kept) == 1 and kept[0].read_bytes() == original
    assert len(said[0]) == 1 and str(kept[0]) in said[0][0]  # the first open says where
    assert said[1] == []  # the second finds the session the first one started
    assert load_session(kept[0]).annotation.frame(1).box is not None
