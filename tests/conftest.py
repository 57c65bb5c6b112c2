"""Shared fixtures: the real sequences in ../shared (skipped cleanly when absent)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_SEQUENCES = PROJECT_ROOT.parent / "shared" / "data" / "sequences"


def shared_sequence(name: str) -> Path:
    """Path of a real sequence from ../shared, or skip the test when it is not there."""
    path = SHARED_SEQUENCES / name
    if not path.is_dir():
        pytest.skip(f"real data not available: {path}")
    return path


@pytest.fixture(autouse=True)
def empty_weights_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """Each test sees an empty weights cache of its own (COST_ANNOTATOR_WEIGHTS, inherited by
    subprocesses), so what the developer has installed never changes a default engine or a
    readiness; tests that want weights there install them into this folder."""
    folder = tmp_path_factory.mktemp("weights-cache")
    monkeypatch.setenv("COST_ANNOTATOR_WEIGHTS", str(folder))
    return folder


@pytest.fixture
def crossing() -> Path:
    """OTB sequence, tab-separated ground truth, 120 frames 360x240."""
    return shared_sequence("Crossing")


@pytest.fixture
def skiing() -> Path:
    """OTB sequence, comma-separated ground truth, 81 frames 640x360."""
    return shared_sequence("Skiing")


@pytest.fixture
def truck4_1() -> Path:
    """UAV123 sequence (truck4_1.txt beside img/, no final newline), 193 frames 1280x720."""
    return shared_sequence("truck4_1")


@pytest.fixture
def airplane_1() -> Path:
    """LaSOT sequence with nlp.txt and flag files, 2788 frames 640x360."""
    return shared_sequence("airplane-1")


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op torch thread for a module's tests: fast and steady on a shared machine.
    Heavy modules opt in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Path:
    """A folder no new file can be made in, even as root (then it is made immutable)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0 and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(folder)], check=False).returncode == 0
    try:
        try:
            (folder / "probe").write_text("x")
        except OSError:
            yield folder
        else:
            (folder / "probe").unlink()
            pytest.skip("cannot make a read-only folder here")
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=False)
        folder.chmod(0o755)
