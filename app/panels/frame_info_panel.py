"""The current frame: provenance, box, absent toggle, verify, and the video's progress."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.colors import ABSENT_COLOR, provenance_color
from costcore.annotation import FrameAnnotation
from costcore.annotation.summary import frame_counts


class FrameInfoPanel(QWidget):
    """Shows one frame's annotation and offers the per-frame actions."""

    toggleAbsent = Signal()
    absentRange = Signal()
    verify = Signal()
    clear = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame_label = QLabel("–")
        self.provenance = QLabel("–")
        self.provenance.setObjectName("ProvenanceLabel")
        self.box_label = QLabel("–")
        self.box_label.setTextInteractionFlags(self.box_label.textInteractionFlags())
        self.score_label = QLabel("")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Frame", self.frame_label)
        form.addRow("Source", self.provenance)
        form.addRow("Box x, y, w, h", self.box_label)
        form.addRow("", self.score_label)

        self.absent_button = QPushButton("Absent (X)")
        self.absent_button.setCheckable(True)
        self.absent_button.setToolTip("The target is not visible in this frame")
        self.absent_button.clicked.connect(lambda: self.toggleAbsent.emit())
        self.range_button = QPushButton("Absent range… (Shift+X)")
        self.range_button.clicked.connect(self.absentRange)
        self.verify_button = QPushButton("Verify (V)")
        self.verify_button.setToolTip("Accept this frame's imported/tracked value as correct")
        self.verify_button.clicked.connect(self.verify)
        self.clear_button = QPushButton("Clear (Del)")
        self.clear_button.clicked.connect(self.clear)
        buttons = QGridLayout()
        buttons.addWidget(self.absent_button, 0, 0)
        buttons.addWidget(self.range_button, 0, 1)
        buttons.addWidget(self.verify_button, 1, 0)
        buttons.addWidget(self.clear_button, 1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setEnabled(False)

    def show_frame(self, index: int, count: int, frame: object) -> None:
        """``frame`` is a costcore FrameAnnotation."""
        self.frame_label.setText(f"{index + 1} / {count}")
        provenance = getattr(frame, "provenance", None)
        kind = None if provenance is None else provenance.value
        absent = bool(getattr(frame, "absent", False))
        if absent:
            text, color = f"absent ({kind})", ABSENT_COLOR
        else:
            text, color = (kind or "not annotated"), provenance_color(kind)
        self.provenance.setText(text)
        self.provenance.setStyleSheet(f"background:{color.name()}; color:#101010;")
        box = getattr(frame, "box", None)
        self.box_label.setText("–" if box is None else ", ".join(_number(v) for v in box))
        score, engine = getattr(frame, "score", None), getattr(frame, "engine", None)
        bits = []
        if engine:
            bits.append(f"engine {engine}")
        if score is not None:
            bits.append(f"score {score:.3f}")
        self.score_label.setText(", ".join(bits))
        self.absent_button.blockSignals(True)
        self.absent_button.setChecked(absent)
        self.absent_button.blockSignals(False)
        self.verify_button.setEnabled(kind in ("tracked", "interpolated", "imported"))

    def show_summary(self, frames: Iterable[FrameAnnotation]) -> None:
        """How much of the video is done: each frame counted once (costcore's buckets)."""
        self.summary.setText(frame_counts(frames).describe())


def _number(value: float) -> str:
    """Whole pixels as integers, tracker output to a tenth of a pixel."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


class AbsentRangeDialog(QDialog):
    """Pick a 1-based frame range and whether the target is absent or present there."""

    def __init__(self, count: int, current: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Mark a range of frames")
        self.first = QSpinBox()
        self.last = QSpinBox()
        for spin in (self.first, self.last):
            spin.setRange(1, count)
        self.first.setValue(current + 1)
        self.last.setValue(min(count, current + 10))
        self.absent = QRadioButton("Target absent")
        self.present = QRadioButton("Target present again (frames become unannotated)")
        self.absent.setChecked(True)
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.first)
        row.addWidget(QLabel("to"))
        row.addWidget(self.last)
        form.addRow("Frames", row)
        form.addRow(self.absent)
        form.addRow(self.present)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def result_range(self) -> tuple[int, int, bool]:
        """``(first, last, absent)`` with 0-based inclusive indices."""
        return self.first.value() - 1, self.last.value() - 1, self.absent.isChecked()
