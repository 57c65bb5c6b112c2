"""``python -m costcore weights``: list, download (network or --from), verify, path."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from costcore.cli import main
from costcore.weights import CACHE_ENV_VAR
from costcore.weights import catalogue as catalogue_module
from tests.weights_server import FileServer, closed_port_url, make_entry

ONE = os.urandom(200_000)
TWO = os.urandom(7000)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV_VAR, str(folder))
    return folder


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    """A local server and a catalogue of two entries served by it (replacing the real one)."""
    with FileServer({"/one/one.pth": ONE, "/two/two.onnx": TWO}) as srv:
        entries = (
            make_entry("one", srv.base_url, {"one.pth": ONE}),
            make_entry("two", srv.base_url, {"two.onnx": TWO}, engine="other"),
        )
        monkeypatch.setattr(catalogue_module, "CATALOGUE", entries)
        yield srv


def test_list_shows_cache_entries_and_status(
    cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"weights cache: {cache} (set {CACHE_ENV_VAR} to use another folder)"
    assert lines[1].split() == ["NAME", "ENGINE", "SIZE", "LICENSE", "STATUS", "DESCRIPTION"]
    assert lines[2].split()[:5] == ["one", "testengine", "0.2", "MB", "MIT"]
    assert lines[2].split()[5] == "missing"
    assert lines[3].split()[:2] == ["two", "other"]
    assert main(["weights", "download", "one"]) == 0
    capsys.readouterr()
    main(["weights", "list"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split()[5] == "installed" and lines[3].split()[5] == "missing"


def test_download_prints_progress_and_where_it_went(
    cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "download", "one"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"one: installed {cache / 'one' / 'one.pth'}"
    total_kib = len(ONE) // 1024
    assert f"one (KiB) [{'#' * 30}] {total_kib}/{total_kib}" in captured.err
    assert (cache / "one" / "one.pth").read_bytes() == ONE
    assert main(["weights", "download", "one"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"one: already installed: {cache / 'one' / 'one.pth'}"
    )
    assert len(server.requests) == 1


def test_download_all(cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["weights", "download", "all"]) == 0
    out = capsys.readouterr().out
    assert "one: installed" in out and "two: installed" in out
    assert (cache / "two" / "two.onnx").read_bytes() == TWO


def test_download_failure_is_one_line_and_exit_2(
    cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.behaviour.replace["/one/one.pth"] = bytes(len(ONE))
    assert main(["weights", "download", "one", "two"]) == 2
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: one: ") and "expected" in errors[0]
    assert "two: installed" in captured.out  # the other entry still came
    assert not (cache / "one" / "one.pth").exists()


def test_download_offline_says_where_to_put_the_file(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = closed_port_url("/one/one.pth")
    entry = make_entry("one", "http://unused", {"one.pth": ONE})
    entry = dataclasses.replace(entry, files=(dataclasses.replace(entry.files[0], url=url),))
    monkeypatch.setattr(catalogue_module, "CATALOGUE", (entry,))
    assert main(["weights", "download", "one", "--timeout", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        f"error: one: no network: download {url} and put it in {cache / 'one'} as one.pth"
    )
    assert "\n" not in err


def test_download_from_a_folder_when_offline(
    cache: Path, server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "usb"
    elsewhere.mkdir()
    (elsewhere / "one (1).pth").write_bytes(ONE)
    assert main(["weights", "download", "one", "--from", str(elsewhere)]) == 0
    assert "one: installed" in capsys.readouterr().out
    assert server.requests == []  # the network was not used
    assert main(["weights", "download", "two", "--from", str(elsewhere)]) == 2
    assert "no file with the SHA-256 of two's two.onnx" in capsys.readouterr().err


def test_unknown_name_is_exit_2(
    cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "download", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "error: unknown weights 'nope' (known: one, two)"


def test_verify_reports_ok_and_corrupt_per_file(
    cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "verify"]) == 0
    assert f"no weights installed in {cache}" in capsys.readouterr().out
    main(["weights", "download", "all"])
    capsys.readouterr()
    assert main(["weights", "verify"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["OK       one/one.pth", "OK       two/two.onnx"]

    target = cache / "one" / "one.pth"
    info = target.stat()
    target.write_bytes(bytes(len(ONE)))  # same size and mtime: only a re-hash sees it
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert main(["weights", "verify", "one"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("CORRUPT  one/one.pth: SHA-256 ")
    assert "weights download one` replaces it" in out[1]
    assert main(["weights", "download", "one"]) == 0  # repairs it
    assert target.read_bytes() == ONE


def test_verify_names_a_missing_entry(
    cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "verify", "two"]) == 1
    assert "MISSING  two/two.onnx: not downloaded" in capsys.readouterr().out


def test_path_prints_the_installed_weights(
    cache: Path, server: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "path", "one"]) == 1
    assert "weights download one" in capsys.readouterr().err
    main(["weights", "download", "one"])
    capsys.readouterr()
    assert main(["weights", "path", "one"]) == 0
    assert capsys.readouterr().out.strip() == str(cache / "one" / "one.pth")


def test_real_catalogue_lists_the_nanotrack_entries(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["weights", "list"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert rows["nanotrack-v3"][1:6] == ["nanotrack", "3.5", "MB", "Apache-2.0", "missing"]
    assert rows["nanotrack-v2-onnx"][1] == "opencv-nano"
