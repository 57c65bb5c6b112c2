"""The line under the engine picker: is the engine ready, and if its weights are missing, get
them (Download, or From file… for an offline machine) without leaving the app."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.weights_download import WeightsDownload
from costcore.engines.registry import Readiness
from costcore.weights import find_entry


class EngineStatus(QWidget):
    """Shows a :class:`~costcore.engines.registry.Readiness`; fetches what it names."""

    #: weights were installed: the picker asks everything again
    installed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.downloads: tuple[str, ...] = ()
        self.fetcher = WeightsDownload(self)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download = QPushButton("Download weights")
        self.from_file = QPushButton("From file…")
        self.from_file.setToolTip(
            "Offline: install weights you downloaded elsewhere (checked by size and SHA-256)"
        )
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel = QPushButton("Cancel")
        for widget in (self.download, self.from_file, self.progress, self.cancel):
            widget.setVisible(False)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for widget in (self.download, self.from_file, self.progress, self.cancel):
            buttons.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        self.download.clicked.connect(self._download)
        self.from_file.clicked.connect(self._from_file)
        self.cancel.clicked.connect(self.fetcher.cancel)
        self.fetcher.progress.connect(self._progress)
        self.fetcher.finished.connect(self._finished)
        self.fetcher.failed.connect(self._failed)

    def show_readiness(self, readiness: Readiness, engine: str) -> None:
        """✓ with what ``engine`` will load, or ⚠ with why not and how to get it."""
        text = f"{'✓' if readiness.ready else '⚠'} {readiness.reason}"
        if not readiness.ready and readiness.downloads:
            entry = find_entry(readiness.downloads[0])
            text = (
                f"⚠ {engine} weights are not installed here: download {entry.name} "
                f"({entry.size / 1e6:.1f} MB, {entry.license}, the authors' published file) or "
                "install a copy you fetched elsewhere."
            )
        self.label.setText(text)
        self.label.setObjectName("" if readiness.ready else "WarningLabel")
        self.label.style().polish(self.label)
        self.downloads = () if readiness.ready else readiness.downloads
        busy = self.fetcher.running
        self.download.setVisible(bool(self.downloads) and not busy)
        self.from_file.setVisible(bool(self.downloads) and not busy)
        if self.downloads:
            self.download.setText(f"Download {self.downloads[0]}")
            self.download.setToolTip(
                f"Fetch {self.downloads[0]} from its authors' published files (pinned, checked)"
            )

    def _download(self) -> None:
        if self.downloads and self.fetcher.download(self.downloads[0]):
            self._running(True)

    def _from_file(self) -> None:
        if not self.downloads:
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Files of {self.downloads[0]}")
        if path and self.fetcher.install(self.downloads[0], path):
            self._running(True)

    def _running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel.setVisible(running)
        self.download.setVisible(not running and bool(self.downloads))
        self.from_file.setVisible(not running and bool(self.downloads))
        if running:
            self.progress.setRange(0, 0)  # busy until the first bytes arrive

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done / 1e6:.1f} / {total / 1e6:.1f} MB")

    def _finished(self, entry: str, path: str) -> None:
        self._running(False)
        self.installed.emit(entry)

    def _failed(self, message: str) -> None:
        self._running(False)
        self.label.setText(f"⚠ {message}")
