"""The shared tracking loop: order, direction, timing and cancellation."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.boxes import Box
from costcore.engines.base import GroundingResult, TrackerEngine, TrackResult
from costcore.engines.errors import EngineError
from costcore.engines.frame_loop import track_frames
from costcore.errors import Cancelled


class _Frames:
    """Ten 'frames', each filled with its own index."""

    frame_count = 10

    def frame(self, index: int) -> np.ndarray:
        return np.full((4, 4, 3), index, dtype=np.uint8)


class _CountingEngine(TrackerEngine):
    """Moves the box to x = the frame's pixel value, so the test sees which frame it got."""

    name = "counting"

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        self.box, self.text = Box(*box), text

    def step(self, frame: np.ndarray) -> TrackResult:
        return TrackResult(self.box._replace(x=float(frame[0, 0, 0])), 0.5, self.name)


def test_forwards_from_start_to_stop() -> None:
    engine = _CountingEngine()
    steps = list(track_frames(engine, _Frames(), Box(0, 1, 2, 3), "a car", start=2, stop=6))
    assert [s.index for s in steps] == [2, 3, 4, 5]
    assert steps[0].initial and steps[0].result.box == Box(0, 1, 2, 3)
    assert steps[0].result.score is None and engine.text == "a car"
    assert [s.result.box.x for s in steps[1:]] == [3.0, 4.0, 5.0]
    assert all(s.seconds >= 0 and s.frame is not None for s in steps)
    assert int(steps[2].frame[0, 0, 0]) == 4


def test_backwards_to_the_first_frame() -> None:
    steps = list(
        track_frames(_CountingEngine(), _Frames(), Box(0, 0, 1, 1), start=3, backwards=True)
    )
    assert [s.index for s in steps] == [3, 2, 1, 0]


def test_cancel_and_bad_start() -> None:
    calls = iter([False, False, True])
    with pytest.raises(Cancelled):
        list(
            track_frames(
                _CountingEngine(), _Frames(), Box(0, 0, 1, 1), cancelled=lambda: next(calls)
            )
        )
    with pytest.raises(IndexError, match="start frame 11 does not exist; the frames are 1 to 10"):
        list(track_frames(_CountingEngine(), _Frames(), Box(0, 0, 1, 1), start=10))
    calls = iter([False, True])
    with pytest.raises(Cancelled, match="stopped at frame 3$"):  # start 0 = frame 1; 2, 3
        list(
            track_frames(
                _CountingEngine(), _Frames(), Box(0, 0, 1, 1), cancelled=lambda: next(calls)
            )
        )


class _GroundingEngine(_CountingEngine):
    """Finds the target at x = the frame's pixel value, with a fixed confidence."""

    name = "grounding"
    can_ground = True

    def ground(self, frame: np.ndarray, text: str) -> GroundingResult:
        self.grounded_text = text
        return GroundingResult(Box(float(frame[0, 0, 0]), 1, 2, 3), 0.75, {"grounding": 1.0})


class _RecordingFrames(_Frames):
    def __init__(self) -> None:
        self.read: list[int] = []

    def frame(self, index: int) -> np.ndarray:
        self.read.append(index)
        return super().frame(index)


def test_without_a_box_the_engine_grounds_the_sentence_on_the_start_frame() -> None:
    engine = _GroundingEngine()
    steps = list(track_frames(engine, _Frames(), None, "a red car", start=4, stop=7))
    first = steps[0]
    assert first.initial and first.grounded and first.index == 4
    assert first.result.box == Box(4, 1, 2, 3) and first.result.score == 0.75
    assert first.result.timings_ms == {"grounding": 1.0}
    assert engine.grounded_text == engine.text == "a red car"
    assert engine.box == Box(4, 1, 2, 3)  # tracking starts from the found box
    assert [s.result.box.x for s in steps[1:]] == [5.0, 6.0]
    assert not any(s.grounded for s in steps[1:])
    given = next(track_frames(_GroundingEngine(), _Frames(), Box(0, 1, 2, 3), "a red car"))
    assert not given.grounded and given.result.score is None


def test_engines_that_cannot_ground_fail_before_decoding() -> None:
    frames = _RecordingFrames()
    with pytest.raises(EngineError, match="engine 'counting' cannot find a target"):
        list(track_frames(_CountingEngine(), frames, None, "a red car"))
    assert frames.read == []
    with pytest.raises(EngineError, match="cannot find a target from a sentence"):
        _CountingEngine().ground(np.zeros((4, 4, 3), np.uint8), "a red car")
