"""The tracking panel learns everything about an engine's weights from the engine registry.

A plug-in engine registered by the test (its own weights hint and file filter) must get the
same treatment as the built-in ones: the app names no engine itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from costcore.engines import engine_info, registry
from costcore.engines.registry import EngineInfo
from tests.assist_fakes import ScriptedEngine
from tests.gui_helpers import make_image_folder, make_window, open_and_wait

PLUGIN = EngineInfo(
    "plugin",
    "a plug-in engine with weights of its own",
    lambda weights=None, device="auto": ScriptedEngine(),
    takes_weights=True,
    needs_weights=True,
    weights_hint="a .plg file from the plug-in's authors",
    weights_files="Plug-in weights (*.plg)",
    weights_folder=False,
    label="PlugIn",
)


@pytest.fixture
def window(qtbot, tmp_path: Path, monkeypatch):
    monkeypatch.setitem(registry._ENGINES, "plugin", PLUGIN)
    win = make_window(qtbot, tmp_path)
    yield win
    win.runner.shutdown()


def pick(window, name: str) -> None:
    combo = window.tracking_panel.engine
    combo.setCurrentIndex(combo.findData(name))
    assert window.model.engine.name == name


def menu_actions(window) -> dict[str, object]:
    menu = window.tracking_panel.weights_button.menu()
    return {a.text(): a for a in menu.actions() if a.text()}


@pytest.mark.parametrize("name", ["allinone", "vlt_tt", "plugin"])
def test_choosing_weights_keeps_the_engine_and_uses_its_file_filter(
    qtbot, window, monkeypatch, tmp_path, name
) -> None:
    info = engine_info(name) if name != "plugin" else PLUGIN
    pick(window, name)
    asked: list[str] = []
    chosen = str(tmp_path / "weights.bin")

    def get_open_file_name(parent, caption, folder, filters):
        asked.append(filters)
        return chosen, filters

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(get_open_file_name))
    actions = menu_actions(window)
    file_action = next(a for t, a in actions.items() if "file" in t.lower())
    assert info.display_name in file_action.text()
    file_action.trigger()
    assert asked == [info.weights_files]
    assert window.model.engine.current_weights() == chosen
    assert window.model.engine.name == name  # not switched to another engine
    folder_actions = [a for t, a in actions.items() if "folder" in t.lower()]
    assert bool(folder_actions) and folder_actions[0].isEnabled() == info.weights_folder


def test_needs_weights_messages_name_the_chosen_engine_and_its_hint(
    qtbot, window, tmp_path
) -> None:
    open_and_wait(qtbot, window, make_image_folder(tmp_path / "frames", 5))
    pick(window, "plugin")
    panel = window.tracking_panel
    assert "PlugIn" in panel.weights.placeholderText()
    assert PLUGIN.weights_hint in panel.weights.placeholderText()
    messages: list[str] = []
    window.model.events.message.connect(messages.append)
    window.model.set_box(0, (10.0, 10.0, 12.0, 8.0))
    assert not window.model.track(start=0)
    assert PLUGIN.weights_hint in messages[-1] and "PlugIn" in messages[-1]
    assert "COST" not in messages[-1] and "TransT" not in messages[-1]
    ready = [i.name for i in registry.engine_infos() if window.model.engine.readiness(i.name).ready]
    assert ready and all(registry.engine_info(n).display_name in messages[-1] for n in ready)
    assert "NanoTrack" not in messages[-1]  # its weights are not installed here: not offered


def test_an_engine_without_weights_says_so(qtbot, window) -> None:
    pick(window, "kcf")
    text = window.tracking_panel.weights.placeholderText()
    assert "KCF" in text and "takes no weights" in text


def test_weights_chosen_with_a_classical_engine_go_to_the_registry_default(
    qtbot, window, monkeypatch, tmp_path
) -> None:
    pick(window, "csrt")
    default = registry.weights_engine("csrt")
    assert default.takes_weights
    chosen = str(tmp_path / "ckpt")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *args: chosen))
    folder = next(a for t, a in menu_actions(window).items() if "folder" in t.lower())
    assert default.display_name in folder.text()
    folder.trigger()
    engine = window.model.engine
    assert engine.name == default.name and engine.current_weights() == chosen


def test_the_confidence_map_note_comes_from_the_registry(qtbot, window, tmp_path) -> None:
    open_and_wait(qtbot, window, make_image_folder(tmp_path / "frames", 5))
    pick(window, "csrt")
    window.actions_by_id["score_map"].setChecked(False)
    window.actions_by_id["score_map"].setChecked(True)
    message = window.statusBar().currentMessage()
    assert "CSRT" in message and "no confidence map" in message.lower()
    with_maps = [i.display_name for i in registry.engine_infos() if i.gives_score_map]
    assert with_maps and all(n in message for n in with_maps)
    assert window.view.score_map_item.has_map() is False
