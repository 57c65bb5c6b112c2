"""Export dialog options: the relative-speed switch and the attribute words."""

from __future__ import annotations

from pathlib import Path

from costcore.annotation import SetBox, SetLanguage, SetLanguageAttributes
from costcore.formats import read_sequence
from tests.gui_helpers import make_image_folder, make_window, open_and_wait


def _annotated_window(qtbot, tmp_path: Path):
    frames = make_image_folder(tmp_path / "clip", 4)
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, frames)
    controller = window.model
    for index in range(4):
        controller.push(SetBox(index, (5.0 + index, 6.0, 10.0, 12.0)))
    controller.push(SetLanguage("a grey square moving right"))
    return window


def _export(qtbot, window, folder: Path):
    dialog = window.commands.export_dialog()
    dialog.parent_edit.setText(str(folder))
    return dialog


def _run(qtbot, dialog) -> Path:
    assert dialog.start_export(confirm_warnings=True)
    qtbot.waitUntil(lambda: dialog.outcome is not None or bool(dialog.job.error), timeout=30_000)
    assert dialog.outcome is not None, dialog.job.error
    return dialog.outcome.destination


def test_relative_speed_follows_the_subset_but_can_be_switched(qtbot, tmp_path: Path) -> None:
    window = _annotated_window(qtbot, tmp_path)
    dialog = _export(qtbot, window, tmp_path / "a")
    assert not dialog.write_speed.isChecked()  # VL-SOT230 by default
    dialog.subset_270.setChecked(True)
    assert dialog.write_speed.isChecked() and dialog.speed_frames.isEnabled()
    dialog.write_speed.setChecked(False)  # a 270 export without the file, on purpose
    assert not dialog.speed_frames.isEnabled()
    assert not (_run(qtbot, dialog) / "relative_speed.txt").exists()
    dialog.close()

    dialog = _export(qtbot, window, tmp_path / "b")
    dialog.write_speed.setChecked(True)  # a 230 export with the file
    exported = _run(qtbot, dialog)
    lines = (exported / "relative_speed.txt").read_text().splitlines()
    assert lines[0] == "0.000000" and len(lines) == 4
    assert float(lines[1]) > 0
    dialog.close()
    window.close()


def test_attribute_words_reach_the_export(qtbot, tmp_path: Path) -> None:
    window = _annotated_window(qtbot, tmp_path)
    window.model.push(SetLanguageAttributes(("square", "shape", "grey", "left")))
    exported = _run(qtbot, _export(qtbot, window, tmp_path / "c"))
    assert (exported / "language_attributes.txt").read_text() == "square,shape,grey,left\n"
    assert read_sequence(exported).language_attributes.words == ("square", "shape", "grey", "left")
    window.close()
