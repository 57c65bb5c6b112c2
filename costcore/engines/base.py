"""The tracker-engine interface every engine implements (pytracking-style).

An engine is initialised once with a frame, the target's box and the language description,
then stepped frame by frame. Engines are plug-ins: the app and the CLI know only this module
and the registry, so a new tracker is a new module, nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from costcore.boxes import Box


@dataclass
class TrackResult:
    """What one tracking step yields.

    ``score_map`` (float32, values in [0, 1]) covers ``search_region`` (frame coordinates), so
    a view can draw it over the frame; engines without one leave both ``None``.
    ``timings_ms`` holds per-stage times (e.g. visual, language, fusion, prediction).
    ``lost`` is True when the engine itself says it lost the target (the box is then its last
    good one), so callers can flag the frame instead of trusting the box.
    """

    box: Box
    score: float | None
    engine: str
    score_map: np.ndarray | None = None
    search_region: Box | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    lost: bool = False


class TrackerEngine(ABC):
    """Initialise with (RGB frame, box, text), then ``step`` once per following frame."""

    #: short registry name, e.g. "cost", "csrt"
    name: str = "engine"
    #: whether ``step`` returns a score map for the confidence overlay
    yields_score_map: bool = False

    @property
    def device(self) -> str:
        """Where the engine computes: "cpu" or e.g. "cuda:0"."""
        return "cpu"

    @abstractmethod
    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        """Start tracking the object in ``box`` of ``frame`` (RGB uint8), described by ``text``."""

    @abstractmethod
    def step(self, frame: np.ndarray) -> TrackResult:
        """Track into the next frame (RGB uint8) and return the result."""

    def describe(self) -> str:
        """One line for status bars and logs: which engine, on which device."""
        return f"{self.name} ({self.device})"
