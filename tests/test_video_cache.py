"""FrameCache (byte-bounded LRU) and CachedFrameSource (serve from cache, decode once)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcore.errors import VideoError
from costcore.video import CachedFrameSource, FrameCache, FrameSource


class CountingSource(FrameSource):
    """A fake source: frame i is filled with i % 256; counts decodes; optional delay/failures."""

    def __init__(self, count: int = 100, size=(16, 8), delay: float = 0.0, broken=()):
        self.path = Path("fake")
        self._count = count
        self._size = size
        self.delay = delay
        self.broken = set(broken)
        self.decodes: Counter[int] = Counter()
        self.closed = False
        self._lock = threading.Lock()

    @property
    def frame_count(self) -> int:
        return self._count

    @property
    def frame_size(self) -> tuple[int, int]:
        return self._size

    @property
    def fps(self) -> float:
        return 30.0

    def frame(self, index: int) -> np.ndarray:
        with self._lock:
            self.decodes[index] += 1
        if self.delay:
            time.sleep(self.delay)
        if index in self.broken:
            raise VideoError(self.path, "broken on purpose", index)
        width, height = self._size
        return np.full((height, width, 3), index % 256, np.uint8)

    def close(self) -> None:
        self.closed = True


def block(n_bytes: int, value: int = 0) -> np.ndarray:
    return np.full(n_bytes, value, np.uint8)


# -- FrameCache ------------------------------------------------------------------------------


def test_lru_eviction_by_bytes():
    cache = FrameCache(300)
    assert cache.put("a", block(100)) and cache.put("b", block(100)) and cache.put("c", block(100))
    assert cache.nbytes == 300 and len(cache) == 3
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("d", block(100))
    assert cache.keys() == ["c", "a", "d"]  # "b" was the least recent
    cache.put("e", block(250))
    assert cache.keys() == ["e"] and cache.nbytes == 250
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.evictions, stats.entries) == (1, 0, 4, 1)


def test_stats_peek_and_contains():
    cache = FrameCache(1000)
    assert cache.get(1) is None
    cache.put(1, block(10))
    assert cache.get(1) is not None and cache.get(2) is None
    assert 1 in cache and 2 not in cache
    assert cache.peek(1) is not None and cache.peek(2) is None
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (1, 2)
    assert stats.hit_rate == pytest.approx(1 / 3)


def test_oversized_replace_resize_clear():
    cache = FrameCache(100)
    assert not cache.put("huge", block(101))
    assert len(cache) == 0 and cache.nbytes == 0
    cache.put("x", block(60))
    cache.put("x", block(30))
    assert cache.nbytes == 30 and len(cache) == 1
    cache.put("y", block(50))
    cache.max_bytes = 60
    assert cache.keys() == ["y"] and cache.nbytes == 50
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0
    with pytest.raises(ValueError):
        FrameCache(-1)


def test_bound_holds_under_concurrent_use():
    cache = FrameCache(10_000)
    violations = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(2000):
            key = rng.randrange(50)
            if rng.random() < 0.5:
                cache.put(key, block(rng.randrange(100, 3000)))
            else:
                cache.get(key)
            if cache.nbytes > cache.max_bytes:
                violations.append(cache.nbytes)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not violations
    assert cache.nbytes == sum(cache.peek(k).nbytes for k in cache)


# -- CachedFrameSource ----------------------------------------------------------------------


def test_serves_from_cache_and_frames_are_read_only():
    inner = CountingSource()
    source = CachedFrameSource(inner, cache_bytes=10**6)
    assert (source.frame_count, source.frame_size, source.fps) == (100, (16, 8), 30.0)
    first = source.frame(5)
    again = source.frame(5)
    assert again is first and inner.decodes[5] == 1
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0, 0, 0] = 1
    stats = source.cache.stats()
    assert (stats.hits, stats.misses) == (1, 1)
    with pytest.raises(IndexError):
        source.frame(100)
    source.close()
    assert inner.closed and len(source.cache) == 0


def test_concurrent_requests_decode_once():
    inner = CountingSource(delay=0.05)
    source = CachedFrameSource(inner, cache_bytes=10**6)
    results = []
    threads = [threading.Thread(target=lambda: results.append(source.frame(7))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inner.decodes[7] == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_errors_reach_every_caller():
    inner = CountingSource(delay=0.05, broken={3})
    source = CachedFrameSource(inner, cache_bytes=10**6)
    errors = []

    def read() -> None:
        try:
            source.frame(3)
        except VideoError as error:
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 4 and all(e.frame == 3 for e in errors)
    assert 3 not in source.cache
    assert source.frame(4)[0, 0, 0] == 4  # other frames unaffected


def test_cache_smaller_than_a_frame_still_works():
    inner = CountingSource()
    source = CachedFrameSource(inner, cache_bytes=10, prefetch=8)
    assert source.prefetcher is None  # nothing would fit: prefetching is switched off
    assert source.frame(2)[0, 0, 0] == 2
    assert len(source.cache) == 0


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 500),
    st.lists(st.tuples(st.sampled_from("gpd"), st.integers(0, 9), st.integers(0, 200))),
)
def test_cache_behaves_like_an_lru_model(max_bytes, operations):
    """Random get/put/discard sequences against a plain ordered-dict model of an LRU."""
    cache = FrameCache(max_bytes)
    model: OrderedDict[int, int] = OrderedDict()  # key -> size, least recent first
    for op, key, size in operations:
        if op == "g":
            hit = cache.get(key) is not None
            assert hit == (key in model)
            if hit:
                model.move_to_end(key)
        elif op == "p":
            stored = cache.put(key, block(size))
            model.pop(key, None)
            assert stored == (size <= max_bytes)
            if stored:
                while model and sum(model.values()) + size > max_bytes:
                    model.popitem(last=False)
                model[key] = size
        else:
            cache.discard(key)
            model.pop(key, None)
        assert cache.keys() == list(model)
        assert cache.nbytes == sum(model.values()) <= max_bytes
