"""Which weights are installed: cheap at start-up (stamps, no re-hash), exact on ``verify``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from costcore.weights import (
    WeightsNotInstalledError,
    WeightsStatus,
    check_entry,
    entry_status,
    first_installed,
    install_from,
    installed_path,
    require_installed,
    verify_entry,
)
from costcore.weights import catalogue as catalogue_module
from costcore.weights import status as status_module
from costcore.weights.integrity import STAMP_FILE_NAME
from tests.weights_server import make_entry

BASE = "http://127.0.0.1:9"  # never contacted here
ONE = os.urandom(3000)
TWO = os.urandom(5000)


def _forbid_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> str:
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(status_module, "sha256_of_file", refuse)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "one.pth").write_bytes(ONE)
    (folder / "two.onnx").write_bytes(TWO)
    return folder


def test_missing_entry(tmp_path: Path) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    assert entry_status(entry, tmp_path) is WeightsStatus.MISSING
    assert installed_path(entry, tmp_path) is None
    assert not (tmp_path / "w").exists()  # asking creates nothing


def test_installed_single_file_is_the_file_and_several_files_the_folder(
    tmp_path: Path, sources: Path
) -> None:
    single = make_entry("single", BASE, {"one.pth": ONE})
    pair = make_entry("pair", BASE, {"one.pth": ONE, "two.onnx": TWO})
    install_from(single, [sources], tmp_path)
    install_from(pair, [sources], tmp_path)
    assert installed_path(single, tmp_path) == tmp_path / "single" / "one.pth"
    assert installed_path(pair, tmp_path) == tmp_path / "pair"
    assert (tmp_path / "pair" / "two.onnx").read_bytes() == TWO


def test_status_of_stamped_files_does_not_rehash(
    tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE, "two.onnx": TWO})
    install_from(entry, [sources], tmp_path)
    assert (tmp_path / "w" / STAMP_FILE_NAME).is_file()
    _forbid_hashing(monkeypatch)
    assert entry_status(entry, tmp_path) is WeightsStatus.INSTALLED
    assert installed_path(entry, tmp_path) == tmp_path / "w"


def test_a_replaced_file_is_rehashed_and_found_corrupt(tmp_path: Path, sources: Path) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    install_from(entry, [sources], tmp_path)
    target = tmp_path / "w" / "one.pth"
    before = target.stat().st_mtime_ns
    target.write_bytes(bytes(len(ONE)))  # same size, other bytes
    os.utime(target, ns=(before + 10**9, before + 10**9))
    checks = check_entry(entry, tmp_path)
    assert checks[0].status is WeightsStatus.CORRUPT
    assert checks[0].file.sha256 in checks[0].detail
    assert entry_status(entry, tmp_path) is WeightsStatus.CORRUPT
    assert installed_path(entry, tmp_path) is None


def test_a_file_put_in_place_by_hand_is_hashed_once_then_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "one.pth").write_bytes(ONE)
    assert entry_status(entry, tmp_path) is WeightsStatus.INSTALLED
    _forbid_hashing(monkeypatch)
    assert installed_path(entry, tmp_path) == tmp_path / "w" / "one.pth"


def test_wrong_size_is_corrupt_without_hashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "one.pth").write_bytes(ONE[:-1])
    _forbid_hashing(monkeypatch)
    check = check_entry(entry, tmp_path)[0]
    assert check.status is WeightsStatus.CORRUPT
    assert check.detail == f"{len(ONE) - 1} bytes, expected {len(ONE)}"


def test_partial_download_and_incomplete_entries_are_partial(tmp_path: Path) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE, "two.onnx": TWO})
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "one.pth.partial").write_bytes(ONE[:100])
    checks = check_entry(entry, tmp_path)
    assert [c.status for c in checks] == [WeightsStatus.PARTIAL, WeightsStatus.MISSING]
    assert checks[0].detail == f"download stopped at 100 of {len(ONE)} bytes"
    assert entry_status(entry, tmp_path) is WeightsStatus.PARTIAL
    (tmp_path / "w" / "one.pth.partial").unlink()
    (tmp_path / "w" / "one.pth").write_bytes(ONE)
    assert entry_status(entry, tmp_path) is WeightsStatus.PARTIAL  # one of two files
    assert installed_path(entry, tmp_path) is None


def test_verify_rehashes_what_the_cheap_status_trusts(tmp_path: Path, sources: Path) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    install_from(entry, [sources], tmp_path)
    target = tmp_path / "w" / "one.pth"
    info = target.stat()
    target.write_bytes(bytes(len(ONE)))  # silent corruption: same size, same mtime
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert entry_status(entry, tmp_path) is WeightsStatus.INSTALLED  # stamps are trusted
    check = verify_entry(entry, tmp_path)[0]
    assert check.status is WeightsStatus.CORRUPT
    assert check.actual_sha256 is not None and check.actual_sha256 != entry.files[0].sha256
    # the bad stamp is forgotten: the cheap status now sees it too
    assert entry_status(entry, tmp_path) is WeightsStatus.CORRUPT


def test_a_damaged_stamp_record_means_rehash_not_failure(tmp_path: Path, sources: Path) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    install_from(entry, [sources], tmp_path)
    (tmp_path / "w" / STAMP_FILE_NAME).write_text("{not json")
    assert entry_status(entry, tmp_path) is WeightsStatus.INSTALLED


def test_require_installed_says_how_to_get_the_weights(tmp_path: Path) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    with pytest.raises(WeightsNotInstalledError) as caught:
        require_installed(entry, tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "w") in message and "missing" in message
    assert "python -m costcore weights download w" in message


def test_first_installed_picks_the_preferred_installed_entry(
    tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newer = make_entry("eng-v2", BASE, {"two.onnx": TWO}, engine="eng")
    older = make_entry("eng-v1", BASE, {"one.pth": ONE}, engine="eng")
    monkeypatch.setattr(catalogue_module, "CATALOGUE", (newer, older))
    assert first_installed("eng", tmp_path) is None
    install_from("eng-v1", [sources], tmp_path)
    assert first_installed("eng", tmp_path) == (older, tmp_path / "eng-v1" / "one.pth")
    install_from("eng-v2", [sources], tmp_path)
    assert first_installed("eng", tmp_path) == (newer, tmp_path / "eng-v2" / "two.onnx")
    assert first_installed("other", tmp_path) is None


def test_a_folder_where_the_file_should_be_is_corrupt(tmp_path: Path) -> None:
    entry = make_entry("w", BASE, {"one.pth": ONE})
    (tmp_path / "w" / "one.pth").mkdir(parents=True)
    check = check_entry(entry, tmp_path)[0]
    assert check.status is WeightsStatus.CORRUPT and check.detail == "not a readable file"
    assert installed_path(entry, tmp_path) is None


def test_quick_status_reads_no_bytes_and_bad_bytes_are_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``quick`` (start-up): a right-size file copied in by hand counts until it is hashed;
    once hashed and found wrong, its stamp says so to every check without a new hash."""
    entry = make_entry("w", BASE, {"one.pth": ONE})
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "one.pth").write_bytes(bytes(len(ONE)))  # right size, wrong bytes
    with monkeypatch.context() as patch:
        _forbid_hashing(patch)
        assert entry_status(entry, tmp_path, quick=True) is WeightsStatus.INSTALLED
        assert installed_path(entry, tmp_path, quick=True) == tmp_path / "w" / "one.pth"
    assert entry_status(entry, tmp_path) is WeightsStatus.CORRUPT  # hashed once, stamped
    _forbid_hashing(monkeypatch)
    assert entry_status(entry, tmp_path) is WeightsStatus.CORRUPT
    assert entry_status(entry, tmp_path, quick=True) is WeightsStatus.CORRUPT
    check = check_entry(entry, tmp_path)[0]
    assert check.actual_sha256 is not None and check.actual_sha256 in check.detail
