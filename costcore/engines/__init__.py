"""Tracking engines behind one interface: COST/TransT, All-in-One, VLT_TT, UVLTrack, OpenCV
CSRT/KCF, and interpolation.

Import what you need from here; nothing heavy (torch, OpenCV's trackers) is imported until an
engine is created, so the app can list engines at start-up for free.
"""

from costcore.engines.base import GroundingResult, TrackerEngine, TrackResult
from costcore.engines.errors import EngineError, WeightsError
from costcore.engines.registry import (
    EngineInfo,
    available_engines,
    create_engine,
    default_engine_name,
    engine_info,
    engine_infos,
    grounding_engines,
    register_engine,
    weights_engine,
)

__all__ = [
    "EngineError",
    "EngineInfo",
    "GroundingResult",
    "TrackResult",
    "TrackerEngine",
    "WeightsError",
    "available_engines",
    "create_engine",
    "default_engine_name",
    "engine_info",
    "grounding_engines",
    "engine_infos",
    "register_engine",
    "weights_engine",
]
