"""Which tracking engines exist, and how to build one by name.

Engines register a factory under a short name with a one-line description. Factories may be
given as ``"module:attribute"`` strings, resolved only when the engine is created, so importing
this module (and listing engines in the app's menu) imports neither torch nor OpenCV's trackers:
the app starts fast and a missing optional dependency only matters for the engine that needs it.
A new tracker (LiteTrack, ...) is one new module plus one ``register_engine`` call below, as
All-in-One, VLT_TT and UVLTrack are; the app's engine picker and the CLI list from here.

Which engine runs when none is named (:func:`default_engine_name`) and whether an engine can
run now (:func:`engine_readiness`) are answered here too, from the weights catalogue and the
per-user cache (:mod:`costcore.weights`, standard library only) by file sizes and stamps: no
weights file is read, torch is not imported, so the app can ask at start-up for every engine.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from costcore.engines.base import TrackerEngine
from costcore.engines.errors import EngineError
from costcore.language import LanguageForm
from costcore.weights import (
    WeightsStatus,
    catalogue_entries,
    entries_for_engine,
    entry_status,
    first_installed,
    install_hint,
)

EngineFactory = Callable[..., TrackerEngine]
WeightsPath = str | PathLike[str]

#: the engine used when no weights are configured: embedded in OpenCV, needs nothing else
CLASSICAL_DEFAULT = "csrt"
#: the engine used when weights are configured (and they are not an installable engine's)
WEIGHTS_DEFAULT = "cost"
#: the engine used when its weights are installed in the cache and no other weights are
#: configured: real-time on any CPU, with a score and a score map
CACHED_DEFAULT = "nanotrack"


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
    #: the engine whose catalogued weights this one runs on ("" = its own): the hybrid loads
    #: NanoTrack's, so NanoTrack's installs make it ready and its downloads are offered for it
    weights_of: str = ""

    @property
    def display_name(self) -> str:
        """The name as menus and messages show it."""
        return self.label or self.name.upper()

    @property
    def weights_entries(self) -> tuple[str, ...]:
        """Names of the weights catalogue's entries for this engine, the preferred first: what
        ``costcore.weights.download_entry`` can fetch for it (empty: nothing to download)."""
        return tuple(entry.name for entry in entries_for_engine(self.weights_source))

    @property
    def weights_source(self) -> str:
        """The engine whose weights catalogue entries this one loads (see ``weights_of``)."""
        return self.weights_of or self.name

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
    weights_of: str = "",
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
        weights_of=weights_of,
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
    """The engine to use when none is named.

    With ``weights`` configured: the engine whose published weights they are
    (:func:`catalogued_engine`, e.g. ``nanotrackv3.pth`` -> ``"nanotrack"``), else ``"cost"``.
    Without: ``"nanotrack"`` when NanoTrack weights are installed in the per-user cache, else
    the embedded ``"csrt"``. Cheap: file names, sizes and stamps only (no hashing, no torch).
    """
    if weights:
        return catalogued_engine(weights) or WEIGHTS_DEFAULT
    if first_installed(CACHED_DEFAULT, quick=True) is not None:
        return CACHED_DEFAULT
    return CLASSICAL_DEFAULT


def catalogued_engine(weights: WeightsPath) -> str | None:
    """The registered engine whose catalogued weights ``weights`` are, or None.

    A file counts when it has the published size of one of the engine's catalogue files (so
    a browser's ``nanotrackv3 (1).pth`` does) or its name starts with the engine's name (a
    ``nanotrack_finetuned.pth``); a folder when one of its files does. Nothing is read.
    """
    path = Path(weights)
    try:
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    except OSError:
        return None
    for entry in catalogue_entries():
        if entry.engine not in _ENGINES:
            continue
        sizes = {file.size for file in entry.files}
        for file in files:
            if file.name.lower().startswith(entry.engine) and file.suffix.lower() == ".pth":
                return entry.engine
            try:
                if file.stat().st_size in sizes:
                    return entry.engine
            except OSError:
                continue
    return None


@dataclass(frozen=True)
class Readiness:
    """Whether an engine can run now, why (one line for a tooltip or the status bar), and
    which catalogue entries a Download button could fetch for it."""

    ready: bool
    reason: str
    #: catalogue entries of the engine not (completely, correctly) installed, preferred first;
    #: each a name for ``costcore.weights.download_entry``
    downloads: tuple[str, ...] = ()
    #: the weights the engine would load (given, or found in the cache); None when none
    weights: Path | None = None


def engine_readiness(name: str, weights_path: WeightsPath | None = None) -> Readiness:
    """Whether engine ``name`` can be created now with ``weights_path`` (the weights the
    caller would pass to :func:`create_engine` for it; None: none configured).

    - engines without weights (CSRT, KCF) are always ready;
    - given weights make an engine ready when the path exists (loading checks the rest);
    - without, an engine with catalogue entries is ready when one is installed in the cache
      (the preferred one is what it loads), and not ready with the download command otherwise;
    - an engine that needs weights nobody publishes (COST, ...) is not ready without them.

    Cheap (sizes and stamps, no hashing, no torch): safe to call for every engine at start-up
    and again after a download finishes. An unknown name is an :class:`EngineError`.
    """
    info = engine_info(name)
    label = info.display_name
    if not info.takes_weights:
        return Readiness(True, f"{label}: built in, needs no weights")
    entries = entries_for_engine(info.weights_source)
    statuses = [(entry, entry_status(entry, quick=True)) for entry in entries]
    downloads = tuple(e.name for e, status in statuses if status is not WeightsStatus.INSTALLED)
    if weights_path:
        path = Path(weights_path)
        if path.exists():
            return Readiness(True, f"{label}: weights {path}", downloads, path)
        return Readiness(False, f"{label}: weights not found: {path}", downloads)
    installed = first_installed(info.weights_source, quick=True)
    if installed is not None:
        entry, path = installed
        return Readiness(True, f"{label}: {entry.name} installed ({path})", downloads, path)
    if entries:
        problems = [f"{e.name} is {s.value}" for e, s in statuses if s is not WeightsStatus.MISSING]
        detail = f" ({'; '.join(problems)})" if problems else ""
        return Readiness(False, not_installed_message(name) + detail, downloads)
    if info.needs_weights:
        return Readiness(False, f"{label} needs weights: {info.weights_hint}")
    return Readiness(True, f"{label}: runs without weights")


def not_installed_message(name: str) -> str:
    """What to say when engine ``name`` has no installed weights: how to get its preferred
    catalogue entry (online, and offline from a file)."""
    info = engine_info(name)
    entries = info.weights_entries
    if not entries:
        return f"{info.display_name} needs weights: {info.weights_hint}"
    return f"{info.display_name} weights are not installed: {install_hint(entries[0])}"


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
    takes_weights=True,
    weights_of="nanotrack",
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
