"""The engine picker says which engines are ready, gets missing NanoTrack weights in the app
(served here by a local HTTP mirror of the authors' files), and NanoTrack becomes the default
engine once its weights are installed (CSRT stays the default without them)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from costcore.annotation import Provenance
from costcore.assist.plan import Extent
from costcore.weights import catalogue
from tests.conftest import PROJECT_ROOT
from tests.gui_helpers import TIMEOUT_MS, make_image_folder, make_window, open_and_wait
from tests.weights_server import FileServer

SHARED_NANOTRACK = PROJECT_ROOT.parent / "shared" / "models" / "nanotrack"
GITHUB = "https://raw.githubusercontent.com"


@pytest.fixture
def cache(empty_weights_cache: Path) -> Path:
    """The test's own (empty) per-user weights cache."""
    return empty_weights_cache


@pytest.fixture
def mirror(monkeypatch: pytest.MonkeyPatch):
    """The catalogue's NanoTrack files, served from ../shared by a local server."""
    if not SHARED_NANOTRACK.is_dir():
        pytest.skip(f"real weights not available: {SHARED_NANOTRACK}")
    shared = {p.name: p.read_bytes() for p in SHARED_NANOTRACK.rglob("*") if p.is_file()}
    entries = [e for e in catalogue.CATALOGUE if all(f.name in shared for f in e.files)]
    served = {f.url.removeprefix(GITHUB): shared[f.name] for e in entries for f in e.files}
    with FileServer(served) as server:
        local = tuple(
            dataclasses.replace(
                entry,
                files=tuple(
                    dataclasses.replace(f, url=f.url.replace(GITHUB, server.base_url))
                    for f in entry.files
                ),
            )
            for entry in catalogue.CATALOGUE
        )
        monkeypatch.setattr(catalogue, "CATALOGUE", local)
        yield server


def item_text(panel, name: str) -> str:
    return panel.engine.itemText(panel.engine.findData(name))


def test_download_in_the_picker_then_nanotrack_is_ready_and_the_default(
    qtbot, tmp_path, cache, mirror
) -> None:
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, make_image_folder(tmp_path / "clip", 12, (160, 96)))
    panel, model = window.tracking_panel, window.model
    assert model.engine.name == "csrt"  # nothing installed: the embedded default
    assert "not ready" in item_text(panel, "nanotrack") and "not ready" in item_text(panel, "cost")
    assert "not ready" not in item_text(panel, "csrt")
    panel.engine.setCurrentIndex(panel.engine.findData("nanotrack"))
    status = panel.status
    assert status.label.text().startswith("⚠ NanoTrack weights are not installed here")
    assert "nanotrack-v3 (3.5 MB, Apache-2.0" in status.label.text()
    assert status.download.isVisible() and status.download.text() == "Download nanotrack-v3"
    model.set_box(0, (40.0, 30.0, 24.0, 18.0))
    messages: list[str] = []
    model.events.message.connect(messages.append)
    assert not model.track(extent=Extent.END)  # not ready: said, nothing runs
    assert "Download in the Tracking panel" in messages[-1]

    status.download.click()
    qtbot.waitUntil(lambda: status.label.text().startswith("✓"), timeout=TIMEOUT_MS * 2)
    assert [r.path for r in mirror.requests] == [
        f.url.removeprefix(mirror.base_url) for f in catalogue.CATALOGUE[0].files
    ]
    assert (cache / "nanotrack-v3" / "nanotrackv3.pth").is_file()
    assert "nanotrack-v3 installed" in status.label.text()
    assert "not ready" not in item_text(panel, "nanotrack")
    assert not status.download.isVisible()

    assert model.track(extent=Extent.END)  # ready now: a real NanoTrack run
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS * 2)
    frame = model.annotation.frame(11)
    assert frame.provenance is Provenance.TRACKED and frame.engine == "nanotrack"
    assert model.score_map(11) is not None  # NanoTrack keeps a score map per frame
    window.close()

    # a new window with fresh settings: NanoTrack is the default now, and the status bar says so
    again = make_window(qtbot, tmp_path, "fresh.ini")
    assert again.model.engine.name == "nanotrack"
    assert again.tracking_panel.engine.currentData() == "nanotrack"
    assert again.engine_label.text().startswith("nanotrack")
    again.close()


def test_offline_the_picker_says_where_to_put_the_file_and_installs_from_it(
    qtbot, tmp_path, cache, mirror, monkeypatch
) -> None:
    mirror.behaviour.cut_after = 0  # the network drops every transfer
    window = make_window(qtbot, tmp_path)
    open_and_wait(qtbot, window, make_image_folder(tmp_path / "clip", 4))
    panel = window.tracking_panel
    panel.engine.setCurrentIndex(panel.engine.findData("nanotrack"))
    status = panel.status
    status.download.click()
    qtbot.waitUntil(lambda: status.download.isVisible(), timeout=TIMEOUT_MS)
    assert status.label.text().startswith("⚠") and "partial" in status.label.text()
    fetched = SHARED_NANOTRACK / "nanotrackv3" / "nanotrackv3.pth"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: (str(fetched), "")))
    status.from_file.click()
    qtbot.waitUntil(lambda: status.label.text().startswith("✓"), timeout=TIMEOUT_MS)
    assert (cache / "nanotrack-v3" / "nanotrackv3.pth").read_bytes() == fetched.read_bytes()
    window.close()
