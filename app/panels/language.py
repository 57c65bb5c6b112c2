"""The one-sentence language description, with the word-piece budget COST can read."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSizePolicy, QVBoxLayout, QWidget

from costcore.annotation.word_pieces import MAX_WORD_PIECES, WordPieceCounter

COMMIT_DELAY_MS = 800  # typing pause after which the text becomes an edit command


class LanguagePanel(QWidget):
    """Edits the description; commits (one undo step) on Enter, focus-out or a typing pause."""

    committed = Signal(str)

    def __init__(self, counter: WordPieceCounter | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.counter = counter or WordPieceCounter()
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(
            "One sentence describing the target, e.g. “the small white drone flying over the "
            "trees on the left”"
        )
        self.editor.setTabChangesFocus(True)
        self.editor.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 4 + 12)
        self.editor.installEventFilter(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.editor)
        layout.addWidget(self.status)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COMMIT_DELAY_MS)
        self._timer.timeout.connect(self.commit)
        self._model_text = ""
        self.editor.textChanged.connect(self._on_text_changed)
        self._update_status()
        self.setEnabled(False)

    # ------------------------------------------------------------ model -> view
    def set_text(self, text: str) -> None:
        """Show the annotation's description (after opening, undo or redo)."""
        self._model_text = text
        if self.text() != text:
            self.editor.blockSignals(True)
            self.editor.setPlainText(text)
            self.editor.blockSignals(False)
        self._update_status()

    def text(self) -> str:
        return " ".join(self.editor.toPlainText().split("\n")).strip()

    # ------------------------------------------------------------ view -> model
    def commit(self) -> None:
        self._timer.stop()
        text = self.text()
        if text != self._model_text:
            self._model_text = text
            self.committed.emit(text)

    def _on_text_changed(self) -> None:
        self._update_status()
        self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.editor:
            if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
                if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                    self.commit()  # one line only: Enter commits instead of breaking the line
                    return True
            elif event.type() == QEvent.Type.FocusOut:
                self.commit()
        return super().eventFilter(watched, event)

    def _update_status(self) -> None:
        text = self.text()
        if not text:
            self.status.setObjectName("WarningLabel")
            self.status.setText("⚠ Empty: the export needs a one-sentence description.")
        else:
            count = self.counter.count(text)
            about = "" if self.counter.exact else "about "
            if count > MAX_WORD_PIECES:
                self.status.setObjectName("WarningLabel")
                self.status.setText(
                    f"⚠ {about}{count} word pieces: COST reads only the first {MAX_WORD_PIECES}; "
                    "shorten the sentence."
                )
            else:
                self.status.setObjectName("")
                self.status.setText(f"{about}{count} / {MAX_WORD_PIECES} word pieces")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    @property
    def warning(self) -> str:
        """The current warning text ("" when the description is fine); for tests and tooltips."""
        return self.status.text() if self.status.text().startswith("⚠") else ""
