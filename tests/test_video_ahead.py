"""FramesAhead: forward runs read frames decoded ahead on a thread of their own."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from costcore.video.ahead import FramesAhead


class CountingSource:
    """Frames whose first pixel holds the index; records which thread decoded what."""

    def __init__(self, count: int = 40, broken: int | None = None, delay: float = 0.0) -> None:
        self.frame_count = count
        self.frame_size = (8, 6)
        self.broken = broken
        self.delay = delay
        self.reads: list[int] = []
        self.threads: set[str] = set()

    def frame(self, index: int) -> np.ndarray:
        self.reads.append(index)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        if index == self.broken:
            raise ValueError(f"frame {index + 1} could not be decoded")
        image = np.zeros((6, 8, 3), np.uint8)
        image[0, 0, 0] = index
        return image


def wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        assert time.perf_counter() < deadline, "timed out"
        time.sleep(0.001)


def test_frames_in_order_are_the_sources_decoded_ahead_by_another_thread() -> None:
    source = CountingSource()
    with FramesAhead(source, depth=5) as frames:
        assert frames.frame_count == 40
        assert int(frames.frame(0)[0, 0, 0]) == 0
        wait_for(lambda: frames.decoded >= 6)  # 1..5 decoded before they are asked for
        assert source.reads[:6] == [0, 1, 2, 3, 4, 5]
        time.sleep(0.05)
        assert len(source.reads) == 6  # and no further than the depth
        got = [int(frames.frame(i)[0, 0, 0]) for i in range(1, 40)]
        assert got == list(range(1, 40))
    assert source.threads == {"frames-ahead"}  # the source is only ever touched by one thread
    assert source.reads == list(range(40))  # each frame decoded once


def test_a_jump_restarts_the_plan_and_stop_bounds_it() -> None:
    source = CountingSource(count=100)
    with FramesAhead(source, stop=30, depth=4) as frames:
        frames.frame(0)
        assert int(frames.frame(20)[0, 0, 0]) == 20  # a jump: served, plan restarted there
        assert int(frames.frame(10)[0, 0, 0]) == 10  # a step back: served too
        for i in range(11, 30):
            assert int(frames.frame(i)[0, 0, 0]) == i
        time.sleep(0.05)
        assert max(source.reads) == 29  # nothing at or after stop decoded ahead
        assert int(frames.frame(50)[0, 0, 0]) == 50  # asked for: decoded whatever the plan


def test_an_undecodable_frame_raises_when_asked_for_and_not_before() -> None:
    source = CountingSource(broken=3)
    with FramesAhead(source, depth=6) as frames:
        frames.frame(0)
        wait_for(lambda: 3 in source.reads)
        assert int(frames.frame(1)[0, 0, 0]) == 1
        assert int(frames.frame(2)[0, 0, 0]) == 2
        with pytest.raises(ValueError, match="frame 4 could not be decoded"):
            frames.frame(3)
        assert int(frames.frame(4)[0, 0, 0]) == 4
    with pytest.raises(IndexError):
        FramesAhead(CountingSource()).frame(40)


def test_memory_ahead_is_bounded_by_the_budget_and_close_stops_the_thread() -> None:
    source = CountingSource()
    frames = FramesAhead(source, budget_bytes=3 * 8 * 6 * 3, depth=16)
    assert frames.depth == 3
    frames.frame(0)
    frames.close()
    assert not frames._thread.is_alive()
    with pytest.raises(ValueError, match="closed"):
        frames.frame(1)
