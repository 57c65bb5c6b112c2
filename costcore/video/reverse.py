"""Reading frames backwards at close to forward speed: decode forward in chunks, hand out
in reverse, and decode the next chunk down while the current one is used.

A video decoder only goes forward: frame ``i`` costs a seek to the keyframe before it and a
decode of every frame from there, so stepping backwards one frame at a time decodes a whole
group of pictures per frame (a backward propagation over a long-GOP video ran at ~1 frame/s).
:class:`ReverseFrames` asks its source for a chunk of frames in increasing order (one seek,
then sequential reads), keeps them, and serves them from the top down; a background thread
already decodes the chunk below. Memory is bounded: two chunks of at most ``budget_bytes / 2``.
A chunk starts at a keyframe when the source knows them and the keyframe is within reach, so
no decoded frame is thrown away.

Any request that is not the next frame down (a jump, a step forward) is served directly from
the source and restarts the chunks below it; the results are always the source's own frames.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np

#: memory for decoded frames held (two chunks); 1280x720 RGB: ~90 frames, 640x360: ~360
DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024


class FrameReader(Protocol):
    """What is read from (``costcore.video.FrameSource`` fits)."""

    @property
    def frame_count(self) -> int: ...

    def frame(self, index: int) -> np.ndarray: ...


class ReverseFrames:
    """A :class:`~costcore.engines.frame_loop.FrameReader` for runs that go backwards."""

    def __init__(self, source: FrameReader, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self.source = source
        self.budget_bytes = int(budget_bytes)
        self._chunk: dict[int, np.ndarray] = {}
        self._chunk_low = 0
        self._chunk_size = 0  # frames per chunk, known after the first frame
        self._next: Future[dict[int, np.ndarray]] | None = None
        self._next_range = range(0)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reverse-frames")
        size = getattr(source, "frame_size", None)  # (w, h) of a FrameSource: chunks known now
        if isinstance(size, tuple) and len(size) == 2:
            self._size_chunks(int(size[0]) * int(size[1]) * 3)
        self._closed = False
        self.chunks_decoded = 0  # for tests and benchmarks

    @property
    def frame_count(self) -> int:
        return self.source.frame_count

    def frame(self, index: int) -> np.ndarray:
        if not 0 <= index < self.source.frame_count:
            raise IndexError(f"frame {index} is outside 0..{self.source.frame_count - 1}")
        image = self._chunk.pop(index, None)
        if image is None and self._next is not None and index in self._next_range:
            self._adopt(self._next.result())  # the chunk below, decoded ahead
            image = self._chunk.pop(index, None)
        if image is None:
            self._discard_next()
            self._adopt(self._decode(self._chunk_below(index + 1)))
            image = self._chunk.pop(index, None)
            if image is None:  # the source skipped it (cannot happen with a FrameSource)
                image = self.source.frame(index)
        for stale in [i for i in self._chunk if i > index]:
            del self._chunk[stale]  # passed: a backward run never asks again
        if self._next is None and self._chunk_low > 0:
            self._prefetch(self._chunk_below(self._chunk_low))
        return image

    def close(self) -> None:
        """Stop decoding ahead and free the frames held."""
        self._closed = True
        self._discard_next()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._chunk.clear()

    def __enter__(self) -> ReverseFrames:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------------- chunks
    def _chunk_below(self, stop: int) -> range:
        """The frames of the chunk that ends just below ``stop`` (exclusive)."""
        size = self._chunk_size or 1  # one frame until the frame size is known
        low = max(0, stop - size)
        keyframe = _previous_keyframe(self.source, low)
        if keyframe is not None and keyframe < low and stop - keyframe <= size * 3 // 2:
            low = keyframe  # start where decoding starts anyway: nothing decoded is wasted
        return range(low, stop)

    def _decode(self, frames: range) -> dict[int, np.ndarray]:
        out = {}
        for i in frames:
            if self._closed:
                break
            try:
                out[i] = self.source.frame(i)
            except Exception:  # noqa: BLE001 - left out: its own read raises it in its turn
                continue
            if not self._chunk_size:
                self._size_chunks(out[i].nbytes)
        self.chunks_decoded += 1
        return out

    def _size_chunks(self, frame_bytes: int) -> None:
        # two chunks of up to 1.5 x this many frames stay within the budget
        self._chunk_size = max(2, self.budget_bytes // 3 // max(1, frame_bytes))

    def _adopt(self, chunk: dict[int, np.ndarray]) -> None:
        self._chunk = chunk
        self._chunk_low = min(chunk) if chunk else 0
        self._next, self._next_range = None, range(0)

    def _prefetch(self, frames: range) -> None:
        if self._closed or not len(frames):
            return
        decode: Callable[[range], dict[int, np.ndarray]] = self._decode
        self._next = self._pool.submit(decode, frames)
        self._next_range = frames

    def _discard_next(self) -> None:
        """Drop the chunk being decoded ahead (wait for it: the source is not shared)."""
        if self._next is not None:
            self._next.cancel() or self._next.exception()  # finished, or wait until it is
            self._next, self._next_range = None, range(0)


def _previous_keyframe(source: object, index: int) -> int | None:
    """The keyframe at or before ``index`` when the source (or the one it wraps) knows it."""
    for candidate in (source, getattr(source, "source", None)):
        known = getattr(candidate, "previous_keyframe", None)
        if callable(known):
            return known(index)
    return None
