"""The hybrid engine: a deep tracker keeps the target, a correlation filter fits its box.

Registered as ``"hybrid"`` (NanoTrack + CSRT by default; :class:`HybridConfig`). Weights are
the deep engine's (a NanoTrack ``.pth`` or a folder with one); the ``config`` option (a dict or
a JSON file with :class:`HybridConfig` fields) picks the engines and the agreement rule, and
a ``deep_config`` option is handed to the deep engine unchanged. See
:mod:`costcore.engines.hybrid.tracker` for the rule and the measurement behind it.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from costcore.engines.errors import EngineError
from costcore.engines.hybrid.config import PRECISE_ENGINES, HybridConfig
from costcore.engines.hybrid.tracker import HybridTracker
from costcore.errors import ConfigError

__all__ = ["PRECISE_ENGINES", "HybridConfig", "HybridTracker", "create_hybrid_engine"]


def hybrid_config(config: object) -> HybridConfig:
    """``config`` (None, a dict or a JSON file) as a checked :class:`HybridConfig`; problems
    are EngineErrors naming the file and field."""
    try:
        if config is None:
            return HybridConfig()
        if isinstance(config, dict):
            return HybridConfig.from_dict(config)
        if isinstance(config, (str, PathLike)):
            return HybridConfig.from_json_file(Path(config))
    except ConfigError as error:
        raise EngineError(f"hybrid: {error}") from None
    raise EngineError("hybrid: config must be a dict or a JSON file")


def create_hybrid_engine(
    weights: str | PathLike[str] | None = None,
    device: str = "auto",
    config: object = None,
    deep_config: object = None,
) -> HybridTracker:
    """Registry factory for ``"hybrid"``: ``weights`` are the deep engine's; None lets the
    deep engine take its own from the weights cache (NanoTrack's best installed entry)."""
    from costcore.engines.registry import create_engine, engine_info

    settings = hybrid_config(config)
    deep_info = engine_info(settings.deep)
    if not deep_info.takes_weights:
        raise EngineError(f"hybrid: the deep engine {settings.deep!r} takes no weights")
    options = {} if deep_config is None else {"config": deep_config}
    deep = create_engine(settings.deep, weights, device, **options)
    precise = create_engine(settings.precise)
    return HybridTracker(deep, precise, settings)
