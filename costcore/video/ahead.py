"""Reading frames forward with the decoding done ahead, on a thread of its own.

A forward run asks for frame i, steps the engine on it, then asks for i+1. Decoding in the same
thread puts the decoder's time (a 1280x720 JPEG: ~1.5 ms) on top of every engine step; decoded
ahead on the second core it overlaps the step, and the run goes at the engine's own pace. The
decoder releases the interpreter lock, so the two really run side by side.

Only the reading thread touches the source (video decoders are not thread-safe); the caller
waits for it. Requests that are not the next frames (a jump, a step back) restart the plan at
the requested frame. A frame that cannot be decoded raises its error when that frame is asked
for, never earlier. Memory is bounded: at most ``budget_bytes`` of decoded frames ahead.

Why not ``CachedFrameSource(prefetch=k)``, which decodes ahead for the view: the runner reads
through any :class:`FrameReader` it is given (a job's own source, ReverseFrames' chunks, test
fakes), owns none of them, and must keep nothing once the run ends; a cache's prefetcher would
also follow ReverseFrames' increasing chunk reads upwards and decode frames a backward run has
already passed. This reader is the forward twin of :class:`~costcore.video.reverse.ReverseFrames`.
"""

from __future__ import annotations

import threading

import numpy as np

from costcore.video.reverse import FrameReader

#: decoded frames held ahead of the run (1280x720 RGB: ~10 frames)
DEFAULT_BUDGET_BYTES = 32 * 1024 * 1024
#: at least this many, whatever their size
MIN_DEPTH = 2


class FramesAhead:
    """A :class:`~costcore.engines.frame_loop.FrameReader` for forward runs (see the module)."""

    def __init__(
        self,
        source: FrameReader,
        stop: int | None = None,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
        depth: int = 16,
    ) -> None:
        """``stop``: the run ends before this frame, so nothing at or after it is decoded
        ahead (a short run does not pay for a full plan)."""
        self.source = source
        self.stop = source.frame_count if stop is None else min(int(stop), source.frame_count)
        self.budget_bytes = int(budget_bytes)
        self.depth = max(MIN_DEPTH, int(depth))
        size = getattr(source, "frame_size", None)  # (w, h) of a FrameSource: depth known now
        if isinstance(size, tuple) and len(size) == 2:
            self._fit_depth(int(size[0]) * int(size[1]) * 3)
        self._condition = threading.Condition()
        self._ready: dict[int, np.ndarray | Exception] = {}
        self._wanted = 0  # the frame asked for last: the plan runs from here
        self._next: int | None = None  # the frame the thread decodes next (None: no plan yet)
        self._generation = 0
        self._closed = False
        self.decoded = 0  # frames the thread decoded, for tests and benchmarks
        self._thread = threading.Thread(target=self._run, name="frames-ahead", daemon=True)
        self._thread.start()

    @property
    def frame_count(self) -> int:
        return self.source.frame_count

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (RGB), decoded ahead when the run asks in order."""
        index = int(index)
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.frame_count - 1}")
        with self._condition:
            if self._closed:
                raise ValueError("frames-ahead reader is closed")
            planned = self._next is not None and self._wanted <= index < self._next
            if index not in self._ready and not planned:
                self._generation += 1  # a jump: the old plan is stale at once
                self._ready.clear()
                self._next = index
                self.stop = max(self.stop, index + 1)  # asked for: decoded, whatever the plan
            self._wanted = index
            for old in [i for i in self._ready if i < index]:
                del self._ready[old]
            self._condition.notify_all()
            self._condition.wait_for(lambda: index in self._ready or self._closed)
            if self._closed and index not in self._ready:
                raise ValueError("frames-ahead reader is closed")
            value = self._ready.pop(index)
        if isinstance(value, Exception):
            raise value
        return value

    def close(self) -> None:
        """Stop the thread (the source stays open: it belongs to the caller)."""
        with self._condition:
            self._closed = True
            self._ready.clear()
            self._condition.notify_all()
        self._thread.join(timeout=10.0)

    def __enter__(self) -> FramesAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ thread
    def _has_work(self) -> bool:
        return self._next is not None and (
            self._next < min(self.stop, self._wanted + self.depth + 1)
        )

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._closed or self._has_work())
                if self._closed:
                    return
                assert self._next is not None
                index, generation = self._next, self._generation
                self._next += 1
            value: np.ndarray | Exception
            try:
                value = self.source.frame(index)
            except Exception as error:  # the caller meets it when it asks for this frame
                value = error
            with self._condition:
                self.decoded += 1
                if generation == self._generation and index >= self._wanted:
                    self._ready[index] = value
                    if isinstance(value, np.ndarray):
                        self._fit_depth(value.nbytes)
                self._condition.notify_all()

    def _fit_depth(self, frame_bytes: int) -> None:
        self.depth = max(MIN_DEPTH, min(self.depth, self.budget_bytes // max(1, frame_bytes)))
