"""A dependency-free terminal progress bar for long CLI work."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Prints ``label [#####.....] done/total rate/s`` on one line, redrawn at most 10x a second.

    Call it as ``progress(done, total)``; it prints nothing when the stream is not a terminal,
    except one final line, so logs stay readable.
    """

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.started = time.perf_counter()
        self._last_draw = 0.0
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        finished = total > 0 and done >= total
        if not finished and (not self._interactive or now - self._last_draw < 0.1):
            return
        self._last_draw = now
        elapsed = max(now - self.started, 1e-9)
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        line = f"{self.label} [{bar}] {done}/{total} {done / elapsed:.1f}/s"
        if self._interactive:
            self.stream.write("\r" + line + ("\n" if finished else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
