"""A least-recently-used store of decoded frames, bounded in bytes.

Frames of one video differ in size only between videos, but a 1080p frame is 9x a 360p one, so
the bound is in bytes (``ndarray.nbytes``), not in frames: the same setting keeps memory use
predictable for every video.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CacheStats:
    """A snapshot of a cache's counters."""

    hits: int
    misses: int
    evictions: int
    entries: int
    nbytes: int
    max_bytes: int

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class FrameCache:
    """Thread-safe LRU cache of arrays; never holds more than ``max_bytes`` bytes of arrays.

    Only ``get`` counts hits and misses and refreshes recency; ``peek`` and ``in`` do neither,
    so a prefetcher looking around does not distort the statistics or the eviction order.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self._max_bytes = int(max_bytes)
        self._entries: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0
        self._lock = threading.Lock()

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"max_bytes must be >= 0, got {value}")
        with self._lock:
            self._max_bytes = int(value)
            self._evict_until_fits(0)

    @property
    def nbytes(self) -> int:
        """Bytes held now (always <= ``max_bytes``)."""
        return self._nbytes

    def get(self, key: Hashable) -> np.ndarray | None:
        """The array stored under ``key`` (now the most recent), or None; counts hit/miss."""
        with self._lock:
            array = self._entries.get(key)
            if array is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
            return array

    def peek(self, key: Hashable) -> np.ndarray | None:
        """Like ``get`` but without touching statistics or recency."""
        with self._lock:
            return self._entries.get(key)

    def put(self, key: Hashable, array: np.ndarray) -> bool:
        """Store ``array`` (evicting the least recent); False if it alone exceeds the bound."""
        size = int(array.nbytes)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._nbytes -= int(old.nbytes)
            if size > self._max_bytes:
                return False
            self._evict_until_fits(size)
            self._entries[key] = array
            self._nbytes += size
            return True

    def discard(self, key: Hashable) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._nbytes -= int(old.nbytes)

    def clear(self) -> None:
        """Drop every entry (the counters stay)."""
        with self._lock:
            self._entries.clear()
            self._nbytes = 0

    def keys(self) -> list[Hashable]:
        """The keys, least recent first."""
        with self._lock:
            return list(self._entries)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                evictions=self._evictions,
                entries=len(self._entries),
                nbytes=self._nbytes,
                max_bytes=self._max_bytes,
            )

    def __iter__(self) -> Iterator[Hashable]:
        """Iterate over a snapshot of the keys, least recent first."""
        return iter(self.keys())

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _evict_until_fits(self, incoming: int) -> None:
        while self._entries and self._nbytes + incoming > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._nbytes -= int(evicted.nbytes)
            self._evictions += 1
