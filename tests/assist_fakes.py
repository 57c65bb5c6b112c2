"""Scripted engines and frames for the assisted-annotation tests (no real tracker involved).

Frames encode their index (pixel ``[0, 0, 0]``), so a scripted engine knows which frame it was
given; its box is a pure function of the frame index, the start frame and the start box.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from costcore.boxes import Box
from costcore.engines.base import TrackerEngine, TrackResult

#: box(frame, start frame, start box) -> box; default: 2 px right per frame from the start
Script = Callable[[int, int, Box], Box]


def drift_right(index: int, start: int, box: Box) -> Box:
    return box._replace(x=box.x + 2.0 * (index - start))


class IndexFrames:
    """``count`` black frames of ``size`` (width, height; large enough for the boxes the tests
    script, since engine boxes are clipped to the frame); pixel [0, 0, 0] is the frame index
    modulo 256. (np.zeros pages are not touched, so big frames cost nothing.)"""

    def __init__(self, count: int, size: tuple[int, int] = (1280, 720)) -> None:
        self.frame_count = count
        self.size = size
        self.reads = 0

    def frame(self, index: int) -> np.ndarray:
        if not 0 <= index < self.frame_count:
            raise IndexError(index)
        self.reads += 1
        width, height = self.size
        image = np.zeros((height, width, 3), dtype=np.uint8)
        image[0, 0, 0] = index % 256
        image[0, 0, 1] = index // 256
        return image


def frame_index(frame: np.ndarray) -> int:
    return int(frame[0, 0, 0]) + 256 * int(frame[0, 0, 1])


class ScriptedEngine(TrackerEngine):
    """Follows ``script``; ``scores`` (index -> score), ``lost`` frames, optional delay."""

    name = "scripted"
    yields_score_map = False

    def __init__(
        self,
        script: Script = drift_right,
        scores: dict[int, float] | None = None,
        lost: set[int] | None = None,
        delay: float = 0.0,
        score_map: np.ndarray | None = None,
        frame_to_index: Callable[[np.ndarray], int] = frame_index,
    ) -> None:
        self.script = script
        self.scores = scores or {}
        self.lost = lost or set()
        self.delay = delay
        self.score_map = score_map
        self.frame_to_index = frame_to_index
        self.inits: list[tuple[int, Box, str]] = []
        self.steps = 0
        self.threads: set[str] = set()
        self._start = 0
        self._box = Box(0, 0, 1, 1)

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        self._start = self.frame_to_index(frame)
        self._box = Box(*box)
        self.inits.append((self._start, self._box, text))
        self.threads.add(threading.current_thread().name)

    def step(self, frame: np.ndarray) -> TrackResult:
        if self.delay:
            time.sleep(self.delay)
        self.steps += 1
        index = self.frame_to_index(frame)
        box = self.script(index, self._start, self._box)
        score = self.scores.get(index, 0.9)
        region = None
        if self.score_map is not None:
            region = Box(box.x - box.w, box.y - box.h, 3 * box.w, 3 * box.h)
        return TrackResult(
            box,
            score,
            self.name,
            score_map=self.score_map,
            search_region=region,
            timings_ms={"track": 1.0},
            lost=index in self.lost,
        )
