"""The engine registry: names, defaults, lazy imports and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from costcore.boxes import Box
from costcore.engines import (
    EngineError,
    TrackerEngine,
    TrackResult,
    WeightsError,
    available_engines,
    create_engine,
    default_engine_name,
    engine_info,
    grounding_engines,
    register_engine,
    registry,
)


def test_builtin_engines_are_listed_with_descriptions() -> None:
    engines = available_engines()
    assert {"cost", "transt", "csrt", "kcf"} <= set(engines)
    assert all(isinstance(d, str) and d and "\n" not in d for d in engines.values())
    assert engine_info("cost").needs_weights and not engine_info("csrt").takes_weights


def test_unknown_engine_lists_the_available_ones() -> None:
    with pytest.raises(EngineError) as error:
        create_engine("siamfc")
    message = str(error.value)
    assert "siamfc" in message
    for name in ("cost", "csrt", "kcf"):
        assert name in message


def test_default_engine_depends_on_weights() -> None:
    assert default_engine_name(None) == "csrt"
    assert default_engine_name("") == "csrt"
    assert default_engine_name("checkpoints/cost") == "cost"
    assert default_engine_name(Path("transt.pth")) == "cost"


def test_cost_engine_without_weights_says_it_needs_them() -> None:
    with pytest.raises(EngineError, match="needs weights"):
        create_engine("cost")


@pytest.mark.parametrize("name", ["cost", "transt"])
def test_missing_weights_error_names_the_path(tmp_path: Path, name: str) -> None:
    missing = tmp_path / "nowhere" / "transt.pth"
    with pytest.raises(WeightsError) as error:
        create_engine(name, weights=missing)
    assert str(missing) in str(error.value)
    assert error.value.path == missing


def test_classical_engines_ignore_weights_and_reject_unknown_options() -> None:
    engine = create_engine("csrt", weights="some/checkpoint", device="cpu")
    assert engine.name == "csrt" and engine.device == "cpu"
    with pytest.raises(EngineError, match="csrt"):
        create_engine("csrt", threshold=0.3)


def test_importing_the_registry_imports_neither_torch_nor_cv2() -> None:
    code = (
        "import sys, costcore.engines as e; e.available_engines(); "
        "print('torch' in sys.modules, 'cv2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


class _StillEngine(TrackerEngine):
    """A plug-in for the test: reports the initial box forever."""

    name = "still"

    def __init__(self, device: str = "auto", jitter: float = 0.0) -> None:
        self.jitter = jitter

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        self.box = Box(*box)

    def step(self, frame: np.ndarray) -> TrackResult:
        return TrackResult(self.box, 1.0, self.name)


def test_plugins_register_by_callable_or_lazy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))
    register_engine("still", _StillEngine, "a test engine that never moves")
    assert available_engines()["still"] == "a test engine that never moves"
    engine = create_engine("still", jitter=0.5)
    assert isinstance(engine, _StillEngine) and engine.jitter == 0.5
    with pytest.raises(ValueError, match="already registered"):
        register_engine("still", _StillEngine, "again")
    register_engine("broken", "costcore.no_such_module:factory", "cannot import")
    with pytest.raises(EngineError, match="broken"):
        create_engine("broken")
    with pytest.raises(ValueError):
        register_engine("Bad Name", _StillEngine, "x")


def test_which_engines_can_find_the_target_from_a_sentence() -> None:
    """Visible from the registry alone, so the app can enable "Find the target" cheaply."""
    assert engine_info("uvltrack").can_ground and "uvltrack" in grounding_engines()
    for name in ("cost", "csrt", "kcf", "allinone", "vlt_tt"):
        assert not engine_info(name).can_ground and name not in grounding_engines()
    code = (
        "import sys, costcore.engines as e; print(e.engine_info('uvltrack').can_ground, "
        "e.grounding_engines(), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "['uvltrack']", "False"]
    assert not create_engine("csrt").can_ground


def test_plugins_declare_grounding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))
    register_engine("finder", _StillEngine, "a test engine", can_ground=True)
    assert engine_info("finder").can_ground and "finder" in grounding_engines()


@pytest.mark.parametrize("name", ["csrt", "kcf"])
def test_what_the_registry_says_of_an_engine_is_what_it_does(name: str) -> None:
    """The app builds its weights chooser, score plot note and confidence-map note from these."""
    info = engine_info(name)
    engine = create_engine(name, device="cpu")
    frame = np.zeros((60, 80, 3), np.uint8)
    frame[20:30, 30:45] = 255
    engine.initialize(frame, Box(30, 20, 15, 10))
    result = engine.step(frame)
    assert engine.yields_score_map == info.gives_score_map
    assert (result.score is not None) == info.gives_score
    assert not info.takes_weights and not info.weights_files and not info.weights_folder


def test_cost_weights_and_maps_are_described_by_the_registry(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from costcore.model import save_checkpoint
    from costcore.model.testing import tiny_model

    weights = save_checkpoint(tiny_model(tmp_path / "vocab"), tmp_path / "tiny-cost")
    info = engine_info("cost")
    engine = create_engine("cost", weights, device="cpu")
    assert engine.yields_score_map == info.gives_score_map
    assert info.weights_folder and weights.is_dir()  # a COST checkpoint is a folder
    assert "*.pth" in info.weights_files  # ... or a TransT file
    assert info.display_name == "COST"


def test_weights_chosen_for_an_engine_without_weights_go_to_the_default() -> None:
    assert registry.weights_engine("allinone").name == "allinone"
    assert registry.weights_engine("csrt").name == registry.WEIGHTS_DEFAULT
    assert registry.weights_engine("interpolation").name == registry.WEIGHTS_DEFAULT
