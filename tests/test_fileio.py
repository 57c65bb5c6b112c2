"""Atomic writes: all or nothing, readable like any other file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from costcore import fileio


def test_atomic_write_replaces_content_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    fileio.atomic_write_text(target, "one\n")
    fileio.atomic_write_text(target, "two\n")
    assert target.read_bytes() == b"two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_atomic_write_uses_the_umask_mode_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        fileio.atomic_write_bytes(tmp_path / "r.txt", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.txt").stat().st_mode) == 0o644


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "s.json"
    fileio.atomic_write_text(target, "good")

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(OSError):
        fileio.atomic_write_text(target, "bad")
    assert target.read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_move_folder_into_place_swaps_and_restores_on_failure(tmp_path: Path, monkeypatch) -> None:
    dest, built = tmp_path / "export", tmp_path / ".export.partial"
    dest.mkdir()
    (dest / "old.txt").write_text("old")
    built.mkdir()
    (built / "new.txt").write_text("new")
    real_rename = os.rename

    def fail_the_swap(src: object, dst: object) -> None:
        if Path(src) == built:
            raise OSError("device busy")
        real_rename(src, dst)

    monkeypatch.setattr(fileio.os, "rename", fail_the_swap)
    with pytest.raises(OSError, match="device busy"):
        fileio.move_folder_into_place(built, dest)
    assert (dest / "old.txt").read_text() == "old"  # the previous folder is back

    monkeypatch.setattr(fileio.os, "rename", real_rename)
    fileio.move_folder_into_place(built, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
