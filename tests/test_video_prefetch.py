"""Prefetching: frames ahead in the direction of travel, stale work dropped, cache bounded."""

from __future__ import annotations

import gc
import random
import threading
import time

import cv2
import numpy as np
import pytest

from costcore.video import CachedFrameSource, ImageFolderSource, VideoFileSource
from tests.test_video_cache import CountingSource
from tests.test_video_file import pattern_index, write_pattern_video

FRAME_BYTES = 640 * 360 * 3  # 691,200 bytes per airplane-1 frame


def wait_until(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_fills_ahead_forward_then_backward(airplane_1):
    source = CachedFrameSource(
        ImageFolderSource(airplane_1 / "img"), cache_bytes=60 * FRAME_BYTES, prefetch=8
    )
    with source:
        source.frame(100)
        assert source.prefetcher.wait_idle(5)
        assert all(j in source.cache for j in range(101, 109))
        assert 109 not in source.cache and 99 not in source.cache
        misses = source.cache.stats().misses
        for j in range(101, 105):
            source.frame(j)
        assert source.cache.stats().misses == misses  # stepping on is served from the cache
        assert source.prefetcher.wait_idle(5)
        assert all(j in source.cache for j in range(105, 113))

        source.frame(500)  # jump, then step back: prefetch follows the new direction
        source.frame(499)
        assert source.prefetcher.wait_idle(5)
        assert source.prefetcher.direction == -1
        assert all(j in source.cache for j in range(491, 499))
        expected = cv2.cvtColor(cv2.imread(str(source.frame_path(495))), cv2.COLOR_BGR2RGB)
        assert np.array_equal(source.frame(495), expected)


def test_cache_bound_while_reading_every_frame(airplane_1):
    bound = 12 * FRAME_BYTES + 1000
    source = CachedFrameSource(ImageFolderSource(airplane_1 / "img"), bound, prefetch=4)
    with source:
        for i in range(source.frame_count):
            image = source.frame(i)
            assert image.nbytes == FRAME_BYTES
            assert source.cache.nbytes <= bound
        stats = source.cache.stats()
        assert stats.nbytes <= bound and stats.entries <= 12
        # reading as fast as possible, the caller mostly waits for frames the prefetcher decodes
        assert source.prefetcher.loaded > source.frame_count // 2


def test_prefetched_frames_are_never_decoded_twice():
    inner = CountingSource(count=300, delay=0.002)
    source = CachedFrameSource(inner, cache_bytes=10**7, prefetch=6)
    with source:
        for i in range(0, 200):
            source.frame(i)
        for i in range(199, 120, -1):
            source.frame(i)
        source.prefetcher.wait_idle(5)
    assert max(inner.decodes.values()) == 1
    assert source.prefetcher.loaded > 100


def test_jump_drops_stale_work_and_never_blocks():
    inner = CountingSource(count=1000, delay=0.03)
    source = CachedFrameSource(inner, cache_bytes=10**7, prefetch=20)
    with source:
        source.frame(0)
        time.sleep(0.01)  # the prefetcher is now decoding frame 1
        source.frame(500)
        assert source.prefetcher.wait_idle(5)
        early = sum(inner.decodes[j] for j in range(1, 21))
        assert early <= 4  # the plan after frame 0 was abandoned
        assert all(j in source.cache for j in range(501, 521))
        # a cached frame comes back at once even while the prefetcher is busy decoding
        source.frame(700)
        start = time.perf_counter()
        source.frame(505)
        assert time.perf_counter() - start < 0.02


def test_close_stops_thread_and_forgotten_source_is_released():
    source = CachedFrameSource(CountingSource(delay=0.001), cache_bytes=10**6, prefetch=4)
    prefetcher = source.prefetcher
    source.frame(0)
    source.close()
    assert not prefetcher.running
    source.close()  # idempotent

    forgotten = CachedFrameSource(CountingSource(), cache_bytes=10**6, prefetch=4)
    forgotten.frame(0)
    prefetcher = forgotten.prefetcher
    del forgotten
    gc.collect()
    assert wait_until(lambda: not prefetcher.running)


@pytest.mark.parametrize("fourcc,extension", [("mp4v", ".mp4"), ("MJPG", ".avi")])
def test_video_backwards_with_prefetch(tmp_path, fourcc, extension):
    path = write_pattern_video(tmp_path / f"v{extension}", fourcc, frames=120)
    source = CachedFrameSource(VideoFileSource(path), cache_bytes=10**8, prefetch=10)
    with source:
        for i in range(100, 40, -1):
            assert pattern_index(source.frame(i)) == i
        assert source.prefetcher.direction == -1
        assert source.prefetcher.wait_idle(5)
        assert any(j in source.cache for j in range(31, 41))
        decoder = source.source.stats
        # backward blocks are read forward after one seek, not one seek per frame
        assert decoder.seeks + decoder.reopens < 30
        for i in range(41, 110):
            assert pattern_index(source.frame(i)) == i


def test_threads_and_prefetcher_share_a_video(tmp_path):
    path = write_pattern_video(tmp_path / "v.mp4", "mp4v", frames=120)
    errors: list[str] = []
    cache_bytes = 40 * 320 * 240 * 3
    with CachedFrameSource(VideoFileSource(path), cache_bytes, prefetch=8) as src:

        def reader(seed: int) -> None:
            rng = random.Random(seed)
            i = rng.randrange(120)
            for _ in range(80):
                i = min(119, max(0, i + rng.choice([1, 1, 1, -1, 25, -40])))
                if pattern_index(src.frame(i)) != i:
                    errors.append(f"thread {seed}: frame {i} wrong")

        threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
