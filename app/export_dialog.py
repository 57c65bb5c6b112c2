"""The export dialog: options, the checks before writing, progress/cancel and the result.

Errors found before writing block the export; warnings are listed and confirmed. The folder
is written by costcore in a worker (atomically), then costcore's validator reads it back and
its report is shown, with a button to open the folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.export_job import ExportJob, ExportOptions, ExportOutcome
from costcore.annotation import VideoAnnotation
from costcore.annotation.export_checks import check_before_export, has_errors
from costcore.annotation.word_pieces import WordPieceCounter
from costcore.formats import Issue

ERROR_COLOR = QColor("#e05050")
WARNING_COLOR = QColor("#e0a030")


def _issue_item(issue: Issue) -> QListWidgetItem:
    where = str(issue.file) if issue.line is None else f"{issue.file}:{issue.line}"
    item = QListWidgetItem(f"{issue.severity}: {where}: {issue.message}")
    item.setForeground(ERROR_COLOR if issue.severity == "error" else WARNING_COLOR)
    return item


class ExportDialog(QDialog):
    """Export one annotation as a VL-SOT500 video folder."""

    def __init__(
        self,
        annotation: VideoAnnotation,
        frames: Any,
        default_parent: Path,
        parent: QWidget | None = None,
        counter: WordPieceCounter | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {annotation.name} as VL-SOT500")
        self.setMinimumWidth(640)
        self.annotation = annotation
        self.frames = frames
        self.counter = counter
        self.job: ExportJob | None = None
        self.outcome: ExportOutcome | None = None
        self.issues: list[Issue] = []
        #: asks the user; tests replace it (default: a message box)
        self.confirm = self._ask

        # destination
        self.parent_edit = QLineEdit(str(default_parent))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.name_edit = QLineEdit(annotation.name)
        self.overwrite = QCheckBox("Replace an existing export of the same name")
        where = QHBoxLayout()
        where.addWidget(self.parent_edit, 1)
        where.addWidget(browse)
        destination = QGroupBox("Destination")
        form = QFormLayout(destination)
        form.addRow("Folder", where)
        form.addRow("Video name", self.name_edit)
        form.addRow("", self.overwrite)
        self.path_label = QLabel()
        form.addRow("Writes", self.path_label)

        # format
        self.subset_230 = QRadioButton("VL-SOT230")
        self.subset_270 = QRadioButton("VL-SOT270")
        self.subset_230.setChecked(True)
        # VL-SOT270 ships relative_speed.txt; the switch follows the subset but stays free
        self.write_speed = QCheckBox("write relative_speed.txt")
        self.subset_270.toggled.connect(self.write_speed.setChecked)
        self.int_boxes = QRadioButton("integers (rounded)")
        self.float_boxes = QRadioButton("floats (2 decimals)")
        self.int_boxes.setChecked(True)
        self.speed_frames = QRadioButton("per frame")
        self.speed_seconds = QRadioButton(f"per second ({annotation.fps or 30:g} fps)")
        self.speed_frames.setChecked(True)
        for group in (
            (self.subset_230, self.subset_270),
            (self.int_boxes, self.float_boxes),
            (self.speed_frames, self.speed_seconds),
        ):
            buttons = QButtonGroup(self)
            for button in group:
                buttons.addButton(button)
        fmt = QGroupBox("Format")
        fmt_form = QFormLayout(fmt)
        fmt_form.addRow("Subset", _row(self.subset_230, self.subset_270))
        fmt_form.addRow("Boxes", _row(self.int_boxes, self.float_boxes))
        fmt_form.addRow(
            "Relative speed", _row(self.write_speed, self.speed_frames, self.speed_seconds)
        )

        # checks, progress, result
        self.checks_label = QLabel()
        self.checks = QListWidget()
        self.checks.setMinimumHeight(120)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(lambda: self.start_export())
        self.cancel_button = QPushButton("Cancel export")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_export)
        self.open_button = QPushButton("Open folder")
        self.open_button.setVisible(False)
        self.open_button.clicked.connect(self._open_folder)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(destination)
        layout.addWidget(fmt)
        layout.addWidget(self.checks_label)
        layout.addWidget(self.checks, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)

        for widget in (
            self.subset_230,
            self.subset_270,
            self.int_boxes,
            self.float_boxes,
            self.write_speed,
        ):
            widget.toggled.connect(self.refresh)
        self.parent_edit.textChanged.connect(self.refresh)
        self.name_edit.textChanged.connect(self.refresh)
        self.refresh()

    # ---------------------------------------------------------------- options
    def options(self) -> ExportOptions:
        return ExportOptions(
            destination=self.destination(),
            subset=270 if self.subset_270.isChecked() else 230,
            relative_speed=self.write_speed.isChecked(),
            float_boxes=self.float_boxes.isChecked(),
            speed_in_seconds=self.speed_seconds.isChecked(),
            overwrite=self.overwrite.isChecked(),
        )

    def destination(self) -> Path:
        return Path(self.parent_edit.text().strip() or ".") / self.name_edit.text().strip()

    def refresh(self) -> None:
        """Re-run the checks on the annotation with the current options."""
        self.speed_frames.setEnabled(self.write_speed.isChecked())
        self.speed_seconds.setEnabled(self.write_speed.isChecked())
        self.path_label.setText(str(self.destination()))
        self.issues = check_before_export(
            self.annotation, float_boxes=self.float_boxes.isChecked(), counter=self.counter
        )
        if not self.name_edit.text().strip():
            self.issues.insert(0, Issue("error", self.destination(), None, "give the video a name"))
        self.checks.clear()
        for issue in self.issues:
            self.checks.addItem(_issue_item(issue))
        errors = sum(issue.severity == "error" for issue in self.issues)
        warnings = len(self.issues) - errors
        if not self.issues:
            self.checks_label.setText("Checks before writing: no problems found.")
        else:
            self.checks_label.setText(
                f"Checks before writing: {errors} error(s) (must be fixed), {warnings} warning(s)"
            )
        running = self.job is not None and self.job.running
        self.export_button.setEnabled(not has_errors(self.issues) and not running)

    # ----------------------------------------------------------------- export
    def start_export(self, *, confirm_warnings: bool | None = None) -> bool:
        """Start writing in the background; False when blocked by errors or declined."""
        self.refresh()
        if has_errors(self.issues) or (self.job is not None and self.job.running):
            return False
        warnings = [i for i in self.issues if i.severity == "warning"]
        if warnings and confirm_warnings is None:
            confirm_warnings = self.confirm(
                "Export with warnings?",
                f"{len(warnings)} warning(s), e.g. “{warnings[0].message}”. Export anyway?",
            )
        if warnings and not confirm_warnings:
            return False
        options = self.options()
        if options.destination.exists() and not options.overwrite:
            if not self.confirm(
                "Replace export?", f"{options.destination} exists. Replace it with this export?"
            ):
                return False
            self.overwrite.setChecked(True)
            options = self.options()
        self.outcome = None
        self.result_label.setText("")
        self.open_button.setVisible(False)
        self.job = ExportJob(self.annotation, self.frames, options, self)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self.progress.setRange(0, self.annotation.frame_count)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.export_button.setEnabled(False)
        self.job.start()
        return True

    def cancel_export(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"frame %v / {total}")

    def _finished(self, outcome: ExportOutcome) -> None:
        self.outcome = outcome
        self._idle()
        errors = [i for i in outcome.issues if i.severity == "error"]
        if not outcome.issues:
            verdict = "costcore's validator found no problems."
        else:
            verdict = (
                f"costcore's validator: {len(errors)} error(s), "
                f"{len(outcome.issues) - len(errors)} warning(s) (listed above)."
            )
        self.result_label.setText(f"Exported to {outcome.destination}. {verdict}")
        self.checks_label.setText("Validation of the written folder:")
        self.checks.clear()
        for issue in outcome.issues:
            self.checks.addItem(_issue_item(issue))
        if not outcome.issues:
            self.checks.addItem("valid VL-SOT500 folder: no errors, no warnings")
        self.open_button.setVisible(True)

    def _failed(self, message: str) -> None:
        self._idle()
        self.result_label.setText(f"Export failed, nothing was written: {message}")

    def _cancelled(self) -> None:
        self._idle()
        self.result_label.setText("Export cancelled; nothing was written.")

    def _idle(self) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.export_button.setEnabled(not has_errors(self.issues))

    def _open_folder(self) -> None:
        if self.outcome is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.outcome.destination)))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export into", self.parent_edit.text())
        if folder:
            self.parent_edit.setText(folder)

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def reject(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.job.wait(30.0)
        super().reject()


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    layout.addStretch(1)
    return box
