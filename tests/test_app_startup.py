"""Start-up settles the garbage collector so full collections stay short during runs."""

from __future__ import annotations

import gc
import weakref

from app.application import freeze_startup_objects


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_startup_objects_are_frozen_and_later_cycles_still_collected(qtbot, tmp_path) -> None:
    from tests.gui_helpers import make_window

    window = make_window(qtbot, tmp_path)
    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the modules and the window: what full collections skip now
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        probe = weakref.ref(a)
        del a, b
        gc.collect()
        assert probe() is None  # garbage made after start-up is still collected
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        window.close()
