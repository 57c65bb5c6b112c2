"""The window's commands that need a dialog, a file chooser or another part of the window.

Everything else an action does is a model or view method named straight in the action table
(:mod:`app.actions`); what is here only asks the annotator something, or passes the
navigator's answer on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMenu,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
)

from app.actions import sheet_html
from app.export_dialog import ExportDialog
from app.key_routing import is_text_entry
from app.panels.frame_info_panel import AbsentRangeDialog
from app.theme import apply_theme
from costcore.annotator.session_opening import OpenResult

APP_NAME = "COST Annotator"
VIDEO_FILTER = (
    "Videos, images and sessions (*.mp4 *.avi *.mov *.mkv *.webm *.m4v *.mpg *.mpeg *.wmv "
    "*.jpg *.jpeg *.png *.bmp session.json *.json);;All files (*)"
)


class WindowCommands:
    """Dialogs and window-level commands of one :class:`~app.main_window.MainWindow`."""

    def __init__(self, window: Any) -> None:  # the MainWindow (which imports this module)
        self.window = window
        self.last_export_dialog: ExportDialog | None = None
        self.shortcut_dialog: QDialog | None = None

    @property
    def model(self):  # noqa: ANN201 - the window's AnnotatorModel
        return self.window.model

    def say(self, text: str, ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, ms)

    # ================================================================ files
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open video, image or session", self._last_dir(), VIDEO_FILTER
        )
        if path:
            if Path(path).suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"):
                path = str(Path(path).parent)  # one image stands for its folder
            self.window.open_path(path)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.window, "Open image folder or dataset sequence", self._last_dir()
        )
        if path:
            self.window.open_path(path)

    def _last_dir(self) -> str:
        recent = self.window.settings.recent_files
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    def add_submenus(self, menus: dict[str, QMenu]) -> None:
        """Open recent (File), Theme and Panels (View): menus whose entries change."""
        window = self.window
        file_menu = menus["File"]
        self.recent_menu = QMenu("Open &recent", window)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.insertMenu(window.actions_by_id["save"], self.recent_menu)
        view = menus["View"]
        view.addSeparator()
        theme_menu = view.addMenu("Theme")
        group = QActionGroup(window)
        self.theme_actions: dict[str, QAction] = {}
        for name in ("dark", "light"):
            item = QAction(name.capitalize(), window, checkable=True)
            item.setChecked(window.settings.theme == name)
            item.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group.addAction(item)
            theme_menu.addAction(item)
            self.theme_actions[name] = item
        panels = view.addMenu("Panels")
        for dock in window.docks.values():
            panels.addAction(dock.toggleViewAction())

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.window.settings.recent_files
        for path in recent:
            item = self.recent_menu.addAction(path)
            item.triggered.connect(lambda _=False, p=path: self.window.open_path(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list").triggered.connect(
                self.window.settings.clear_recent
            )
        else:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def ask_resume(self, result: OpenResult) -> bool:
        box = QMessageBox(self.window)
        box.setWindowTitle("Resume annotation?")
        box.setText(result.describe_existing())
        resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Start over (keep the old file)", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(resume)
        box.exec()
        return box.clickedButton() is resume

    def save_now(self) -> None:
        self.window.session.save_now()
        self.say(f"Saved {self.model.session_path}", 4000)

    def export_dialog(self) -> ExportDialog | None:
        """Open the export dialog (modeless, so tests and the annotator can keep it up)."""
        annotation, video = self.model.annotation, self.model.video
        if annotation is None or video is None:
            return None
        self.window.language_panel.commit()
        dialog = ExportDialog(
            annotation,
            video.frames,
            self.model.workspace / "exports",
            self.window,
            counter=self.window.counter,
        )
        dialog.setModal(True)
        dialog.show()
        self.last_export_dialog = dialog
        return dialog

    def choose_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Workspace (sessions and exports)", str(self.model.workspace)
        )
        if folder:
            self.window.settings.workspace = folder
            self.model.workspace = Path(folder)
            self.say(f"Workspace: {folder} (used for the next video opened)", 8000)

    def choose_tokenizer(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Local BERT tokenizer folder (vocab.txt, tokenizer.json)"
        )
        if folder:
            self.window.settings.tokenizer_path = folder
            self.say("Tokenizer set; it is used after a restart.", 8000)

    # ================================================================ editing
    def absent_range_dialog(self) -> None:
        if not self.model.is_open:
            return
        dialog = AbsentRangeDialog(self.model.frame_count, self.window.navigator.index, self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            first, last, absent = dialog.result_range()
            self.model.set_absent_range(first, last, absent)

    def focus_language(self) -> None:
        self.window.docks["language"].show()
        self.window.docks["language"].raise_()
        self.window.language_panel.editor.setFocus()

    # ================================================================ tracking
    def track(self, backwards: bool = False) -> bool:
        """Propagate from the current frame with the tracking panel's extent."""
        extent, count = self.window.tracking_panel.extent_choice()
        return self.model.track(backwards=backwards, extent=extent, count=count)

    def cancel_work(self) -> None:
        """Esc: stop the tracking run and the engine evaluation, whichever is going."""
        self.window.runner.cancel()
        self.window.runner.cancel_evaluation()

    def evaluate_engine(self) -> bool:
        started = self.window.runner.evaluate()
        if started:
            self.window.tracking_panel.show_note("Evaluating…")
            self.refocus_view(self.window.tracking_panel)
        return started

    def set_score_maps(self, on: bool) -> None:
        self.window.settings.set_flag("tracking/score_map", on)
        self.window.presenter.set_score_maps(on)

    def refocus_view(self, panel: object) -> None:
        """Give the focus back to the frame view when it sits in ``panel`` (or nowhere),
        unless the annotator is typing there."""
        focus = QApplication.focusWidget()
        if focus is None or (panel.isAncestorOf(focus) and not is_text_entry(focus)):  # type: ignore[attr-defined]
            self.window.view.setFocus(Qt.FocusReason.OtherFocusReason)

    # ================================================================ navigation
    def go_to_keyframe(self, forward: bool) -> None:
        target = self.model.keyframe_near(forward)
        if target is not None:
            self.window.navigator.go_to(target)

    def go_to_flag(self, forward: bool) -> None:
        target = self.model.flagged_near(forward)
        if target is None:
            self.say("No flagged frames.", 4000)
        else:
            self.window.navigator.go_to(target)

    def go_to_proposal(self) -> None:
        """Go to the frame the tool proposes to check (P), reviewing it."""
        target = self.model.proposed_check()
        if target is None:
            self.say("Nothing proposed: no flagged frame is worth a check now.", 4000)
        else:
            self.window.navigator.go_to(target)

    def review(self, index: int) -> None:
        """A frame chosen in the review queue: go there, reviewing it."""
        self.window.navigator.go_to(self.model.review(index))

    def goto_dialog(self) -> None:
        navigator = self.window.navigator
        number, ok = QInputDialog.getInt(
            self.window, "Go to frame", f"Frame (1–{navigator.count})", navigator.index + 1, 1,
            navigator.count,
        )  # fmt: skip
        if ok:
            navigator.go_to(number - 1)

    # ================================================================ help and looks
    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, name)
        self.window.settings.theme = name
        self.theme_actions[name].setChecked(True)

    def show_shortcuts(self) -> QDialog:
        dialog = QDialog(self.window)
        dialog.setWindowTitle("Keyboard and mouse shortcuts")
        text = QTextBrowser()
        text.setHtml(sheet_html())
        QVBoxLayout(dialog).addWidget(text)
        dialog.resize(620, 720)
        dialog.show()
        self.shortcut_dialog = dialog
        return dialog

    def about(self) -> None:
        QMessageBox.about(
            self.window,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b><br>Single-object tracking annotation in the VL-SOT500 format."
            f"<br>Sessions autosave to {self.model.workspace}.",
        )

    def show_error(self, text: str) -> None:
        """A message box that does not block (the event loop and autosave keep running)."""
        self.window.errors.append(text)
        self.say(text, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, APP_NAME, text, parent=self.window)
        box.open()
