"""Which engine runs by default and which engines are ready, from the weights cache (issue 13).

The app builds its engine picker on these (ready marks, a Download button that runs
``costcore.weights.download_entry`` in a worker, NanoTrack by default when its weights are
there), and ``track``/``run`` pick their default engine with them. All of it is answered from
file names, sizes and stamps: no weights file is hashed, torch and Qt are not imported.

The cache is a temporary folder (``COST_ANNOTATOR_WEIGHTS``, set for every test by conftest);
the catalogue is replaced by small fake NanoTrack entries of random bytes, so nothing here
needs the real weights.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from costcore.engines import (
    EngineError,
    Readiness,
    catalogued_engine,
    default_engine_name,
    engine_info,
    engine_readiness,
)
from costcore.weights import (
    CATALOGUE,
    download_entry,
    find_entry,
    install_from,
)
from costcore.weights import catalogue as catalogue_module
from costcore.weights import status as status_module
from costcore.weights.cache_folder import partial_path
from tests.conftest import PROJECT_ROOT
from tests.weights_server import FileServer, make_entry

BASE = "http://127.0.0.1:9"  # never contacted unless a test serves it
V3 = os.urandom(3000)
V2 = os.urandom(2000)
V1 = os.urandom(2500)
HINT = (
    "NanoTrack weights are not installed: run `python -m costcore weights download "
    "nanotrack-v3` (or `... --from FILE` offline)"
)


def _fake_catalogue(base: str = BASE):
    return (
        make_entry("nanotrack-v3", base, {"nanotrackv3.pth": V3}, engine="nanotrack"),
        make_entry("nanotrack-v2", base, {"nanotrackv2.pth": V2}, engine="nanotrack"),
        make_entry("nanotrack-v1", base, {"nanotrackv1.pth": V1}, engine="nanotrack"),
    )


@pytest.fixture
def fake_catalogue(monkeypatch: pytest.MonkeyPatch):
    entries = _fake_catalogue()
    monkeypatch.setattr(catalogue_module, "CATALOGUE", entries)
    return entries


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """A folder of 'downloaded' files, named as a browser might."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    (folder / "nanotrackv3 (1).pth").write_bytes(V3)
    (folder / "nanotrackv2.pth").write_bytes(V2)
    (folder / "nanotrackv1.pth").write_bytes(V1)
    return folder


def _forbid_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(status_module, "sha256_of_file", refuse)


def test_weights_entries_name_what_can_be_downloaded() -> None:
    """From the real catalogue: the preferred entry first; engines without any have none."""
    assert engine_info("nanotrack").weights_entries == (
        "nanotrack-v3",
        "nanotrack-v2",
        "nanotrack-v1",
    )
    assert all(find_entry(name).engine == "nanotrack" for name in CATALOGUE[0].name.split())
    for name in ("cost", "csrt", "allinone"):
        assert engine_info(name).weights_entries == ()


def test_default_engine_without_weights_follows_the_cache(
    fake_catalogue, downloads: Path, empty_weights_cache: Path
) -> None:
    assert default_engine_name(None) == "csrt"
    install_from("nanotrack-v1", [downloads])  # any version will do
    assert (empty_weights_cache / "nanotrack-v1" / "nanotrackv1.pth").is_file()
    assert default_engine_name(None) == "nanotrack"
    assert default_engine_name("") == "nanotrack"


def test_default_engine_with_weights_is_theirs(
    fake_catalogue, downloads: Path, tmp_path: Path
) -> None:
    install_from("nanotrack-v3", [downloads])  # installed, but other weights are configured
    cost = tmp_path / "checkpoints" / "cost"
    cost.mkdir(parents=True)
    (cost / "config.json").write_text("{}")
    (cost / "model.safetensors").write_bytes(b"x" * 100)
    assert default_engine_name(cost) == "cost"
    assert default_engine_name(tmp_path / "transt.pth") == "cost"  # need not exist
    # NanoTrack's files, by published size (whatever the name) or by name
    assert default_engine_name(downloads / "nanotrackv3 (1).pth") == "nanotrack"
    renamed = tmp_path / "tracker.pth"
    renamed.write_bytes(V2)
    assert catalogued_engine(renamed) == "nanotrack"
    finetuned = tmp_path / "NanoTrack_finetuned.pth"
    finetuned.write_bytes(b"other weights")
    assert default_engine_name(finetuned) == "nanotrack"
    folder = tmp_path / "nano-folder"
    folder.mkdir()
    (folder / "weights.pth").write_bytes(V1)
    (folder / "config.json").write_text("{}")
    assert default_engine_name(folder) == "nanotrack"
    assert catalogued_engine(tmp_path / "nowhere") is None
    assert catalogued_engine(cost) is None


