"""The COST engine: load weights, wrap :class:`costcore.engines.cost.tracker.COSTTracker`.

Weights are either our checkpoint folder (``config.json`` + ``model.safetensors`` + the text
encoder) or a TransT ``.pth`` file, which gives a visual-only model: the engine then calls
itself "transt" and ignores the description. Loading goes through ``costcore.model.load_model``
(no network, no arbitrary unpickling). torch is imported only when an engine is created.

The adapter adds what the tracker leaves to its callers: a missing or unreadable weights path
becomes a :class:`WeightsError` naming the file, the device request is checked up front, and
the tracker's ``ValueError``s on bad input become :class:`EngineError`s the CLI and app report.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from costcore.boxes import Box
from costcore.engines.base import TrackerEngine, TrackResult
from costcore.engines.engine_device import engine_device
from costcore.engines.errors import EngineError, WeightsError
from costcore.errors import CostcoreError, FormatError

if TYPE_CHECKING:
    from costcore.engines.cost.tracker import COSTTracker


def load_weights(weights: str | PathLike[str], device: str = "auto") -> tuple[object, str, str]:
    """Load a checkpoint folder or TransT file onto ``device``: (model, summary, device used)."""
    resolved = str(engine_device("COST", device))  # fails here, clearly, without torch
    from costcore.model import load_model

    path = Path(weights)
    if not path.exists():
        raise WeightsError(path, "weights not found (expected a COST checkpoint folder or a .pth)")
    try:
        model, summary = load_model(path, resolved)
    except FormatError as error:  # names the offending file, maybe relative to the checkpoint
        where = path if error.path is None else error.path
        message = f"cannot load weights: {error.message}"
        if not str(where).startswith(str(path)):
            message += f" (loading {path})"
        raise WeightsError(where, message) from error
    except CostcoreError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise WeightsError(
            path, f"cannot load weights ({type(error).__name__}: {error})"
        ) from error
    return model, summary, resolved


class COSTEngine(TrackerEngine):
    """COST (or TransT, for visual-only weights) behind the engine interface."""

    yields_score_map = True

    def __init__(self, tracker: COSTTracker, weights: Path, summary: str = "") -> None:
        self.tracker = tracker
        self.weights = weights
        self.summary = summary
        self.name = tracker.name  # "cost", or "transt" when the model has no language branch
        self._initialized = False

    @property
    def visual_only(self) -> bool:
        return self.name == "transt"

    @property
    def device(self) -> str:
        return self.tracker.device

    def describe(self) -> str:
        return f"{self.tracker.describe()} - {self.summary}" if self.summary else super().describe()

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        try:
            self.tracker.initialize(frame, box, text)
        except ValueError as error:
            raise EngineError(f"{self.name}: {error}") from error
        self._initialized = True

    def step(self, frame: np.ndarray) -> TrackResult:
        if not self._initialized:
            raise EngineError(f"{self.name}: call initialize() before step()")
        try:
            return self.tracker.track(frame)
        except ValueError as error:
            raise EngineError(f"{self.name}: {error}") from error


def create_cost_engine(
    weights: str | PathLike[str],
    device: str = "auto",
    autocast: str | None = None,
    window_influence: float = 0.49,
) -> COSTEngine:
    """Registry factory for "cost": a COST checkpoint, or a TransT file (then visual only).

    ``autocast`` is None (full precision), "bf16" or "fp16" (CUDA); ``window_influence`` is the
    Hann-window prior's weight (TransT's 0.49). The other tracker parameters are TransT's
    (:class:`~costcore.engines.cost.params.COSTTrackerParams`).
    """
    from costcore.engines.cost.params import COSTTrackerParams
    from costcore.engines.cost.tracker import COSTTracker

    model, summary, resolved = load_weights(weights, device)
    try:
        params = COSTTrackerParams.for_model(
            model.config, autocast=autocast, window_influence=window_influence
        )
        tracker = COSTTracker(model, device=resolved, params=params)
    except ValueError as error:
        raise EngineError(f"cost engine: {error}") from error
    return COSTEngine(tracker, Path(weights), summary)


def create_transt_engine(
    weights: str | PathLike[str],
    device: str = "auto",
    autocast: str | None = None,
    window_influence: float = 0.49,
) -> COSTEngine:
    """Registry factory for "transt": like "cost", but refuses weights with a language branch."""
    engine = create_cost_engine(weights, device, autocast, window_influence)
    if not engine.visual_only:
        raise EngineError(
            f"{weights}: a COST checkpoint with a language branch; use engine 'cost' for it"
        )
    return engine
