"""Where the weights cache is: each platform's convention, and the environment override."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from costcore.weights import CACHE_ENV_VAR, entry_folder, find_entry, weights_cache_dir
from tests.conftest import PROJECT_ROOT


def test_linux_default_is_dot_cache() -> None:
    env = {"HOME": "/home/ann"}
    assert weights_cache_dir(env, "linux") == Path("/home/ann/.cache/cost-annotator/weights")


def test_linux_follows_xdg_cache_home_but_ignores_a_relative_one() -> None:
    env = {"HOME": "/home/ann", "XDG_CACHE_HOME": "/scratch/cache"}
    assert weights_cache_dir(env, "linux") == Path("/scratch/cache/cost-annotator/weights")
    env["XDG_CACHE_HOME"] = "relative/cache"
    assert weights_cache_dir(env, "linux") == Path("/home/ann/.cache/cost-annotator/weights")


def test_macos_uses_library_caches() -> None:
    got = weights_cache_dir({"HOME": "/Users/ann"}, "darwin")
    assert got == Path("/Users/ann/Library/Caches/cost-annotator/weights")


def test_windows_uses_local_app_data() -> None:
    env = {"LOCALAPPDATA": "C:/Users/ann/AppData/Local", "USERPROFILE": "C:/Users/ann"}
    got = weights_cache_dir(env, "win32")
    assert got == Path("C:/Users/ann/AppData/Local/cost-annotator/weights")
    got = weights_cache_dir({"USERPROFILE": "C:/Users/ann"}, "win32")
    assert got == Path("C:/Users/ann/AppData/Local/cost-annotator/weights")


def test_environment_variable_overrides_every_platform(tmp_path: Path) -> None:
    for platform in ("linux", "darwin", "win32"):
        env = {CACHE_ENV_VAR: str(tmp_path / "w"), "HOME": "/home/ann", "LOCALAPPDATA": "C:/x"}
        assert weights_cache_dir(env, platform) == tmp_path / "w"
    assert weights_cache_dir({CACHE_ENV_VAR: "~/w", "HOME": "/home/ann"}, "linux") == (
        Path("~/w").expanduser()
    )


def test_process_environment_is_read_at_call_time(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    assert weights_cache_dir() == tmp_path
    assert entry_folder(find_entry("nanotrack-v3")) == tmp_path / "nanotrack-v3"


def test_cli_reports_the_overridden_cache(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **{CACHE_ENV_VAR: str(tmp_path)})
    done = subprocess.run(
        [sys.executable, "-m", "costcore", "weights", "list"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith(f"weights cache: {tmp_path} ")
    assert "nanotrack-v3" in done.stdout and "missing" in done.stdout
    assert list(tmp_path.iterdir()) == []  # listing creates nothing