def test_the_default_hashes_nothing(
    fake_catalogue, empty_weights_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file copied into the cache by hand counts by its size (it is hashed when the engine
    loads it); a file already found wrong counts by its stamp, without a new hash."""
    folder = empty_weights_cache / "nanotrack-v2"
    folder.mkdir()
    (folder / "nanotrackv2.pth").write_bytes(V2)
    with monkeypatch.context() as patch:
        _forbid_hashing(patch)
        assert default_engine_name(None) == "nanotrack"
        assert engine_readiness("nanotrack").ready
    (folder / "nanotrackv2.pth").write_bytes(bytes(len(V2)))  # right size, wrong bytes
    assert status_module.installed_path("nanotrack-v2") is None  # hashed once, stamped bad
    _forbid_hashing(monkeypatch)
    assert default_engine_name(None) == "csrt"
    readiness = engine_readiness("nanotrack")
    assert not readiness.ready and "nanotrack-v2 is corrupt" in readiness.reason


def test_readiness_of_engines_without_catalogued_weights(fake_catalogue, tmp_path: Path) -> None:
    assert engine_readiness("csrt") == Readiness(True, "CSRT: built in, needs no weights")
    cost = engine_readiness("cost")
    assert not cost.ready and cost.downloads == () and cost.weights is None
    assert cost.reason == f"COST needs weights: {engine_info('cost').weights_hint}"
    given = tmp_path / "transt.pth"
    given.write_bytes(b"x")
    assert engine_readiness("cost", given) == Readiness(True, f"COST: weights {given}", (), given)
    missing = engine_readiness("transt", tmp_path / "gone.pth")
    assert not missing.ready and missing.reason.endswith(f"weights not found: {tmp_path}/gone.pth")
    with pytest.raises(EngineError, match="unknown tracking engine 'siamfc'"):
        engine_readiness("siamfc")


def test_nanotrack_readiness_follows_installs_and_downloads(
    fake_catalogue, downloads: Path, empty_weights_cache: Path
) -> None:
    none = engine_readiness("nanotrack")
    assert none == Readiness(False, HINT, ("nanotrack-v3", "nanotrack-v2", "nanotrack-v1"))

    path = install_from("nanotrack-v2", [downloads])
    ready = engine_readiness("nanotrack")
    assert ready.ready and ready.weights == path
    assert "nanotrack-v2 installed" in ready.reason
    assert ready.downloads == ("nanotrack-v3", "nanotrack-v1")  # V3 is still on offer

    # given weights win over the cache
    given = engine_readiness("nanotrack", downloads / "nanotrackv1.pth")
    assert given.ready and given.weights == downloads / "nanotrackv1.pth"
    assert not engine_readiness("nanotrack", downloads / "gone.pth").ready

    install_from("nanotrack-v3", [downloads])
    best = engine_readiness("nanotrack")
    assert best.weights == empty_weights_cache / "nanotrack-v3" / "nanotrackv3.pth"
    assert best.downloads == ("nanotrack-v1",)


def test_a_stopped_download_is_said(fake_catalogue, empty_weights_cache: Path) -> None:
    folder = empty_weights_cache / "nanotrack-v3"
    folder.mkdir()
    partial_path(folder / "nanotrackv3.pth").write_bytes(V3[:100])
    readiness = engine_readiness("nanotrack")
    assert not readiness.ready
    assert readiness.reason == f"{HINT} (nanotrack-v3 is partial)"
    assert readiness.downloads[0] == "nanotrack-v3"  # downloading again resumes it


def test_the_download_button_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the app does: not ready -> download_entry(first offered) -> ready."""
    files = {"/nanotrack-v3/nanotrackv3.pth": V3}
    with FileServer(files) as server:
        monkeypatch.setattr(catalogue_module, "CATALOGUE", _fake_catalogue(server.base_url))
        before = engine_readiness("nanotrack")
        assert not before.ready
        download_entry(before.downloads[0])
        after = engine_readiness("nanotrack")
    assert after.ready and "nanotrack-v3 installed" in after.reason
    assert after.downloads == ("nanotrack-v2", "nanotrack-v1")
    assert default_engine_name(None) == "nanotrack"


def test_asking_imports_neither_torch_nor_qt(fake_catalogue, empty_weights_cache: Path) -> None:
    code = (
        "import sys\n"
        "from costcore.engines import default_engine_name, engine_infos, engine_readiness\n"
        "print(default_engine_name(None))\n"
        "for info in engine_infos():\n"
        "    engine_readiness(info.name)\n"
        "heavy = [m for m in ('torch', 'cv2', 'PySide6') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "csrt"  # the subprocess sees the real catalogue and this empty cache
    assert out[1] == "[]"
