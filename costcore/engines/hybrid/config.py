"""The hybrid engine's settings: which two engines, and when they count as agreeing.

Defaults chosen in a one-off ``bench effort`` comparison when the engine was written (not
recorded in BENCHMARKS.md; its table measures these defaults): re-anchoring below an IoU of
0.5 and an even average; 0.3 and 0.7 re-anchored too late or too often (Skiing, truck4_1).
"""

from __future__ import annotations

from dataclasses import dataclass

from costcore.frozen_config import FrozenConfig, setting

#: the engines that may refine the box: correlation filters, no weights, cheap to restart
PRECISE_ENGINES = ("csrt", "kcf")


@dataclass(frozen=True)
class HybridConfig(FrozenConfig):
    """``deep`` finds the target, ``precise`` draws the box; see :mod:`costcore.engines.hybrid`."""

    what = "hybrid engine config"
    ignored_keys = ("engine", "weights")

    #: the robust engine (a registered engine that takes the weights), e.g. nanotrack
    deep: str = setting("nanotrack", max_length=32)
    #: the precise engine, restarted on the deep engine's box whenever they disagree
    precise: str = setting("csrt", choices=PRECISE_ENGINES)
    #: the two boxes agree when their IoU is at least this; below it (or when the precise
    #: engine says it lost the target) the precise engine starts again on the deep box
    reanchor_iou: float = setting(0.5, above=0.0, maximum=1.0)
    #: where they agree, the box is this much the precise engine's and the rest the deep
    #: engine's (0.5: the average, whose errors cancel where the two err in opposite ways)
    precise_weight: float = setting(0.5, minimum=0.0, maximum=1.0)

    def validate(self) -> None:
        if self.deep in PRECISE_ENGINES or self.deep == "hybrid":
            raise self.invalid("deep", "must be a deep engine (e.g. nanotrack), not " + self.deep)
