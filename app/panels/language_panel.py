"""The language of a video: the one-sentence description, with the word-piece budget COST can
read, and VLT's four attribute words (major class, root class, colour, initial position)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCompleter,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from costcore.annotation.word_pieces import MAX_WORD_PIECES, WordPieceCounter
from costcore.language import (
    POSITION_SUGGESTIONS,
    WORD_FIELDS,
    WORD_LABELS,
    LanguageAttributes,
    is_known_position,
    normalize_word,
)

COMMIT_DELAY_MS = 800  # typing pause after which the text becomes an edit command


class LanguagePanel(QWidget):
    """Edits the description; commits (one undo step) on Enter, focus-out or a typing pause."""

    committed = Signal(str)
    #: one attribute word changed: (field, word); "" clears it
    word_committed = Signal(str, str)

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
        self.words = self._word_editors()
        self.words_status = QLabel()
        self.words_status.setWordWrap(True)
        self.words_status.setObjectName("WarningLabel")
        words_form = QFormLayout()
        words_form.setContentsMargins(0, 4, 0, 0)
        for field in WORD_FIELDS:
            words_form.addRow(WORD_LABELS[field].capitalize(), self.words[field])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.editor)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Attribute words (optional, VLT style):"))
        layout.addLayout(words_form)
        layout.addWidget(self.words_status)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COMMIT_DELAY_MS)
        self._timer.timeout.connect(self.commit)
        self._model_text = ""
        self._words_model = LanguageAttributes()
        self.editor.textChanged.connect(self._on_text_changed)
        self._update_status()
        self.setEnabled(False)

    def _word_editors(self) -> dict[str, QLineEdit]:
        editors: dict[str, QLineEdit] = {}
        examples = {"major_class": "airplane", "root_class": "vehicle", "colour": "white"}
        for field in WORD_FIELDS:
            edit = QLineEdit()
            edit.setPlaceholderText(examples.get(field, "e.g. top left"))
            edit.editingFinished.connect(lambda f=field: self._commit_word(f))
            edit.textChanged.connect(self._update_words_status)
            editors[field] = edit
        completer = QCompleter(list(POSITION_SUGGESTIONS), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        editors["initial_position"].setCompleter(completer)
        return editors

    # ------------------------------------------------------------ model -> view
    def set_words(self, words: LanguageAttributes) -> None:
        """Show the annotation's attribute words (after opening, undo or redo)."""
        for field, editor in self.words.items():
            value = words.word(field)
            if editor.text() != value:
                editor.blockSignals(True)
                editor.setText(value)
                editor.blockSignals(False)
        self._words_model = words
        self._update_words_status()

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
    def _commit_word(self, field: str) -> None:
        editor = self.words[field]
        try:
            word = normalize_word(editor.text(), field)
        except ValueError as error:
            self.words_status.setText(f"⚠ {error}")
            return
        if word != self._words_model.word(field):
            self.word_committed.emit(field, word)

    def _update_words_status(self) -> None:
        texts = {field: editor.text().strip() for field, editor in self.words.items()}
        filled = [field for field, text in texts.items() if text]
        if not filled:
            self.words_status.setText("")
        elif len(filled) < len(WORD_FIELDS):
            missing = ", ".join(WORD_LABELS[f] for f in WORD_FIELDS if not texts[f])
            self.words_status.setText(f"⚠ Missing: {missing} (all four or none are exported).")
        elif not is_known_position(texts["initial_position"]):
            self.words_status.setText(
                "⚠ Unusual initial position; VLT uses words such as left, top, center."
            )
        else:
            self.words_status.setText("")

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
