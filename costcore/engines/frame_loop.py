"""Drive an engine through a run of frames: the loop the CLI and the app's worker share.

Kept apart from the engines so that timing, direction and cancellation are written once.
A generator, so the caller decides what to do with each step (write it, show it, stop early
by breaking out of the loop, or stop because ``cancelled()`` said so).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from costcore.boxes import Box
from costcore.engines.base import TrackerEngine, TrackResult
from costcore.engines.errors import EngineError
from costcore.errors import Cancelled
from costcore.language import LanguageInput


class FrameReader(Protocol):
    """What the loop needs from a frame source (``costcore.video.FrameSource`` fits)."""

    @property
    def frame_count(self) -> int: ...

    def frame(self, index: int) -> np.ndarray: ...


@dataclass(frozen=True)
class TrackStep:
    """One frame of a run: its index, the engine's result, and the engine's time in seconds.

    The first step is the initialisation frame: its result holds the given box (score None)
    and ``seconds`` is the initialisation time (language features included, for COST). When
    the box was found from the sentence (``grounded``), it holds the found box and the
    engine's grounding score, and ``seconds`` includes the grounding.
    """

    index: int
    result: TrackResult
    seconds: float
    initial: bool = False
    #: the RGB frame the step ran on, so callers that draw or cache it need not decode it again
    frame: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: the initial box was found from the sentence (``engine.ground``), not given
    grounded: bool = False


def track_frames(
    engine: TrackerEngine,
    frames: FrameReader,
    box: Box | None,
    text: str | LanguageInput = "",
    *,
    start: int = 0,
    stop: int | None = None,
    backwards: bool = False,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[TrackStep]:
    """Initialise ``engine`` on frame ``start`` with ``box`` and track frame by frame.

    Forwards it runs up to ``stop`` (exclusive, default the last frame); with ``backwards``
    it runs down to ``stop`` (exclusive, default past frame 0). Decoding time is not counted
    in ``seconds``. ``cancelled`` is polled before every frame and raises :class:`Cancelled`.
    ``text`` is the description as a string, or a :class:`LanguageInput` rendered in the
    engine's ``language_form`` (sentence or attribute words) before anything runs.
    Without a ``box`` the engine finds the target from the text first (``engine.ground``; an
    EngineError for engines that cannot) - UVLTrack's NL mode.
    """
    count = frames.frame_count
    if not 0 <= start < count:
        raise IndexError(f"start frame {start + 1} does not exist; the frames are 1 to {count}")
    direction = -1 if backwards else 1
    if stop is None:
        stop = -1 if backwards else count
    stop = max(min(stop, count), -1)

    language = engine.language_text(text)  # a missing form fails before any decoding
    grounded = box is None
    if grounded and not engine.can_ground:  # fail before any decoding
        raise EngineError(f"engine '{engine.name}' cannot find a target from a sentence")
    frame = frames.frame(start)
    began = time.perf_counter()
    if grounded:
        found = engine.ground(frame, language)
        initial = TrackResult(
            found.box, found.score, engine.name, timings_ms=dict(found.timings_ms)
        )
    else:
        initial = TrackResult(Box(*box), None, engine.name)
    engine.initialize(frame, initial.box, language)
    seconds = time.perf_counter() - began
    yield TrackStep(start, initial, seconds, initial=True, grounded=grounded, frame=frame)

    for index in range(start + direction, stop, direction):
        if cancelled is not None and cancelled():
            raise Cancelled(f"tracking stopped at frame {index + 1}")
        frame = frames.frame(index)
        began = time.perf_counter()
        result = engine.step(frame)
        yield TrackStep(index, result, time.perf_counter() - began, frame=frame)
