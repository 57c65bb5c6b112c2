"""Navigation keys, playback and the frame loader (newest request wins, frame i is frame i)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.workers import FrameLoader
from costcore.video import open_frame_source
from tests.gui_helpers import key, make_image_folder, make_window, open_and_wait, wait_frame

Key = Qt.Key
Mod = Qt.KeyboardModifier
COUNT = 250


@pytest.fixture
def window(qtbot, tmp_path: Path):
    frames = make_image_folder(tmp_path / "frames", COUNT)
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    window.view.setFocus()
    yield window
    window.close()


def test_each_navigation_key_moves_to_the_expected_frame(qtbot, window) -> None:
    steps = [
        (Key.Key_Right, Mod.NoModifier, 1),
        (Key.Key_D, Mod.NoModifier, 2),
        (Key.Key_Right, Mod.ShiftModifier, 12),
        (Key.Key_Left, Mod.NoModifier, 11),
        (Key.Key_A, Mod.NoModifier, 10),
        (Key.Key_PageDown, Mod.NoModifier, 110),
        (Key.Key_PageDown, Mod.NoModifier, 210),
        (Key.Key_PageDown, Mod.NoModifier, COUNT - 1),  # clamped at the end
        (Key.Key_PageUp, Mod.NoModifier, COUNT - 101),
        (Key.Key_Left, Mod.ShiftModifier, COUNT - 111),
        (Key.Key_Home, Mod.NoModifier, 0),
        (Key.Key_Left, Mod.NoModifier, 0),  # clamped at the start
        (Key.Key_End, Mod.NoModifier, COUNT - 1),
    ]
    for code, modifiers, expected in steps:
        key(window, code, modifiers)
        wait_frame(qtbot, window, expected)
    # the 1-based frame number on the bar follows
    assert window.nav_bar.spin.value() == COUNT
    assert window.nav_bar.slider.value() == COUNT - 1


def test_keyframe_jumps(qtbot, window) -> None:
    controller = window.model
    for index in (5, 40, 90):
        controller.set_box(index, (1, 1, 5, 5))
    window.navigator.go_to(50)
    wait_frame(qtbot, window, 50)
    for code, modifiers, expected in [
        (Key.Key_BracketRight, Mod.NoModifier, 90),
        (Key.Key_BracketRight, Mod.NoModifier, 90),  # no keyframe after: stay
        (Key.Key_BracketLeft, Mod.NoModifier, 40),
        (Key.Key_Left, Mod.ControlModifier, 5),
        (Key.Key_Right, Mod.ControlModifier, 40),
    ]:
        key(window, code, modifiers)
        wait_frame(qtbot, window, expected)


def test_shown_frame_is_exactly_the_source_frame(qtbot, window) -> None:
    source = open_frame_source(window.model.video.frames, cache_bytes=0)
    for index in (0, 137, 3, 249):
        window.navigator.go_to(index)
        wait_frame(qtbot, window, index)
        image = window.view.frame_item._pixmap.toImage()
        expected = source.frame(index)
        pixel = image.pixelColor(10, 10)
        assert (pixel.red(), pixel.green(), pixel.blue()) == tuple(int(v) for v in expected[10, 10])
        # the white bar encodes the frame number: its width is 1 + index % 64
        row = np.array([image.pixelColor(x, 30).red() for x in range(64)])
        assert int((row == 255).sum()) >= 1 + index % 64
    source.close()


def test_playback_runs_at_the_video_rate_and_stops_at_the_end(qtbot, window) -> None:
    navigator = window.navigator
    navigator.go_to(COUNT - 20)
    wait_frame(qtbot, window, COUNT - 20)
    key(window, Key.Key_Space)
    assert navigator.playing
    qtbot.waitUntil(lambda: not navigator.playing, timeout=10_000)  # 20 frames at 30 fps
    assert navigator.index == COUNT - 1


def test_loader_drops_stale_requests(qtbot, tmp_path: Path) -> None:
    """Many requests in a burst decode only a few frames; the newest one always arrives."""
    folder = make_image_folder(tmp_path / "burst", 60)
    source = open_frame_source(folder, cache_bytes=0)
    decoded: list[int] = []
    original = source.frame

    def counting(index: int):
        decoded.append(index)
        return original(index)

    source.frame = counting  # type: ignore[method-assign]
    loader = FrameLoader()
    shown: list[int] = []
    loader.frameReady.connect(lambda index, image: shown.append(index))
    loader.set_source(source)
    for index in range(60):
        loader.request(index)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] == 59 and not loader.busy, timeout=10_000)
    assert len(decoded) < 60  # superseded requests were never decoded
    assert shown == sorted(shown)  # never an older frame after a newer one
    loader.wait()
    source.close()
