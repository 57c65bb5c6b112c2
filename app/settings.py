"""Persistent user preferences (theme, recent files, workspace) in one place.

Tests pass an explicit INI path so they never read or write the user's real settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from costcore.annotator.engine_settings import EngineSettings

#: the project's default workspace: sessions autosave here, exports land here
DEFAULT_WORKSPACE = Path(__file__).resolve().parents[1] / "annotations"
#: environment variable naming an INI file to use instead of the user's settings
SETTINGS_ENV = "COST_ANNOTATOR_SETTINGS"
MAX_RECENT = 10
THEMES = ("dark", "light")


class AppSettings:
    """Typed accessors over a QSettings store.

    ``path`` (or ``$COST_ANNOTATOR_SETTINGS``) selects an INI file; otherwise the platform's
    per-user store is used.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        path = path if path is not None else os.environ.get(SETTINGS_ENV)
        if path:
            self._store = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self._store = QSettings("COST", "COST Annotator")

    @property
    def store(self) -> QSettings:
        """The underlying QSettings (window geometry and dock state are saved through it)."""
        return self._store

    # ----------------------------------------------------------------- theme
    @property
    def theme(self) -> str:
        value = str(self._store.value("ui/theme", "dark"))
        return value if value in THEMES else "dark"

    @theme.setter
    def theme(self, value: str) -> None:
        if value not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}, got {value!r}")
        self._store.setValue("ui/theme", value)

    # ------------------------------------------------------------- workspace
    @property
    def workspace(self) -> Path:
        """Folder of sessions (``<video>/session.json``) and default export destination."""
        value = self._store.value("paths/workspace", "")
        return Path(str(value)) if value else DEFAULT_WORKSPACE

    @workspace.setter
    def workspace(self, value: str | Path) -> None:
        self._store.setValue("paths/workspace", str(value))

    # ------------------------------------------------------------- tokenizer
    @property
    def tokenizer_path(self) -> str:
        """A local BERT tokenizer folder for exact word-piece counts ("" = approximate)."""
        return str(self._store.value("language/tokenizer", "") or "")

    @tokenizer_path.setter
    def tokenizer_path(self, value: str) -> None:
        self._store.setValue("language/tokenizer", value)

    # ---------------------------------------------------------- recent files
    @property
    def recent_files(self) -> list[str]:
        value = self._store.value("paths/recent", [])
        if isinstance(value, str):  # QSettings returns a bare string for a one-item list
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent(self, path: str | Path) -> None:
        """Put ``path`` first in the recent list (no duplicates, at most MAX_RECENT)."""
        text = str(Path(path).resolve())
        items = [text] + [p for p in self.recent_files if p != text]
        self._store.setValue("paths/recent", items[:MAX_RECENT])

    def clear_recent(self) -> None:
        self._store.setValue("paths/recent", [])

    # --------------------------------------------------------------- tracking
    def engine_settings(self) -> EngineSettings:
        """The remembered engine choice. Weights are kept per engine (``tracking/weights/<name>``);
        the single ``tracking/weights`` of older versions belongs to the engine it was for."""
        store = self._store
        engine = str(store.value("tracking/engine", "") or "")
        weights: dict[str, str] = {}
        store.beginGroup("tracking/weights")
        for name in store.childKeys():
            value = str(store.value(name, "") or "")
            if value:
                weights[name] = value
        store.endGroup()
        legacy = str(store.value("tracking/weights", "") or "")
        settings = EngineSettings(
            engine,
            weights,
            str(store.value("tracking/device", "auto") or "auto"),
            self._language_form(),
        )
        if legacy and not weights:
            settings.weights[settings.weights_target().name] = legacy
        return settings

    def save_engine_settings(self, settings: EngineSettings) -> None:
        store = self._store
        store.setValue("tracking/engine", settings.engine)
        store.remove("tracking/weights")
        for name, path in settings.weights.items():
            store.setValue(f"tracking/weights/{name}", path)
        store.setValue("tracking/device", settings.device)
        store.setValue("tracking/language_form", settings.language_form)

    def _language_form(self) -> str:
        """What engines get as language: "sentence" or "attributes" (VLT's four words)."""
        value = str(self._store.value("tracking/language_form", "sentence") or "sentence")
        return value if value in ("sentence", "attributes") else "sentence"

    def flag(self, key: str, default: bool) -> bool:
        """A remembered on/off option (QSettings returns INI booleans as strings)."""
        value = self._store.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes", "on")
        return bool(value)

    def set_flag(self, key: str, value: bool) -> None:
        self._store.setValue(key, bool(value))

    def number(self, key: str, default: float) -> float:
        try:
            return float(self._store.value(key, default))
        except (TypeError, ValueError):
            return default

    def set_number(self, key: str, value: float) -> None:
        self._store.setValue(key, value)

    def sync(self) -> None:
        self._store.sync()
