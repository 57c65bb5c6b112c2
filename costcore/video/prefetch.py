"""Decoding the frames the annotator is about to step to, before they are asked for.

One daemon thread follows the requested index: after frame i it loads i+1..i+k (or the k
frames before i when stepping backwards). Stepping on keeps the current plan going; a jump or a
turn makes the rest of it stale at once, so a jump never waits behind old work. ``request``
only records the index: it never blocks on decoding. Loading goes through a caller-supplied
function that de-duplicates work in flight, so a frame being prefetched is never decoded a
second time for the caller.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

#: ``load_frames(indices, still_wanted)`` decodes ``indices`` in order into the cache, skipping
#: (or stopping at) a frame for which ``still_wanted(i)`` is False; returns how many it decoded
LoadFrames = Callable[[list[int], Callable[[int], bool]], int]


class Prefetcher:
    """Background loader of the next ``depth`` frames in the direction of travel.

    ``load_frames`` decodes a plan into the cache (it must swallow decoding errors: the caller
    meets them when it asks for that frame itself); ``is_cached(i)`` must be cheap and free
    of side effects.
    With ``forward_blocks`` (sources that decode forward cheaply, i.e. video files), stepping
    backwards loads a whole block below the cached run in increasing order, with one seek,
    and only once fewer than half a block of cached frames is left behind the current one.
    """

    def __init__(
        self,
        load_frames: LoadFrames,
        is_cached: Callable[[int], bool],
        frame_count: int,
        depth: int,
        *,
        forward_blocks: bool = False,
        name: str = "frame-prefetch",
    ) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._load_frames = load_frames
        self._is_cached = is_cached
        self._frame_count = frame_count
        self.depth = depth
        self._forward_blocks = forward_blocks
        self._condition = threading.Condition()
        self._generation = 0
        self._index = -1
        self._direction = 1
        self._stopping = False
        self._idle = threading.Event()
        self._idle.set()
        self.loaded = 0  # frames this thread decoded
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def direction(self) -> int:
        """+1 after a step forward (the start), -1 after a step backward."""
        return self._direction

    def request(self, index: int) -> None:
        """Frame ``index`` was just shown: plan the frames after it. Never blocks on decoding."""
        with self._condition:
            if index > self._index >= 0:
                self._direction = 1
            elif 0 <= index < self._index:
                self._direction = -1
            self._index = index
            self._generation += 1
            self._idle.clear()
            self._condition.notify()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the current plan is done (for tests and benchmarks); False on timeout."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread after the frame it is decoding; idempotent."""
        with self._condition:
            self._stopping = True
            self._condition.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def plan(self, index: int, direction: int) -> list[int]:
        """The uncached frames to load after ``index`` is shown, in loading order."""
        count = self._frame_count
        if direction >= 0:
            window = range(index + 1, min(count, index + 1 + self.depth))
            return [j for j in window if not self._is_cached(j)]
        low = max(0, index - self.depth)
        if not self._forward_blocks:
            return [j for j in range(index - 1, low - 1, -1) if not self._is_cached(j)]
        run = 0  # cached frames directly behind index
        while index - 1 - run >= low and self._is_cached(index - 1 - run):
            run += 1
        if run >= (self.depth + 1) // 2 or index - 1 - run < low:
            return []
        return [j for j in range(low, index - run) if not self._is_cached(j)]

    def _still_wanted(self, j: int, direction: int) -> bool:
        """Whether frame j is still ahead of the latest request in the plan's direction."""
        with self._condition:
            if self._stopping or direction != self._direction:
                return False
            index = self._index
        if direction >= 0:
            return index < j <= index + self.depth
        return index - self.depth <= j < index

    def _run(self) -> None:
        handled = 0
        while True:
            with self._condition:
                while not self._stopping and self._generation == handled:
                    self._idle.set()
                    self._condition.wait()
                if self._stopping:
                    self._idle.set()
                    return
                handled = self._generation
                index, direction = self._index, self._direction
            plan = self.plan(index, direction)
            if not plan:
                continue

            still_wanted = functools.partial(self._still_wanted, direction=direction)
            try:
                self.loaded += self._load_frames(plan, still_wanted)
            except Exception:  # never let the thread die; the caller sees real errors itself
                log.exception("prefetching frames %d..%d failed", plan[0], plan[-1])
