"""Tracking engines behind one interface: COST/TransT, All-in-One, VLT_TT, UVLTrack, NanoTrack,
OpenCV CSRT/KCF, and interpolation.

Import what you need from here; nothing heavy (torch, OpenCV's trackers) is imported until an
engine is created, so the app can list engines at start-up for free.
"""

from costcore.engines.base import GroundingResult, TrackerEngine, TrackResult
from costcore.engines.errors import EngineError, WeightsError
from costcore.engines.registry import (
    EngineInfo,
    Readiness,
    available_engines,
    catalogued_engine,
    create_engine,
    default_engine_name,
    engine_info,
    engine_infos,
    engine_readiness,
    grounding_engines,
    not_installed_message,
    register_engine,
    weights_engine,
)

__all__ = [
    "EngineError",
    "EngineInfo",
    "Readiness",
    "GroundingResult",
    "TrackResult",
    "TrackerEngine",
    "WeightsError",
    "available_engines",
    "catalogued_engine",
    "create_engine",
    "default_engine_name",
    "engine_info",
    "engine_infos",
    "engine_readiness",
    "grounding_engines",
    "not_installed_message",
    "register_engine",
    "weights_engine",
]
