"""Which tracking engines exist, and how to build one by name.

Engines register a factory under a short name with a one-line description. Factories may be
given as ``"module:attribute"`` strings, resolved only when the engine is created, so importing
this module (and listing engines in the app's menu) imports neither torch nor OpenCV's trackers:
the app starts fast and a missing optional dependency only matters for the engine that needs it.
A new tracker (LiteTrack, ...) is one new module plus one ``register_engine`` call below, as
All-in-One, VLT_TT and UVLTrack are; the app's engine picker and the CLI list from here.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike

from costcore.engines.base import TrackerEngine
from costcore.engines.errors import EngineError
from costcore.language import LanguageForm

EngineFactory = Callable[..., TrackerEngine]
WeightsPath = str | PathLike[str]

#: the engine used when no weights are configured: embedded in OpenCV, needs nothing else
CLASSICAL_DEFAULT = "csrt"
#: the engine used when weights are configured
WEIGHTS_DEFAULT = "cost"


@dataclass(frozen=True)
class EngineInfo:
    """A registered engine: its name, what it is in one line, and how to build it.

    ``factory`` is called as ``factory(weights=..., device=..., **options)`` (``weights`` only
    when ``takes_weights``) and returns a fresh, uninitialised :class:`TrackerEngine`.
    """

    name: str
    description: str
    factory: str | EngineFactory
    takes_weights: bool = False
    needs_weights: bool = False
    #: what ``weights`` must be, for error messages
    weights_hint: str = "a COST checkpoint folder or a TransT .pth file"
    #: the engine can find the target from a sentence alone (``TrackerEngine.ground``), so a
    #: caller may offer "find the target" without building the engine or importing torch
    can_ground: bool = False
    #: a file-dialog filter for weights files, e.g. "TransT checkpoints (*.pth *.pt)"
    #: ("" when the weights are never a single file)
    weights_files: str = ""
    #: whether the weights may be a folder
    weights_folder: bool = False
    #: whether each step gives a confidence score (the score flags and plot need one)
    gives_score: bool = False
    #: whether each step gives a score map for the confidence overlay
    gives_score_map: bool = False
    #: how people write the name ("All-in-One"); "" = the name in capitals
    label: str = ""

    @property
    def display_name(self) -> str:
        """The name as menus and messages show it."""
        return self.label or self.name.upper()

    def load_factory(self) -> EngineFactory:
        """Import the factory now (the only place an engine's heavy imports happen)."""
        if not isinstance(self.factory, str):
            return self.factory
        module_name, _, attribute = self.factory.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise EngineError(
                f"engine '{self.name}' is not usable here: cannot import {module_name} ({error})"
            ) from error
        return getattr(module, attribute)


_ENGINES: dict[str, EngineInfo] = {}


def register_engine(
    name: str,
    factory: str | EngineFactory,
    description: str,
    *,
    takes_weights: bool = False,
    needs_weights: bool = False,
    replace: bool = False,
    weights_hint: str | None = None,
    can_ground: bool = False,
    weights_files: str = "",
    weights_folder: bool = False,
    gives_score: bool = False,
    gives_score_map: bool = False,
    label: str = "",
) -> None:
    """Make an engine available under ``name`` (lower case, no spaces).

    What the keywords say about the engine (weights, score, score map) is all a front end
    learns about it: the app builds its weights chooser and its messages from them.
    """
    if not name or name != name.strip().lower() or " " in name:
        raise ValueError(f"engine names are lower-case words, got {name!r}")
    if name in _ENGINES and not replace:
        raise ValueError(f"engine {name!r} is already registered")
    if isinstance(factory, str) and ":" not in factory:
        raise ValueError(f"lazy factories are 'module:attribute', got {factory!r}")
    hint = {} if weights_hint is None else {"weights_hint": weights_hint}
    _ENGINES[name] = EngineInfo(
        name,
        description,
        factory,
        takes_weights or needs_weights,
        needs_weights,
        can_ground=can_ground,
        weights_files=weights_files,
        weights_folder=weights_folder,
        gives_score=gives_score,
        gives_score_map=gives_score_map,
        label=label,
        **hint,
    )


def available_engines() -> dict[str, str]:
    """Registered engine names and their one-line descriptions, in registration order."""
    return {name: info.description for name, info in _ENGINES.items()}


def grounding_engines() -> list[str]:
    """Names of the engines that can find the target from a sentence, in registration order."""
    return [name for name, info in _ENGINES.items() if info.can_ground]


def engine_infos() -> list[EngineInfo]:
    """Every registered engine, in registration order."""
    return list(_ENGINES.values())


def engine_info(name: str) -> EngineInfo:
    """The registration of ``name``; an unknown name raises an error listing the known ones."""
    try:
        return _ENGINES[name]
    except KeyError:
        known = ", ".join(_ENGINES) or "none"
        raise EngineError(f"unknown tracking engine {name!r}; available: {known}") from None


def default_engine_name(weights: WeightsPath | None) -> str:
    """``"cost"`` when weights are configured, else the embedded classical tracker."""
    return WEIGHTS_DEFAULT if weights else CLASSICAL_DEFAULT


def weights_engine(current: str) -> EngineInfo:
    """The engine weights chosen now are for: ``current`` when it takes weights, else the
    default engine for weights (choosing weights with a classical engine picked switches)."""
    info = _ENGINES.get(current)
    if info is not None and info.takes_weights:
        return info
    return engine_info(WEIGHTS_DEFAULT)


def create_engine(
    name: str,
    weights: WeightsPath | None = None,
    device: str = "auto",
    *,
    language_form: LanguageForm | str | None = None,
    **options: object,
) -> TrackerEngine:
    """Build a fresh engine by name.

    ``weights`` is ignored by engines that take none (the OpenCV trackers), so callers can pass
    the configured weights whatever engine the user picked. ``options`` are engine-specific
    keyword arguments; unknown ones are reported as an error, not silently dropped.
    ``language_form`` (``"sentence"`` or ``"attributes"``) sets which language a
    :class:`~costcore.language.LanguageInput` gives the engine; None keeps its default.
    """
    form = None
    if language_form is not None:
        try:
            form = LanguageForm.parse(language_form)
        except ValueError as error:
            raise EngineError(f"engine '{name}': {error}") from None
    info = engine_info(name)
    if info.needs_weights and not weights:
        raise EngineError(f"engine '{name}' needs weights ({info.weights_hint})")
    factory = info.load_factory()
    kwargs: dict[str, object] = {"device": device, **options}
    if info.takes_weights:
        kwargs["weights"] = weights
    try:
        inspect.signature(factory).bind(**kwargs)
    except TypeError as error:
        raise EngineError(f"engine '{name}': {error}") from None
    except ValueError:  # a builtin without a signature: let the call itself decide
        pass
    engine = factory(**kwargs)
    if form is not None:
        engine.language_form = form
    return engine


register_engine(
    "cost",
    "costcore.engines.cost:create_cost_engine",
    "COST vision-language tracker (a COST checkpoint folder, or a TransT .pth: visual only)",
    needs_weights=True,
    weights_files="TransT checkpoints (*.pth *.pt)",
    weights_folder=True,
    gives_score=True,
    gives_score_map=True,
    label="COST",
)
register_engine(
    "transt",
    "costcore.engines.cost:create_transt_engine",
    "TransT, COST's visual branch without language (a TransT .pth or COST checkpoint)",
    needs_weights=True,
    weights_files="TransT checkpoints (*.pth *.pt)",
    weights_folder=True,
    gives_score=True,
    gives_score_map=True,
    label="TransT",
)
register_engine(
    "allinone",
    "costcore.engines.allinone:create_allinone_engine",
    "All-in-One vision-language tracker (ViT, language token; the authors' .pth.tar or a folder)",
    needs_weights=True,
    weights_hint="All-in-One's checkpoint file, or a folder with it and config.json",
    weights_files="All-in-One checkpoints (*.pth.tar *.pth *.tar *.pt)",
    weights_folder=True,
    gives_score=True,
    gives_score_map=True,
    label="All-in-One",
)
register_engine(
    "vlt_tt",
    "costcore.engines.vlt_tt:create_vlt_tt_engine",
    "VLT_TT vision-language tracker (ModaMixer, TransT fusion; the authors' .pth or a folder)",
    needs_weights=True,
    weights_hint="VLT_TT's checkpoint file, or a folder with it, config.json and bert/",
    weights_files="VLT_TT checkpoints (*.pth *.pth.tar *.pt)",
    weights_folder=True,
    gives_score=True,
    gives_score_map=True,
    label="VLT_TT",
)
register_engine(
    "uvltrack",
    "costcore.engines.uvltrack:create_uvltrack_engine",
    "UVLTrack vision-language tracker (box, sentence or both; finds the target from a sentence)",
    needs_weights=True,
    weights_hint="UVLTrack's checkpoint file, or a folder with it, config.json and bert/",
    weights_files="UVLTrack checkpoints (*.pth.tar *.pth *.tar *.pt)",
    weights_folder=True,
    gives_score=True,
    gives_score_map=True,
    label="UVLTrack",
    can_ground=True,
)
register_engine(
    "nanotrack",
    "costcore.engines.nanotrack:create_nanotrack_engine",
    "NanoTrack V1-V3 (MobileNetV3, real-time on the CPU, score map; the authors' .pth)",
    takes_weights=True,
    weights_hint="a NanoTrack .pth (e.g. nanotrackv3.pth), or a folder with one and config.json",
    weights_files="NanoTrack weights (*.pth)",
    weights_folder=True,
    gives_score=True,
    gives_score_map=True,
    label="NanoTrack",
)
register_engine(
    "hybrid",
    "costcore.engines.hybrid:create_hybrid_engine",
    "NanoTrack keeps the target, CSRT fits its box (restarted on NanoTrack's box when they "
    "disagree; the NanoTrack .pth)",
    needs_weights=True,
    weights_hint="a NanoTrack .pth (e.g. nanotrackv2.pth), or a folder with one and config.json",
    weights_files="NanoTrack weights (*.pth)",
    weights_folder=True,
    gives_score=True,
    gives_score_map=True,
    label="NanoTrack+CSRT",
)
register_engine(
    "csrt",
    "costcore.engines.opencv_engine:create_csrt_engine",
    "OpenCV CSRT correlation-filter tracker (CPU, no weights; accurate, slower)",
)
register_engine(
    "kcf",
    "costcore.engines.opencv_engine:create_kcf_engine",
    "OpenCV KCF kernelized correlation-filter tracker (CPU, no weights; fast, fixed size)",
)
