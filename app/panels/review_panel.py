"""The review queue: flagged frames, most severe first; click one to go there."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from costcore.assist.review import ReviewQueue

#: the list shows at most this many entries (the strip and the N key reach all of them)
MAX_ROWS = 500
#: rows of flags the review workflow will not propose (shown for the record, greyed)
NOT_PROPOSED_COLOR = QColor(130, 130, 136)
NOT_PROPOSED_TIP = (
    "Not proposed by P: below the severity worth a check, a kind of flag only shown, or one "
    "your answers on this video say finds nothing"
)


class ReviewPanel(QWidget):
    seekRequested = Signal(int)
    nextRequested = Signal()
    previousRequested = Signal()
    proposalRequested = Signal()
    acceptAbsentRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("No flagged frames.")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.setMinimumHeight(60)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.previous = QPushButton("◀ Previous (Shift+N)")
        self.next = QPushButton("Next flagged (N) ▶")
        self.proposal = QPushButton("Check the proposed frame (P)")
        self.proposal.setToolTip(
            "Go to the frame the tool asks you to check next: correct it or verify it (V)"
        )
        self.accept_absent = QPushButton("Mark this frame absent (proposal)")
        self.accept_absent.setToolTip(
            "The score here is so low the target is probably absent: accept the proposal"
        )
        self.accept_absent.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(self.previous)
        row.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(self.proposal)
        layout.addWidget(self.accept_absent)
        self.previous.clicked.connect(self.previousRequested)
        self.next.clicked.connect(self.nextRequested)
        self.proposal.clicked.connect(self.proposalRequested)
        self.accept_absent.clicked.connect(self.acceptAbsentRequested)
        self.setEnabled(False)

    def set_queue(self, queue: ReviewQueue, proposable: frozenset[int] | None = None) -> None:
        """List ``queue``; ``proposable``: the frames the review workflow may still propose
        (P), counted in the summary; the other rows are greyed, as on the timeline."""
        self.list.clear()
        ranked = queue.ranked
        for flag in ranked[:MAX_ROWS]:
            item = QListWidgetItem(
                f"frame {flag.index + 1:>6}   {flag.severity:.2f}   {flag.describe()}"
            )
            item.setData(Qt.ItemDataRole.UserRole, flag.index)
            if proposable is not None and flag.index not in proposable:
                item.setForeground(NOT_PROPOSED_COLOR)
                item.setToolTip(NOT_PROPOSED_TIP)
            self.list.addItem(item)
        absent = sum(1 for f in ranked if f.absent_proposed)
        if not ranked:
            self.summary.setText("No flagged frames.")
        else:
            text = f"{len(ranked)} flagged frame(s), most severe first"
            if absent:
                text += f"; {absent} with “absent?” proposed"
            if proposable is not None:
                text += f"; {len(proposable)} worth a check (P)"
            self.summary.setText(text + ".")
        for button in (self.next, self.previous, self.proposal):
            button.setEnabled(bool(ranked))

    def set_current(self, index: int, absent_proposed: bool) -> None:
        self.accept_absent.setEnabled(absent_proposed)

    def _clicked(self, item: QListWidgetItem) -> None:
        self.seekRequested.emit(int(item.data(Qt.ItemDataRole.UserRole)))
