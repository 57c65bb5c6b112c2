"""The COST / TransT tracker's parameters, apart from its code (as pytracking's parameter files).

Defaults are TransT's (``pytracking/tracker/transt/config.py`` and ``transt.py``): template
crop at context factor 2 resized to 128 px, search crop at factor 4 resized to 256 px, Hann
window influence 0.49, boxes at least 10 px wide and tall, full precision. The crop sizes are
the network's (its feature maps and, for COST, its learned token positions depend on them), so
:meth:`COSTTrackerParams.for_model` takes them, and the factors, from the model's config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from costcore.frozen_config import FrozenConfig, setting

if TYPE_CHECKING:
    from costcore.model.config import COSTConfig

#: ``autocast`` values besides None (float32): the reduced precisions torch.autocast offers
AUTOCAST_CHOICES = ("bf16", "fp16")


@dataclass(frozen=True)
class COSTTrackerParams(FrozenConfig):
    """How the online tracker crops, scores and bounds; one frozen value per tracker."""

    what = "COST tracker parameters"

    template_factor: float = setting(2.0, above=0.0, maximum=64.0)
    template_size: int = setting(128, minimum=8, maximum=1024)
    search_factor: float = setting(4.0, above=0.0, maximum=64.0)
    search_size: int = setting(256, minimum=8, maximum=2048)
    #: weight of the Hann-window prior against the score (TransT: 0.49)
    window_influence: float = setting(0.49, minimum=0.0, maximum=1.0)
    #: the box never gets narrower or shorter than this (pixels; TransT's ``_bbox_clip``)
    min_size: float = setting(10.0, minimum=0.0, maximum=100_000.0)
    #: reduced-precision inference: None (float32), "bf16" or "fp16" (meant for CUDA)
    autocast: str | None = setting(None, choices=AUTOCAST_CHOICES)

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
