"""The catalogue: pinned URLs, well-formed entries, checksums equal to the authors' files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from costcore.weights import (
    CATALOGUE,
    WeightsCatalogueError,
    entries_for_engine,
    find_entry,
)
from costcore.weights.catalogue import NANOTRACK_COMMIT
from tests.conftest import PROJECT_ROOT

SHARED_NANOTRACK = PROJECT_ROOT.parent / "shared" / "models" / "nanotrack"


def test_entries_are_unique_and_well_formed() -> None:
    names = [entry.name for entry in CATALOGUE]
    assert len(names) == len(set(names))
    for entry in CATALOGUE:
        assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*", entry.name)
        assert entry.engine and entry.description and entry.license
        assert entry.files
        assert len({f.name for f in entry.files}) == len(entry.files)
        for file in entry.files:
            assert re.fullmatch(r"[0-9a-f]{64}", file.sha256), file
            assert file.size > 0
            assert file.url.startswith("https://")
            assert file.url.rsplit("/", 1)[-1] == file.name


def test_nanotrack_urls_are_pinned_to_the_published_commit() -> None:
    nanotrack = [e for e in CATALOGUE if e.name.startswith("nanotrack")]
    assert {e.name for e in nanotrack} == {
        "nanotrack-v1",
        "nanotrack-v2",
        "nanotrack-v3",
        "nanotrack-v2-onnx",
    }
    prefix = (
        "https://raw.githubusercontent.com/HonglinChu/SiamTrackers/"
        "248663fde6bf7c40190cf10ee396d5662919ecd3/NanoTrack/models/"
    )
    assert NANOTRACK_COMMIT in prefix
    for entry in nanotrack:
        assert entry.license == "Apache-2.0"
        for file in entry.files:
            assert file.url.startswith(prefix), file.url


def test_engine_lookup_prefers_the_newest_nanotrack() -> None:
    assert [e.name for e in entries_for_engine("nanotrack")] == [
        "nanotrack-v3",
        "nanotrack-v2",
        "nanotrack-v1",
    ]
    assert [e.name for e in entries_for_engine("opencv-nano")] == ["nanotrack-v2-onnx"]
    assert entries_for_engine("no-such-engine") == ()


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(WeightsCatalogueError, match="unknown weights 'nanotrack-v9'") as caught:
        find_entry("nanotrack-v9")
    assert "nanotrack-v3" in str(caught.value)


def test_checksums_and_sizes_equal_the_authors_files_in_shared() -> None:
    if not SHARED_NANOTRACK.is_dir():
        pytest.skip(f"real weights not available: {SHARED_NANOTRACK}")
    sums = {}
    for line in (SHARED_NANOTRACK / "SHA256SUMS").read_text().splitlines():
        digest, relative = line.split()
        sums[Path(relative).name] = (digest, SHARED_NANOTRACK / relative)
    compared = 0
    for entry in CATALOGUE:
        for file in entry.files:
            if file.name not in sums:
                continue  # V1 is not in ../shared (checked against the authors' repository)
            digest, path = sums[file.name]
            assert file.sha256 == digest, file.name
            assert file.size == path.stat().st_size, file.name
            assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
            compared += 1
    assert compared == 4  # V3 .pth, V2 .pth, V2 backbone and head ONNX


def test_readme_weights_table_lists_every_entry_with_its_license() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Weights\n", 1)[1].split("\n### ", 1)[0]
    rows = {line.split("|")[1].strip(" `"): line for line in section.splitlines() if "| `" in line}
    assert set(rows) == {entry.name for entry in CATALOGUE}
    for entry in CATALOGUE:
        assert entry.license in rows[entry.name]
        assert f"{entry.size / 1e6:.1f} MB" in rows[entry.name]
    assert "COST_ANNOTATOR_WEIGHTS" in section and "--from" in section
