"""The tracker-engine interface every engine implements (pytracking-style).

An engine is initialised once with a frame, the target's box and the language description,
then stepped frame by frame. Engines are plug-ins: the app and the CLI know only this module
and the registry, so a new tracker is a new module, nothing else.

Engines that can ground (``can_ground``, e.g. UVLTrack) also find the target from the sentence
alone: :meth:`TrackerEngine.ground` proposes the first box, so tracking can start without one.

Language reaches ``initialize`` as one string, as VLT and COST read it. A video may say it two
ways (the sentence, or VLT's four attribute words: ``costcore.language``); callers hand a
:class:`~costcore.language.LanguageInput` to :func:`costcore.engines.frame_loop.track_frames`, which
renders the form the engine is set to (``engine.language_form``, chosen with
``create_engine(..., language_form=...)``) through :meth:`TrackerEngine.language_text`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from costcore.boxes import Box
from costcore.engines.errors import EngineError
from costcore.language import LanguageForm, LanguageInput


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


@dataclass(frozen=True)
class GroundingResult:
    """Where a sentence puts the target in a frame: a proposal the annotator accepts or redraws.

    ``score`` is the engine's confidence in [0, 1] (None when it has none).
    """

    box: Box
    score: float | None
    timings_ms: dict[str, float] = field(default_factory=dict)


class TrackerEngine(ABC):
    """Initialise with (RGB frame, box, text), then ``step`` once per following frame."""

    #: short registry name, e.g. "cost", "csrt"
    name: str = "engine"
    #: whether ``step`` returns a score map for the confidence overlay
    yields_score_map: bool = False
    #: which language a :class:`LanguageInput` gives this engine (sentence by default)
    language_form: LanguageForm = LanguageForm.SENTENCE
    #: what the weights are (file, tensor count, checksum), shown by :meth:`describe`
    summary: str = ""
    #: whether :meth:`ground` can find the target from a sentence alone (no box)
    can_ground: bool = False

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

    def ground(self, frame: np.ndarray, text: str | LanguageInput) -> GroundingResult:
        """The box ``text`` describes in ``frame`` (RGB uint8), without changing the tracking
        state; engines that cannot (``can_ground`` False) raise EngineError."""
        raise EngineError(f"engine '{self.name}' cannot find a target from a sentence")

    def language_text(self, language: str | LanguageInput) -> str:
        """The text ``initialize`` gets: a string as it is, a :class:`LanguageInput` rendered
        in :attr:`language_form` (:class:`~costcore.language.LanguageError` when that form is
        missing, e.g. no attribute words)."""
        if isinstance(language, LanguageInput):
            return language.text(self.language_form)
        if isinstance(language, str):
            return language
        raise TypeError(f"language must be a str or LanguageInput, got {type(language).__name__}")

    def describe(self) -> str:
        """One line for status bars and logs: which engine, on which device, which weights."""
        base = f"{self.name} ({self.device})"
        return f"{base} - {self.summary}" if self.summary else base


def check_rgb_frame(frame: np.ndarray) -> np.ndarray:
    """``frame`` itself when it is an (H, W, 3) uint8 image; EngineError otherwise."""
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        raise EngineError(f"expected an RGB frame of shape (H, W, 3), got {shape}")
    if frame.dtype != np.uint8:
        raise EngineError(f"expected a uint8 frame, got {frame.dtype}")
    return frame


def check_initial_box(engine: str, box: Box, frame: np.ndarray | None = None) -> Box:
    """``box`` as floats, when it has a positive size and (given the ``frame``) overlaps it,
    so the first crop holds the target; otherwise an EngineError naming ``engine``."""
    box = Box(*(float(v) for v in box))
    if not box.is_valid():
        raise EngineError(f"{engine}: the initial box must have a positive size, got {box}")
    if frame is not None:
        inside = box.clipped(frame.shape[1], frame.shape[0])
        if inside.w <= 0 or inside.h <= 0:
            raise EngineError(f"{engine}: the initial box {box} lies outside the frame")
    return box
