"""The COST / TransT tracker's parameters, apart from its code (as pytracking's parameter files).

Defaults are TransT's (``pytracking/tracker/transt/config.py`` and ``transt.py``): template
crop at context factor 2 resized to 128 px, search crop at factor 4 resized to 256 px, Hann
window influence 0.49, boxes at least 10 px wide and tall, full precision. The crop sizes are
the network's (its feature maps and, for COST, its learned token positions depend on them), so
:meth:`COSTTrackerParams.for_model` takes them, and the factors, from the model's config.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from costcore.model.config import COSTConfig

#: ``autocast`` values and the torch dtype names they stand for
AUTOCAST_CHOICES = (None, "bf16", "fp16")


@dataclass(frozen=True)
class COSTTrackerParams:
    """How the online tracker crops, scores and bounds; one frozen value per tracker."""

    template_factor: float = 2.0
    template_size: int = 128
    search_factor: float = 4.0
    search_size: int = 256
    #: weight of the Hann-window prior against the score (TransT: 0.49)
    window_influence: float = 0.49
    #: the box never gets narrower or shorter than this (pixels; TransT's ``_bbox_clip``)
    min_size: float = 10.0
    #: reduced-precision inference: None (float32), "bf16" or "fp16" (meant for CUDA)
    autocast: str | None = None

    def __post_init__(self) -> None:
        if self.autocast not in AUTOCAST_CHOICES:
            raise ValueError(f"autocast must be None, 'bf16' or 'fp16', not {self.autocast!r}")
        if not 0.0 <= self.window_influence <= 1.0:
            raise ValueError("window_influence must be in [0, 1]")

    @classmethod
    def for_model(cls, config: COSTConfig, **changes: Any) -> COSTTrackerParams:
        """TransT's parameters with the crop sizes and factors of the network ``config``."""
        values: dict[str, Any] = {
            "template_factor": config.template_factor,
            "template_size": config.template_size,
            "search_factor": config.search_factor,
            "search_size": config.search_size,
        }
        values.update(changes)
        return cls(**values)

    def replace(self, **changes: Any) -> COSTTrackerParams:
        return dataclasses.replace(self, **changes)
