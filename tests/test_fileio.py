"""Atomic writes: all or nothing, readable like any other file; what a killed writer left is
cleaned up by the next one, and a folder being replaced never goes missing."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
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
    monkeypatch.setattr(fileio, "_renameat2", None)  # the two-rename fallback
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


# ------------------------------------------------------------- temporaries of killed writers
def _dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _owned_by(pid: int, target: Path, kind: str) -> Path:
    """The name ``pid`` would give a temporary of ``target`` (same host)."""
    name = fileio.temporary_sibling(target, kind).name
    return target.with_name(name.replace(f"~{os.getpid()}@", f"~{pid}@"))


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    target = tmp_path / "session.json"
    target.write_text("{}")
    dead = _dead_pid()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead_file = _owned_by(dead, target, "tmp")
        dead_file.write_text("half")
        dead_folder = _owned_by(dead, target, "partial")
        (dead_folder / "imgs").mkdir(parents=True)
        live_file = _owned_by(sleeper.pid, target, "tmp")
        live_file.write_text("being written")
        own_file = fileio.temporary_sibling(target, "tmp")  # this process: a concurrent save
        own_file.write_text("being written")
        other_target = _owned_by(dead, tmp_path / "other.json", "tmp")
        other_target.write_text("not session.json's")
        unrelated = tmp_path / ".session.json.notes"
        unrelated.write_text("the user's")

        removed = fileio.remove_stale_temporaries(target)
        assert sorted(removed) == sorted([dead_file, dead_folder])
        for kept in (live_file, own_file, other_target, unrelated, target):
            assert kept.exists(), kept
    finally:
        sleeper.kill()
        sleeper.wait()
    fileio.remove_stale_temporaries(target)  # the sleeper is gone now: its file goes too
    assert not live_file.exists()


def test_legacy_temporaries_are_removed_only_when_old(tmp_path: Path) -> None:
    """Names from before temporaries carried their owner: only their age tells."""
    target = tmp_path / "Car"
    old_tmp = tmp_path / ".Car.k2j_x9q0.tmp"
    old_partial = tmp_path / ".Car.ab12cd34.partial"
    fresh_partial = tmp_path / ".Car.zz99yy88.partial"
    for path in (old_partial, fresh_partial):
        path.mkdir()
    old_tmp.write_text("x")
    long_ago = time.time() - fileio.LEGACY_STALE_AFTER_S - 60
    for path in (old_tmp, old_partial):
        os.utime(path, (long_ago, long_ago))
    assert sorted(fileio.remove_stale_temporaries(target)) == sorted([old_tmp, old_partial])
    assert fresh_partial.is_dir()


def test_a_folder_set_aside_by_a_cut_swap_is_put_back(tmp_path: Path) -> None:
    dest = tmp_path / "Car"
    aside = _owned_by(_dead_pid(), dest, "old")
    aside.mkdir()
    (aside / "groundtruth_rect.txt").write_text("1,2,3,4\n")
    assert fileio.remove_stale_temporaries(dest) == []
    assert (dest / "groundtruth_rect.txt").read_text() == "1,2,3,4\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Car"]


def _folder_with(folder: Path, text: str) -> Path:
    folder.mkdir()
    for index in range(50):
        (folder / f"{index:03d}.txt").write_text(text)
    return folder


def test_dest_is_never_missing_while_a_folder_is_replaced(tmp_path: Path) -> None:
    """A reader polling the destination during 30 replacements always finds a whole folder."""
    if fileio._renameat2 is None:
        pytest.skip("renameat2 is Linux only")
    dest = _folder_with(tmp_path / "export", "0")
    missing: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if not (dest / "049.txt").is_file():
                missing.append("049.txt")

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for round_ in range(1, 31):
            built = fileio.make_temporary_folder(dest)
            built.rmdir()
            _folder_with(built, str(round_))
            fileio.move_folder_into_place(built, dest)
    finally:
        done.set()
        watcher.join()
    assert missing == []
    assert (dest / "000.txt").read_text() == "30"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


_SWAP_CUT_BY_A_KILL = """
import os, sys, time
from pathlib import Path
from costcore import fileio
fileio._renameat2 = None  # the fallback: two renames
built, dest = Path(sys.argv[1]), Path(sys.argv[2])
real_rename = os.rename
def rename(src, dst):
    if Path(src) == built:  # the second rename: DST is aside now
        print("between", flush=True)
        time.sleep(60)
    real_rename(src, dst)
