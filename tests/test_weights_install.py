"""Offline installs: a file downloaded elsewhere is accepted by its checksum, not its name."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from costcore.weights import (
    CATALOGUE,
    WeightsSourceError,
    WeightsStatus,
    entry_status,
    install_from,
    installed_path,
)
from costcore.weights.integrity import STAMP_FILE_NAME
from tests.conftest import PROJECT_ROOT
from tests.weights_server import make_entry

SHARED_NANOTRACK = PROJECT_ROOT.parent / "shared" / "models" / "nanotrack"
BASE = "http://127.0.0.1:9"
ONE = os.urandom(4000)
TWO = os.urandom(6000)


def test_a_renamed_file_in_a_nested_folder_is_found_by_checksum(tmp_path: Path) -> None:
    downloads = tmp_path / "Downloads" / "deep"
    downloads.mkdir(parents=True)
    (downloads / "model (1).pth").write_bytes(ONE)
    (downloads / "same-size-other.bin").write_bytes(bytes(len(ONE)))
    entry = make_entry("w", BASE, {"model.pth": ONE})
    cache = tmp_path / "cache"
    assert install_from(entry, [tmp_path / "Downloads"], cache) == cache / "w" / "model.pth"
    assert (cache / "w" / "model.pth").read_bytes() == ONE
    assert sorted(p.name for p in (cache / "w").iterdir()) == [STAMP_FILE_NAME, "model.pth"]


def test_a_single_file_source(tmp_path: Path) -> None:
    source = tmp_path / "x.bin"
    source.write_bytes(ONE)
    entry = make_entry("w", BASE, {"model.pth": ONE})
    install_from(entry, [source], tmp_path / "cache")
    assert installed_path(entry, tmp_path / "cache") == tmp_path / "cache" / "w" / "model.pth"


def test_a_wrong_file_is_refused_and_nothing_installed(tmp_path: Path) -> None:
    source = tmp_path / "model.pth"
    source.write_bytes(bytes(len(ONE)))
    entry = make_entry("w", BASE, {"model.pth": ONE})
    with pytest.raises(WeightsSourceError) as caught:
        install_from(entry, [source], tmp_path / "cache")
    message = str(caught.value)
    assert message.startswith(f"{source}: no file with the SHA-256 of w's model.pth")
    assert entry.files[0].sha256 in message and entry.files[0].url in message
    assert not (tmp_path / "cache" / "w" / "model.pth").exists()


def test_an_entry_installs_only_when_all_its_files_are_found(tmp_path: Path) -> None:
    (tmp_path / "a.onnx").write_bytes(ONE)
    entry = make_entry("pair", BASE, {"a.onnx": ONE, "b.onnx": TWO})
    cache = tmp_path / "cache"
    with pytest.raises(WeightsSourceError, match="b.onnx"):
        install_from(entry, [tmp_path / "a.onnx"], cache)
    assert entry_status(entry, cache) is WeightsStatus.MISSING
    (tmp_path / "b.onnx").write_bytes(TWO)
    assert install_from(entry, [tmp_path / "a.onnx", tmp_path / "b.onnx"], cache) == cache / "pair"
    assert entry_status(entry, cache) is WeightsStatus.INSTALLED


def test_a_missing_source_path_is_named(tmp_path: Path) -> None:
    entry = make_entry("w", BASE, {"model.pth": ONE})
    with pytest.raises(WeightsSourceError, match="nowhere.pth: no such file or folder"):
        install_from(entry, [tmp_path / "nowhere.pth"], tmp_path / "cache")


def test_real_nanotrack_weights_install_from_the_shared_folder(tmp_path: Path) -> None:
    if not SHARED_NANOTRACK.is_dir():
        pytest.skip(f"real weights not available: {SHARED_NANOTRACK}")
    for name in ("nanotrack-v3", "nanotrack-v2", "nanotrack-v2-onnx"):
        entry = next(e for e in CATALOGUE if e.name == name)
        install_from(entry, [SHARED_NANOTRACK], tmp_path)
        assert entry_status(entry, tmp_path) is WeightsStatus.INSTALLED
    v3 = tmp_path / "nanotrack-v3" / "nanotrackv3.pth"
    assert v3.read_bytes() == (SHARED_NANOTRACK / "nanotrackv3" / "nanotrackv3.pth").read_bytes()
    # the read-only shared files become ordinary user files in the cache
    assert stat.S_IMODE(v3.stat().st_mode) & stat.S_IWUSR


def test_a_cache_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "model.pth").write_bytes(ONE)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    entry = make_entry("w", BASE, {"model.pth": ONE})
    with pytest.raises(WeightsSourceError, match=f"cannot install {tmp_path / 'model.pth'}"):
        install_from(entry, [tmp_path / "model.pth"], blocked)
