"""The 17 VL-SOT500 attributes: one control each, plus costcore's proposals to accept.

Definitions, allowed values and labels all come from ``costcore.attributes``; proposals are
computed by costcore in a worker (the frame-based ones read every frame) and each shows its
value and the rule behind it, with a one-click accept that becomes an edit command.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from costcore.attributes import ATTRIBUTES, AttributeDefinition, Proposal


class _Row:
    """Widgets of one attribute."""

    def __init__(self, definition: AttributeDefinition) -> None:
        self.definition = definition
        tip = f"{definition.name}: {definition.definition}"
        self.code = QLabel(f"<b>{definition.code}</b>")
        self.code.setToolTip(tip)
        self.code.setFixedWidth(self.code.fontMetrics().horizontalAdvance("MMMM"))
        self.name: QLabel | None = None
        self.control: QCheckBox | QComboBox
        if definition.is_binary and definition.code != "NAO":
            self.control = QCheckBox(definition.name)
        else:
            combo = QComboBox()
            for value in definition.values:
                combo.addItem(f"{value.value} {value.label}", value.value)
            self.control = combo
            self.name = QLabel(definition.name)
            self.name.setToolTip(tip)
        self.control.setToolTip(tip)
        self.proposal = QLabel("")
        self.proposal.setToolTip("")
        self.accept = QToolButton()
        self.accept.setObjectName("AcceptButton")
        self.accept.setText("Accept")
        self.accept.setVisible(False)
        self.rule = QLabel("")
        self.rule.setWordWrap(True)
        self.rule.setTextFormat(Qt.TextFormat.RichText)
        self.rule.setVisible(False)
        self.rule.setStyleSheet("color: gray; margin-left: 40px;")
        self.rule.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.rule.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def value(self) -> int:
        if isinstance(self.control, QCheckBox):
            return int(self.control.isChecked())
        return int(self.control.currentData())

    def set_value(self, value: int) -> None:
        self.control.blockSignals(True)
        if isinstance(self.control, QCheckBox):
            self.control.setChecked(bool(value))
        else:
            self.control.setCurrentIndex(max(0, self.control.findData(value)))
        self.control.blockSignals(False)


class AttributesPanel(QWidget):
    """Shows the annotation's attributes; user changes come out as signals."""

    attributeChanged = Signal(int, int)  # index, value
    acceptProposal = Signal(object)  # Proposal
    acceptAll = Signal()
    proposeRequested = Signal()
    cancelRequested = Signal()
    jumpToFrame = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[_Row] = [_Row(d) for d in ATTRIBUTES]
        self._proposals: dict[int, Proposal] = {}
        self._values: list[int] = [0] * len(self.rows)

        self.propose_button = QPushButton("Propose from boxes and frames")
        self.propose_button.setToolTip(
            "Compute LEN, BRI, FM, SV, ARV exactly and FO, OV, IV, MB as heuristics "
            "(reads every frame, in the background)"
        )
        self.propose_button.clicked.connect(self.proposeRequested)
        self.accept_all_button = QPushButton("Accept all")
        self.accept_all_button.setEnabled(False)
        self.accept_all_button.clicked.connect(self.acceptAll)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        rows_box = QVBoxLayout()
        rows_box.setSpacing(3)
        for index, row in enumerate(self.rows):
            line = QHBoxLayout()
            line.setSpacing(6)
            line.addWidget(row.code)
            if row.name is not None:
                line.addWidget(row.name)
            line.addWidget(row.control)
            line.addStretch(1)
            line.addWidget(row.proposal)
            line.addWidget(row.accept)
            rows_box.addLayout(line)
            rows_box.addWidget(row.rule)
            if isinstance(row.control, QCheckBox):
                row.control.toggled.connect(
                    lambda checked, i=index: self.attributeChanged.emit(i, int(checked))
                )
            else:
                row.control.currentIndexChanged.connect(
                    lambda _pos, i=index: self.attributeChanged.emit(i, self.rows[i].value())
                )
            row.accept.clicked.connect(lambda _=False, i=index: self._accept(i))
            row.rule.linkActivated.connect(lambda link: self.jumpToFrame.emit(int(link)))
            row.rule.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
                | Qt.TextInteractionFlag.LinksAccessibleByMouse
            )
        rows_box.addStretch(1)
        body = QWidget()
        body.setLayout(rows_box)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        top = QHBoxLayout()
        top.addWidget(self.propose_button)
        top.addWidget(self.accept_all_button)
        top.addStretch(1)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addLayout(busy)
        layout.addWidget(self.note)
        layout.addWidget(scroll, 1)
        self.setMinimumWidth(400)
        self.setEnabled(False)

    # ------------------------------------------------------------ model -> view
    def set_values(self, values: Sequence[int]) -> None:
        self._values = list(values)
        for row, value in zip(self.rows, values, strict=True):
            row.set_value(value)
        self._refresh_proposals()

    def values(self) -> list[int]:
        return [row.value() for row in self.rows]

    def set_proposals(self, proposals: Sequence[Proposal], note: str = "") -> None:
        self._proposals = {p.index: p for p in proposals}
        self.note.setText(note)
        self._refresh_proposals()

    def clear_proposals(self) -> None:
        self.set_proposals([], "")

    def mark_proposals_stale(self) -> None:
        if self._proposals:
            self.note.setText("Boxes changed since: propose again to update.")

    @property
    def proposals(self) -> dict[int, Proposal]:
        return dict(self._proposals)

    def _refresh_proposals(self) -> None:
        pending = 0
        for index, row in enumerate(self.rows):
            proposal = self._proposals.get(index)
            if proposal is None:
                row.proposal.setText("")
                row.rule.setVisible(False)
                row.accept.setVisible(False)
                continue
            agrees = self._values[index] == proposal.value
            mark = "✓" if agrees else "→"
            row.proposal.setText(f"{mark} {proposal.label}")
            row.proposal.setToolTip(f"{proposal.kind} proposal: {proposal.rule}")
            rule = _escape(proposal.rule)
            if proposal.evidence_frames:
                first = proposal.evidence_frames[0]
                rule += f' <a href="{first}">show frame {first + 1}</a>'
            row.rule.setText(rule)
            row.rule.setVisible(True)
            row.accept.setVisible(not agrees)
            pending += not agrees
        self.accept_all_button.setEnabled(pending > 0)

    def _accept(self, index: int) -> None:
        proposal = self._proposals.get(index)
        if proposal is not None:
            self.acceptProposal.emit(proposal)

    # --------------------------------------------------------------- progress
    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.propose_button.setEnabled(not busy)
        if busy:
            self.progress.setRange(0, 0)
            self.note.setText("Computing proposals…")

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"reading frames %v / {total}")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
