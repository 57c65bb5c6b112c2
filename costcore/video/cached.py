"""A frame source that remembers decoded frames and, optionally, decodes ahead.

The view asks for the same frames again and again (stepping back and forth around a tracker
failure), and a video decoder is slow to go backwards, so frames are kept in a byte-bounded LRU
cache. Each frame is decoded by one thread only: a second request for a frame that is being
decoded (by the prefetcher or another caller) waits for that result instead of decoding again.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

from costcore.video.base import FrameSource
from costcore.video.cache import FrameCache
from costcore.video.damage import VideoDamage
from costcore.video.indexing import check_index
from costcore.video.prefetch import Prefetcher

DEFAULT_CACHE_BYTES = 512 * 1024 * 1024

log = logging.getLogger(__name__)


class _Pending:
    """A frame one thread is decoding; others wait on ``done``."""

    __slots__ = ("done", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: np.ndarray | None = None


class CachedFrameSource(FrameSource):
    """Wraps ``source``: serves frames from a ``FrameCache`` and fills it on misses.

    Returned frames are shared with the cache and therefore read-only; copy one before drawing
    on it. ``prefetch=k`` starts a ``Prefetcher`` that keeps the next k frames in the direction
    of travel decoded (k is capped so that a plan fits in half the cache). ``close()`` stops the
    prefetcher and closes the wrapped source.
    """

    def __init__(
        self,
        source: FrameSource,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        *,
        prefetch: int = 0,
    ) -> None:
        self.source = source
        self.path = source.path
        self.cache = FrameCache(cache_bytes)  # keyed by frame index; read its stats() freely
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        # Sources that decode forward cheaply (video files) get whole plans reserved: a caller
        # asking for a planned frame waits for the prefetcher, whose decoder is already on its
        # way there, instead of pulling the decoder elsewhere with a seek.
        self._reserve_plans = bool(getattr(source, "prefers_forward_reads", False))
        self.prefetcher: Prefetcher | None = None
        depth = min(prefetch, self._frames_in_cache() // 2)
        if depth >= 1:
            self.prefetcher = _start_prefetcher(self, depth)
            self._finalizer = weakref.finalize(self, self.prefetcher.close)

    @property
    def frame_count(self) -> int:
        return self.source.frame_count

    @property
    def frame_size(self) -> tuple[int, int]:
        return self.source.frame_size

    @property
    def fps(self) -> float:
        return self.source.fps

    @fps.setter
    def fps(self, value: float) -> None:
        self.source.fps = value  # type: ignore[misc] - both concrete sources have a setter

    def frame_path(self, index: int) -> Path | None:
        return self.source.frame_path(index)

    @property
    def damage(self) -> VideoDamage | None:
        return self.source.damage

    def frame(self, index: int) -> np.ndarray:
        i = check_index(index, self.source.frame_count)
        image = self.cache.get(i)
        if image is None:
            image = self._load(i)
        if self.prefetcher is not None:
            self.prefetcher.request(i)
        return image

    def close(self) -> None:
        if self.prefetcher is not None:
            self.prefetcher.close()
        self.source.close()
        self.cache.clear()

    def __repr__(self) -> str:
        return f"CachedFrameSource({self.source!r}, cache_bytes={self.cache.max_bytes})"

    def _frames_in_cache(self) -> int:
        width, height = self.source.frame_size
        return self.cache.max_bytes // max(1, width * height * 3)

    def _load(self, i: int) -> np.ndarray:
        """Frame ``i`` from the cache, from a decode in flight, or decoded here (once)."""
        while True:
            with self._pending_lock:
                image = self.cache.peek(i)
                if image is not None:
                    return image
                pending = self._pending.get(i)
                owner = pending is None
                if owner:
                    pending = self._pending[i] = _Pending()
            assert pending is not None
            if owner:
                return self._decode(i, pending)
            pending.done.wait()
            if pending.result is not None:
                return pending.result
            # The other decode failed: loop and decode here, so the error is raised to us too.

    def _prefetch(self, indices: list[int], still_wanted: Callable[[int], bool]) -> int:
        """Decode ``indices`` in order for the prefetcher, stopping at the first stale one."""
        if not self._reserve_plans:
            reserved = None
        else:
            with self._pending_lock:
                reserved = {}
                for j in indices:
                    if j not in self._pending and self.cache.peek(j) is None:
                        reserved[j] = self._pending[j] = _Pending()
        decoded = 0
        try:
            for j in indices:
                if not still_wanted(j):
                    break
                try:
                    if reserved is None:
                        if j not in self.cache:
                            self._load(j)
                            decoded += 1
                    elif j in reserved:
                        self._decode(j, reserved.pop(j))
                        decoded += 1
                except Exception as error:  # the caller meets it when it asks for frame j
                    log.debug("prefetching frame %d failed: %s", j + 1, error)
        finally:
            for j, pending in (reserved or {}).items():  # abandoned: waiters decode themselves
                with self._pending_lock:
                    if self._pending.get(j) is pending:
                        del self._pending[j]
                pending.done.set()
        return decoded

    def _decode(self, i: int, pending: _Pending) -> np.ndarray:
        try:
            image = self.source.frame(i)
            image.flags.writeable = False
            self.cache.put(i, image)
            pending.result = image
            return image
        finally:
            with self._pending_lock:
                del self._pending[i]
            pending.done.set()


def _start_prefetcher(owner: CachedFrameSource, depth: int) -> Prefetcher:
    """A prefetcher that holds ``owner`` weakly, so a forgotten source can still be collected."""
    owner_ref = weakref.ref(owner)

    def load_frames(indices: list[int], still_wanted: Callable[[int], bool]) -> int:
        source = owner_ref()
        return 0 if source is None else source._prefetch(indices, still_wanted)

    return Prefetcher(
        load_frames,
        owner.cache.__contains__,
        owner.source.frame_count,
        depth,
        forward_blocks=owner._reserve_plans,
    )
