"""Dark (qdarkstyle) and light themes, plus the few colours the frame view needs per theme."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def apply_theme(app: QApplication, name: str) -> None:
    """Switch the whole application to ``name`` ("dark" or "light") immediately."""
    extra = _style_tweaks()
    if name == "dark":
        import qdarkstyle

        app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6") + extra)
    else:
        app.setStyle("Fusion")
        app.setStyleSheet(extra)
    app.setProperty("cost_theme", name)


def app_icon() -> QIcon:
    """The window icon (resources/icon.svg)."""
    return QIcon(str(RESOURCES / "icon.svg"))


def _style_tweaks() -> str:
    """Small theme-independent adjustments kept in resources/ (so they are editable as CSS)."""
    path = RESOURCES / "style.qss"
    try:
        return "\n" + path.read_text(encoding="utf-8")
    except OSError:
        return ""
