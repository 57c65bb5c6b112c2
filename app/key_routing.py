"""Navigation keys belong to the frame view, not to whatever panel widget a click left focused.

Qt first offers a key to the focused widget as a *shortcut override*; widgets that use the key
themselves claim it there, and the window's shortcut never fires. A read-only line edit claims
Left/Right/Home/End to move its text cursor, a tab bar and a list claim the arrows, so after a
click in a dock (or a run that disabled the focused combo box and moved the focus on) stepping
through frames silently stopped. This filter takes the navigation keys back from every widget
of the window except the ones a person types into (editable text fields, spin boxes, editable
combo boxes) and the exempt ones (the frame view, which claims arrows for a selected box).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)


def is_text_entry(widget: QWidget) -> bool:
    """Whether ``widget`` is something a person types text into (it keeps its keys)."""
    if isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)):
        return not widget.isReadOnly()
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return False


def key_codes(sequences: Iterable[str]) -> frozenset[int]:
    """The combined key codes (key | modifiers) of one-chord key sequences like "Shift+Left"."""
    codes = set()
    for text in sequences:
        sequence = QKeySequence(text)
        if sequence.count() == 1:
            codes.add(sequence[0].toCombined())
    return frozenset(codes)


class NavigationKeyRouter(QObject):
    """Application event filter: lets ``keys`` reach ``window``'s shortcuts from any of its
    widgets except text entries and ``exempt`` widgets (and their children)."""

    def __init__(
        self, window: QWidget, keys: Iterable[str], exempt: Iterable[QWidget] = ()
    ) -> None:
        super().__init__(window)
        self._window = window
        self._codes = key_codes(keys)
        self._exempt = tuple(exempt)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False  # dialogs and popups (a combo box's open list) keep their keys
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        code = event.keyCombination().key().value | modifiers.value
        if code not in self._codes or is_text_entry(watched):
            return False
        # Swallowed (True): the widget never claims the key, so the window's shortcut fires.
        return not any(w is watched or w.isAncestorOf(watched) for w in self._exempt)
