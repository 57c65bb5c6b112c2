"""Ending a worker process when the process that started it dies.

A batch run's workers wait on a queue for their next sequence. When the parent is killed
(``kill -9``, the OOM killer, a closed terminal) nobody ever writes to that queue again and
nobody reads its end of the pipe, yet each worker holds the write end itself, so it waits
forever, holding its engine's memory (a GPU's, for a COST worker). Two guards, both armed
when the worker starts:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment its
  parent dies, even while the worker is busy in native code;
- everywhere, a daemon thread that polls ``os.getppid()`` and ends the process once the
  parent is gone (a worker whose parent died is re-parented, so its parent id changes).

``PR_SET_PDEATHSIG`` fires when the *thread* that created the worker exits, not the process;
the batch runner creates and shuts down its workers in the thread that runs the batch, so
they never outlive it anyway.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time

#: how often the fallback looks at the parent id (seconds)
POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1
_EXIT_CODE = 1


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return False
    zero = ctypes.c_ulong(0)
    return prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(int(sig)), zero, zero, zero) == 0


def _parent_is_gone(parent_pid: int) -> bool:
    return os.getppid() != parent_pid


def _watch(parent_pid: int) -> None:
    while not _parent_is_gone(parent_pid):
        time.sleep(POLL_SECONDS)
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(_EXIT_CODE)  # no clean-up: the pool's pipes lead nowhere, joining them would hang


def exit_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` (its parent) dies; call once, early.

    Exits at once when the parent is already gone (it died before the guards were armed).
    """
    set_parent_death_signal()
    if _parent_is_gone(parent_pid):
        os._exit(_EXIT_CODE)
    threading.Thread(
        target=_watch, args=(parent_pid,), name="exit-with-parent", daemon=True
    ).start()
