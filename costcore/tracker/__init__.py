"""The online COST / TransT tracker and its crop geometry (torch + OpenCV, no Qt)."""

from costcore.tracker.cost_tracker import COSTTracker, resolve_device
from costcore.tracker.crop import SearchCrop, crop_side
from costcore.tracker.postprocess import choose_candidate, clip_state, hann_window

__all__ = [
    "COSTTracker",
    "SearchCrop",
    "choose_candidate",
    "clip_state",
    "crop_side",
    "hann_window",
    "resolve_device",
]
