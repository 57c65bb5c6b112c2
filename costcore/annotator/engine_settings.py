"""Which engine the annotator tracks with, and everything the app says about it.

The picker, the status bar and the "cannot start" messages all come from here and from the
engine registry, so the app names no engine. Weights are remembered per engine: a COST
checkpoint chosen once stays COST's when the annotator switches to NanoTrack and back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from costcore.assist.jobs import INTERPOLATION
from costcore.engines import EngineInfo, default_engine_name, engine_info, engine_infos
from costcore.engines.registry import Readiness, engine_readiness, weights_engine
from costcore.language import LanguageError, LanguageForm, LanguageInput

INTERPOLATION_LABEL = "Interpolation"
INTERPOLATION_DESCRIPTION = "Linear interpolation between keyframes (no tracking)"


def engine_choices() -> dict[str, tuple[str, str]]:
    """Engines for the picker, name -> (label, description): the registry's, then plain
    linear interpolation."""
    choices = {info.name: (info.display_name, info.description) for info in engine_infos()}
    choices[INTERPOLATION] = (INTERPOLATION_LABEL, INTERPOLATION_DESCRIPTION)
    return choices


@dataclass
class EngineSettings:
    """The engine choice: name ("" = the registry's default), weights per engine, device
    (``auto``, ``cpu``, ``cuda``...) and which language engines get (sentence or the four
    attribute words)."""

    engine: str = ""
    weights: dict[str, str] = field(default_factory=dict)
    device: str = "auto"
    language_form: str = LanguageForm.SENTENCE.value

    @property
    def name(self) -> str:
        """The engine runs use: the chosen one, else the registry's default for the weights
        at hand (an unknown name, e.g. from an older version's settings, counts as none)."""
        if self.engine in engine_choices():
            return self.engine
        return default_engine_name(self._any_weights())

    def _any_weights(self) -> str | None:
        return next((path for path in self.weights.values() if path), None)

    @property
    def interpolating(self) -> bool:
        return self.name == INTERPOLATION

    def info(self) -> EngineInfo | None:
        """The registry's entry of the engine in use (None: interpolation)."""
        return None if self.interpolating else engine_info(self.name)

    @property
    def label(self) -> str:
        info = self.info()
        return INTERPOLATION_LABEL if info is None else info.display_name

    def current_weights(self) -> str:
        """The weights of the engine in use ("" for none)."""
        return self.weights.get(self.name, "")

    def weights_target(self) -> EngineInfo:
        """The engine weights chosen now are for (choosing weights with a classical engine
        picked switches to the registry's engine for weights)."""
        return weights_engine(self.name)

    def set_weights(self, path: str) -> str:
        """Remember ``path`` for :meth:`weights_target` and pick that engine (forgetting them,
        ``""``, picks nothing); the target's name."""
        target = self.weights_target().name
        self.weights[target] = path
        if path:
            self.engine = target
        return target

    def readiness(self, name: str | None = None) -> Readiness:
        """Whether engine ``name`` (default: the one in use) can run with the weights chosen
        for it, or the per-user cache's; why not; what could be downloaded for it. Cheap: no
        hashing, no torch (the picker asks for every engine)."""
        name = self.name if name is None else name
        if name == INTERPOLATION:
            return Readiness(True, f"{INTERPOLATION_LABEL}: needs no engine")
        return engine_readiness(name, self.weights.get(name) or None)

    def cannot_start(self) -> str:
        """Why a run cannot start with these settings ("" when it can)."""
        info = self.info()
        if info is None:
            return ""
        readiness = self.readiness()
        if readiness.ready:
            return ""
        current = info.name
        others = _either(
            i.display_name
            for i in engine_infos()
            if i.name != current and self.readiness(i.name).ready
        )
        if readiness.downloads:
            return f"{readiness.reason} (Download in the Tracking panel, or pick {others})."
        if self.current_weights():  # chosen, but not there
            return f"{readiness.reason}: choose them again in the Tracking panel, or pick {others}."
        return (
            f"The {info.display_name} engine needs weights: choose {info.weights_hint} "
            f"in the Tracking panel, or pick an engine that is ready ({others})."
        )

    def engine_text(self, language: LanguageInput) -> str:
        """The description in the chosen form (LanguageError, with what to do, if unset)."""
        try:
            return language.text(self.language_form)
        except LanguageError as error:
            raise LanguageError(
                f"{error} Set them in the Language panel, or track with the sentence."
            ) from None

    def describe(self, running: tuple[str, str] | None = None) -> str:
        """For the status bar: "csrt · CPU". ``running`` is (engine name, device) of an engine
        already built with these settings, which knows where it really computes."""
        name = self.name
        if name == INTERPOLATION:
            return "interpolation · no engine"
        if running is not None:
            return f"{running[0]} · {running[1].upper()}"
        if not engine_info(name).takes_weights:
            return f"{name} · CPU"  # the OpenCV trackers run on the CPU whatever is asked
        return f"{name} · {self.device.upper() if self.device != 'auto' else 'auto device'}"

    def no_score_map_note(self) -> str:
        """Why a frame shows no confidence map, naming the engines that give one."""
        with_maps = ", ".join(i.display_name for i in engine_infos() if i.gives_score_map)
        info = self.info()
        if info is None or not info.gives_score_map:
            return (
                f"No confidence map for this frame: {self.label} gives none "
                f"(frames tracked by {with_maps} keep one)."
            )
        return f"No confidence map for this frame: only frames tracked by {with_maps} keep one."


def _either(names: Iterable[str]) -> str:
    """ "A", "A or B", "A, B or C"."""
    items = list(names)
    return " or ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)
