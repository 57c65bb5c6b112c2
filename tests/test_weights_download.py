"""Downloads against a local HTTP server: checked, atomic, resumable, clear when they fail.

No test here touches the internet: the server runs on 127.0.0.1 (tests/weights_server.py) and
the entries point at it. The machinery is tested on bytes the tests make; the real NanoTrack
files from ../shared are served too when they are there.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from costcore.errors import Cancelled
from costcore.weights import (
    CATALOGUE,
    WeightsChecksumError,
    WeightsDownloadError,
    WeightsHTTPError,
    WeightsOfflineError,
    WeightsStatus,
    WeightsTransferCutError,
    download_entry,
    entry_status,
    installed_path,
)
from costcore.weights.integrity import STAMP_FILE_NAME, read_stamps
from tests.conftest import PROJECT_ROOT
from tests.weights_server import FileServer, closed_port_url, make_entry, sha256

SHARED_NANOTRACK = PROJECT_ROOT.parent / "shared" / "models" / "nanotrack"
DATA = os.urandom(300_000)  # several 64 KiB chunks
OTHER = os.urandom(120_000)


@pytest.fixture
def server():
    with FileServer({"/w/model.pth": DATA, "/pair/a.onnx": DATA, "/pair/b.onnx": OTHER}) as srv:
        yield srv


def _entry(server: FileServer):
    return make_entry("w", server.base_url, {"model.pth": DATA})


def test_download_checks_and_places_the_file(server: FileServer, tmp_path: Path) -> None:
    entry = _entry(server)
    target = tmp_path / "w" / "model.pth"
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        # never a half-written file under the final name
        assert not target.exists() or done == total

    path = download_entry(entry, tmp_path, progress=progress)
    assert path == target == installed_path(entry, tmp_path)
    assert target.read_bytes() == DATA
    assert sorted(p.name for p in target.parent.iterdir()) == [STAMP_FILE_NAME, "model.pth"]
    assert read_stamps(target.parent)["model.pth"].sha256 == sha256(DATA)
    assert seen[-1] == (len(DATA), len(DATA))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) >= 4  # streamed in chunks, not read whole
    assert [r.range for r in server.requests] == [None]


def test_multi_file_entry_reports_progress_over_all_files(
    server: FileServer, tmp_path: Path
) -> None:
    entry = make_entry("pair", server.base_url, {"a.onnx": DATA, "b.onnx": OTHER})
    totals = set()
    last = [0]

    def progress(done: int, total: int) -> None:
        totals.add(total)
        assert done >= last[0]
        last[0] = done

    assert download_entry(entry, tmp_path, progress=progress) == tmp_path / "pair"
    assert totals == {len(DATA) + len(OTHER)}
    assert last[0] == len(DATA) + len(OTHER)
    assert (tmp_path / "pair" / "b.onnx").read_bytes() == OTHER
    # a second call finds everything installed and asks the server nothing
    download_entry(entry, tmp_path)
    assert len(server.requests) == 2


def test_wrong_bytes_are_deleted_and_nothing_installed(server: FileServer, tmp_path: Path) -> None:
    entry = _entry(server)
    wrong = bytes(len(DATA))
    server.behaviour.replace["/w/model.pth"] = wrong
    with pytest.raises(WeightsChecksumError) as caught:
        download_entry(entry, tmp_path)
    message = str(caught.value)
    assert f"SHA-256 is {sha256(wrong)}, expected {sha256(DATA)}" in message
    assert "deleted" in message and entry.files[0].url in message
    assert list((tmp_path / "w").iterdir()) == []
    assert entry_status(entry, tmp_path) is WeightsStatus.MISSING


def test_a_longer_file_than_published_is_refused(server: FileServer, tmp_path: Path) -> None:
    entry = _entry(server)
    server.behaviour.replace["/w/model.pth"] = DATA + b"extra"
    with pytest.raises(WeightsDownloadError, match="more than the published 300000 bytes"):
        download_entry(entry, tmp_path)
    assert list((tmp_path / "w").iterdir()) == []


def test_a_cut_transfer_keeps_the_partial_and_the_next_call_resumes(
    server: FileServer, tmp_path: Path
) -> None:
    entry = _entry(server)
    half = len(DATA) // 2
    server.behaviour.cut_after = half
    with pytest.raises(WeightsTransferCutError) as caught:
        download_entry(entry, tmp_path)
    partial = tmp_path / "w" / "model.pth.partial"
    message = str(caught.value)
    assert f"stopped after {half} of {len(DATA)} bytes" in message
    assert f"the partial file {partial} is kept" in message
    assert partial.read_bytes() == DATA[:half]
    assert not (tmp_path / "w" / "model.pth").exists()
    assert entry_status(entry, tmp_path) is WeightsStatus.PARTIAL

    seen: list[int] = []
    download_entry(entry, tmp_path, progress=lambda done, total: seen.append(done))
    assert server.requests[-1].range == f"bytes={half}-"
    assert server.requests[-1].status == 206
    assert server.requests[-1].sent == len(DATA) - half
    assert seen[0] == half  # progress starts where the partial file ended
    assert (tmp_path / "w" / "model.pth").read_bytes() == DATA
    assert not partial.exists()


def test_a_server_without_range_support_restarts_from_zero(
    server: FileServer, tmp_path: Path
) -> None:
    entry = _entry(server)
    server.behaviour.cut_after = 100_000
    with pytest.raises(WeightsTransferCutError):
        download_entry(entry, tmp_path)
    server.behaviour.ranges = False
    download_entry(entry, tmp_path)
    last = server.requests[-1]
    assert last.range == "bytes=100000-" and last.status == 200 and last.sent == len(DATA)
    assert (tmp_path / "w" / "model.pth").read_bytes() == DATA


def test_a_refused_range_restarts_from_zero(server: FileServer, tmp_path: Path) -> None:
    entry = _entry(server)
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "model.pth.partial").write_bytes(DATA[:5000])
    server.behaviour.refuse_ranges = True
    download_entry(entry, tmp_path)
    assert [(r.range, r.status) for r in server.requests] == [
        ("bytes=5000-", 416),
        (None, 200),
    ]
    assert (tmp_path / "w" / "model.pth").read_bytes() == DATA


def test_a_bad_partial_file_fails_the_checksum_then_downloads_cleanly(
    server: FileServer, tmp_path: Path
) -> None:
    entry = _entry(server)
    (tmp_path / "w").mkdir()
    partial = tmp_path / "w" / "model.pth.partial"
    partial.write_bytes(bytes(5000))  # not the file's first bytes
    with pytest.raises(WeightsChecksumError, match="deleted"):
        download_entry(entry, tmp_path)
    assert not partial.exists()
    download_entry(entry, tmp_path)
    assert (tmp_path / "w" / "model.pth").read_bytes() == DATA


def test_a_complete_partial_left_by_a_kill_is_checked_and_placed(
    server: FileServer, tmp_path: Path
) -> None:
    entry = _entry(server)
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "model.pth.partial").write_bytes(DATA)
    assert download_entry(entry, tmp_path).read_bytes() == DATA
    assert server.requests == []


def test_a_corrupt_installed_file_is_replaced(server: FileServer, tmp_path: Path) -> None:
    entry = _entry(server)
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "model.pth").write_bytes(bytes(len(DATA)))
    assert entry_status(entry, tmp_path) is WeightsStatus.CORRUPT
    download_entry(entry, tmp_path)
    assert (tmp_path / "w" / "model.pth").read_bytes() == DATA
    assert entry_status(entry, tmp_path) is WeightsStatus.INSTALLED


def test_cancel_keeps_the_partial_and_the_next_call_resumes(
    server: FileServer, tmp_path: Path
) -> None:
    entry = _entry(server)
    progressed: list[int] = []
    with pytest.raises(Cancelled, match="cancelled at") as caught:
        download_entry(
            entry,
            tmp_path,
            progress=lambda done, total: progressed.append(done),
            cancel=lambda: bool(progressed) and progressed[-1] > 0,
        )
    partial = tmp_path / "w" / "model.pth.partial"
    kept = partial.stat().st_size
    assert 0 < kept < len(DATA)
    assert str(partial) in str(caught.value)
    assert partial.read_bytes() == DATA[:kept]
    assert not (tmp_path / "w" / "model.pth").exists()
    download_entry(entry, tmp_path)
    assert server.requests[-1].range == f"bytes={kept}-"
    assert (tmp_path / "w" / "model.pth").read_bytes() == DATA


def test_http_errors_name_the_url_and_status(server: FileServer, tmp_path: Path) -> None:
    entry = make_entry("w", server.base_url, {"absent.pth": DATA})
    with pytest.raises(WeightsHTTPError) as caught:
        download_entry(entry, tmp_path)
    assert caught.value.status == 404
    assert str(caught.value) == f"{entry.files[0].url}: HTTP 404 Not Found"
    assert not (tmp_path / "w" / "absent.pth").exists()


@pytest.mark.parametrize(
    "url", [closed_port_url("/w/model.pth"), "http://weights.invalid/w/model.pth"]
)
def test_offline_says_where_to_put_a_file_downloaded_by_hand(tmp_path: Path, url: str) -> None:
    entry = make_entry("w", "http://unused", {"model.pth": DATA})
    entry = dataclasses.replace(entry, files=(dataclasses.replace(entry.files[0], url=url),))
    with pytest.raises(WeightsOfflineError) as caught:
        download_entry(entry, tmp_path, timeout=5)
    message = str(caught.value)
    assert message.startswith(
        f"no network: download {url} and put it in {tmp_path / 'w'} as model.pth ("
    )
    assert not (tmp_path / "w" / "model.pth").exists()


def test_a_silent_server_times_out_as_unreachable(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never answers
        port = listener.getsockname()[1]
        entry = make_entry("w", f"http://127.0.0.1:{port}", {"model.pth": DATA})
        started = time.monotonic()
        with pytest.raises(WeightsOfflineError, match="timed out"):
            download_entry(entry, tmp_path, timeout=0.5)
    assert time.monotonic() - started < 10


def test_a_stalled_transfer_times_out_and_keeps_the_partial(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        stop = threading.Event()

        def stall() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(4096)
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(DATA)}\r\n\r\n".encode()
                conn.sendall(head + DATA[:1000])
                stop.wait(10)

        thread = threading.Thread(target=stall, daemon=True)
        thread.start()
        entry = make_entry("w", f"http://127.0.0.1:{port}", {"model.pth": DATA})
        with pytest.raises(WeightsTransferCutError, match="after 1000 of 300000 bytes"):
            download_entry(entry, tmp_path, timeout=0.5)
        stop.set()
        thread.join(5)
    assert (tmp_path / "w" / "model.pth.partial").read_bytes() == DATA[:1000]


def _shared_files() -> dict[str, bytes]:
    if not SHARED_NANOTRACK.is_dir():
        pytest.skip(f"real weights not available: {SHARED_NANOTRACK}")
    return {p.name: p.read_bytes() for p in SHARED_NANOTRACK.rglob("*") if p.is_file()}


def test_real_nanotrack_entries_download_from_a_local_mirror(tmp_path: Path) -> None:
    shared = _shared_files()
    entries = [e for e in CATALOGUE if all(f.name in shared for f in e.files)]
    assert {e.name for e in entries} == {"nanotrack-v3", "nanotrack-v2", "nanotrack-v2-onnx"}
    prefix = "https://raw.githubusercontent.com"
    served = {f.url.removeprefix(prefix): shared[f.name] for e in entries for f in e.files}
    with FileServer(served) as server:
        local = [
            dataclasses.replace(
                e,
                files=tuple(
                    dataclasses.replace(f, url=f.url.replace(prefix, server.base_url))
                    for f in e.files
                ),
            )
            for e in entries
        ]
        server.behaviour.cut_after = 1_000_000  # the first transfer is cut and resumed
        with pytest.raises(WeightsTransferCutError):
            download_entry(local[0], tmp_path)
        for entry in local:
            download_entry(entry, tmp_path)
        assert server.requests[1].range == "bytes=1000000-"
    for entry in entries:
        assert entry_status(entry, tmp_path) is WeightsStatus.INSTALLED
        for file in entry.files:
            assert (tmp_path / entry.name / file.name).read_bytes() == shared[file.name]


def test_a_cache_that_cannot_be_written_is_a_clear_error(
    server: FileServer, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    with pytest.raises(WeightsDownloadError, match="cannot write the weights here") as caught:
        download_entry(_entry(server), blocked)
    assert str(caught.value).startswith(f"{blocked / 'w'}: ")
    assert server.requests == []