fileio.os.rename = rename
fileio.move_folder_into_place(built, dest)
"""


def test_a_kill_between_the_fallback_renames_is_repaired_by_the_next_writer(
    tmp_path: Path,
) -> None:
    dest = _folder_with(tmp_path / "export", "old")
    built = _folder_with(tmp_path / ".export.new", "new")
    child = subprocess.Popen(
        [sys.executable, "-c", _SWAP_CUT_BY_A_KILL, str(built), str(dest)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "between"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert not dest.exists()  # the moment the fallback cannot avoid, frozen by the kill
    fileio.remove_stale_temporaries(dest)
    assert (dest / "000.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".export.new", "export"]


# ------------------------------------------------------------ FIFOs in place of files to read
def _run_at_once(call, path: Path) -> object:
    """``call(path)``'s result or exception, from a thread; blocking on the FIFO fails."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(call(path))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(10.0)
    if thread.is_alive():
        fifo = next((p for p in path.rglob("*") if stat.S_ISFIFO(p.lstat().st_mode)), path)
        with open(fifo, "wb"):  # give the blocked reader a writer, so the thread ends
            pass
        pytest.fail(f"reading {path.name} blocked on a FIFO")
    return outcome[0]


def _readers():
    from costcore.annotation import load_session
    from costcore.engines.allinone.config import AllInOneConfig
    from costcore.engines.checkpoint_files import locate_checkpoint
    from costcore.engines.vlt_tt.config import VLTTTConfig
    from costcore.evaluation.result_files import read_result_file
    from costcore.formats.textfiles import read_box_file, read_language_attributes
    from costcore.model.config import COSTConfig
    from costcore.model.transt_checkpoint import read_transt_state_dict
    from costcore.training.config import read_config_file
    from costcore.video.images import read_image_rgb
    from costcore.video.videofile import VideoFileSource

    return {
        "session.json": load_session,
        "groundtruth_rect.txt": read_box_file,
        "language_attributes.txt": read_language_attributes,
        "Crossing.txt": read_result_file,
        "config.json": COSTConfig.from_json_file,
        "train.json": read_config_file,
        "allinone.json": AllInOneConfig.from_json_file,
        "vlt_tt.json": VLTTTConfig.from_json_file,
        "transt.pth": read_transt_state_dict,
        "weights.pth": lambda path: locate_checkpoint(path, "allinone"),
        "000001.jpg": read_image_rgb,
        "video.mp4": VideoFileSource,
    }


@pytest.mark.parametrize("name", sorted(_readers()))
def test_readers_refuse_a_fifo_with_a_typed_error_naming_it(tmp_path: Path, name: str) -> None:
    from costcore.errors import CostcoreError

    fifo = tmp_path / name
    os.mkfifo(fifo)
    error = _run_at_once(_readers()[name], fifo)
    assert isinstance(error, CostcoreError), repr(error)
    assert str(fifo) in str(error) and "FIFO" in str(error)


def test_validator_reports_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    from costcore.formats import validate_vlsot500
    from tests.test_formats_support import make_vlsot500

    folder = make_vlsot500(tmp_path / "Car")
    (folder / "absent.txt").unlink()
    os.mkfifo(folder / "absent.txt")
    issues = _run_at_once(validate_vlsot500, folder)
    reported = [str(issue) for issue in issues if issue.file.name == "absent.txt"]
    assert len(reported) == 1 and "named pipe (FIFO)" in reported[0]


def test_a_regular_file_reads_normally_through_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_bytes(b"data")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    assert fileio.read_regular_file(tmp_path / "link.txt") == b"data"
    with pytest.raises(FileNotFoundError):
        fileio.read_regular_file(tmp_path / "missing.txt")
