"""Workers end when the run that started them is killed (kill -9): real processes, real kills.

Without this, a killed ``run --workers 2`` left both workers (and multiprocessing's resource
tracker) waiting forever on a queue nobody writes to any more.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.batch_fakes import make_otb_sequence
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process (from /proc)."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry)] = int(fields[1])
    return found


def _descendants(pid: int) -> list[int]:
    parents = _parents()
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        todo += children
    return found


def _running(pids: list[int]) -> list[int]:
    """The processes of ``pids`` that exist and are not zombies."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _wait_until_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _running(pids)


def _kill_all(pids: list[int]) -> None:
    for pid in _running(pids):
        os.kill(pid, signal.SIGKILL)


def test_killing_run_with_two_workers_ends_the_workers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name in "abcd":
        make_otb_sequence(data, name, 200)  # CSRT needs seconds for these: the run is busy
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    results = str(tmp_path / "results")
    command = [sys.executable, "-m", "costcore", "run", "--dataset", str(data),
               "--results", results, "--workers", "2", "--device", "cpu"]  # fmt: skip
    run = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    workers: list[int] = []
    try:
        started = 0
        for line in run.stderr:
            started += line.startswith("worker ")
            if started == 2:  # both engines built: the workers are tracking or waiting
                break
        assert started == 2, "the workers did not start"
        workers = _descendants(run.pid)
        assert len(workers) >= 2
        run.send_signal(signal.SIGKILL)
        run.wait()
        left = _wait_until_gone(workers, 5.0)
        assert left == [], f"processes of the killed run still running: {left}"
    finally:
        run.kill()
        run.wait()
        run.stderr.close()
        _kill_all(workers)


_GRANDCHILD = """
import os, sys, time
from costcore.batch import parent_watch
if sys.argv[1] == "poll-only":
    parent_watch.set_parent_death_signal = lambda *args: False
parent_watch.exit_with_parent(os.getppid())
print(os.getpid(), flush=True)
time.sleep(60)
"""

_PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], stdout=sys.stdout)
time.sleep(60)
"""


@pytest.mark.parametrize("guard", ["both", "poll-only"])
def test_a_process_exits_when_its_parent_dies(guard: str) -> None:
    """The portable fallback alone (polling the parent id) is enough, only a little slower."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, _GRANDCHILD, guard],
        env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    child = 0
    try:
        child = int(parent.stdout.readline())
        assert _running([child]) == [child]
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _wait_until_gone([child], 5.0) == []
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if child:
            _kill_all([child])
