"""The language panel's attribute-word editors (VLT's four words)."""

from __future__ import annotations

from app.panels.language_panel import LanguagePanel
from costcore.language import LanguageAttributes


def test_words_show_commit_and_warn(qtbot) -> None:
    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.setEnabled(True)
    panel.set_words(LanguageAttributes("airplane", "vehicle", "white", "top left"))
    assert [panel.words[f].text() for f in panel.words] == [
        "airplane", "vehicle", "white", "top left"
    ]  # fmt: skip
    assert panel.words_status.text() == ""

    committed: list[tuple[str, str]] = []
    panel.word_committed.connect(lambda field, word: committed.append((field, word)))
    panel.words["colour"].setText("  light   grey ")
    panel.words["colour"].editingFinished.emit()
    assert committed == [("colour", "light grey")]

    panel.words["colour"].setText("red, blue")  # a comma cannot be written to the file
    panel.words["colour"].editingFinished.emit()
    assert committed == [("colour", "light grey")]
    assert "comma" in panel.words_status.text()

    panel.words["root_class"].setText("")
    assert "Missing: root class" in panel.words_status.text()
    panel.words["root_class"].setText("vehicle")
    panel.words["initial_position"].setText("somewhere")
    assert "Unusual initial position" in panel.words_status.text()


def test_unchanged_word_commits_nothing(qtbot) -> None:
    panel = LanguagePanel()
    qtbot.addWidget(panel)
    panel.set_words(LanguageAttributes("car", "vehicle", "red", "center"))
    committed: list[tuple[str, str]] = []
    panel.word_committed.connect(lambda field, word: committed.append((field, word)))
    panel.words["major_class"].editingFinished.emit()
    assert committed == []


def test_words_go_through_undoable_commands_into_the_session(qtbot, tmp_path) -> None:
    from costcore.annotation import load_session
    from tests.gui_helpers import make_image_folder, make_window, open_and_wait

    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, make_image_folder(tmp_path / "clip", 3))
    panel, controller = window.language_panel, window.model
    panel.words["major_class"].setText("square")
    panel.words["major_class"].editingFinished.emit()
    assert controller.annotation.language_attributes.major_class == "square"
    qtbot.waitUntil(lambda: not window.session.is_dirty, timeout=10_000)
    saved = load_session(controller.session_path).annotation
    assert saved.language_attributes.major_class == "square"
    controller.undo()
    assert controller.annotation.language_attributes.major_class == ""
    assert panel.words["major_class"].text() == ""  # the view follows undo
    window.close()
