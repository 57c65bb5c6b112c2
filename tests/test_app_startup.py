"""Start-up settles the garbage collector so full collections stay short during runs."""

from __future__ import annotations

import gc
import weakref

from app.long_lived import freeze_startup_objects


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


def test_a_built_engine_is_frozen_with_what_it_brought(qtbot, tmp_path, monkeypatch) -> None:
    """Building an engine (torch, TorchScript graphs) adds hundreds of thousands of long-lived
    objects; the runner freezes them once the engine is built, so no full collection scans
    them in the middle of a run."""
    from costcore.engines import registry
    from costcore.engines.registry import EngineInfo
    from tests.assist_fakes import ScriptedEngine
    from tests.gui_helpers import TIMEOUT_MS, make_image_folder, make_window, open_and_wait
    from tests.test_app_tracking import folder_index

    kept: list[list[_Node]] = []

    def build(device: str = "auto") -> ScriptedEngine:
        kept.append([_Node() for _ in range(5_000)])  # what an engine keeps for the session
        return ScriptedEngine(frame_to_index=folder_index)

    monkeypatch.setitem(registry._ENGINES, "scripted", EngineInfo("scripted", "test", build))
    window = make_window(qtbot, tmp_path)
    try:
        window.model.set_engine("scripted")
        open_and_wait(qtbot, window, make_image_folder(tmp_path / "frames", 6))
        gc.unfreeze()
        window.model.set_box(0, (2.0, 2.0, 4.0, 4.0))
        assert window.model.track(start=0)
        qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
        assert len(kept) == 1
        assert gc.get_freeze_count() >= 5_000  # the engine's objects among them
        assert not any(gc.is_tracked(node) and node in gc.get_objects(2) for node in kept[0][:3])
    finally:
        gc.unfreeze()
        window.close()
