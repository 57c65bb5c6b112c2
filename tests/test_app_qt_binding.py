"""Guard against Qt bindings that lose references on every call.

PySide6 6.12.0 (abi3 wheel, CPython < 3.12) returns None/True from void methods and
``Signal.emit`` without a reference; after enough calls the interpreter aborts
("none_dealloc"). pyproject.toml excludes it; this test fails loudly if such a build is
installed anyway. It runs in a subprocess because the defect kills the process.
"""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QObject, Signal

class Probe(QObject):
    ping = Signal()

probe = Probe()
before = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(200):
    probe.setObjectName("probe")
    probe.ping.emit()
after = sys.getrefcount(None), sys.getrefcount(True)
print(before[0] - after[0], before[1] - after[1])
"""


def test_qt_calls_keep_their_references() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lost_none, lost_true = (int(v) for v in result.stdout.split())
    assert lost_none <= 0 and lost_true <= 0, "this PySide6 build loses references; see pyproject"
