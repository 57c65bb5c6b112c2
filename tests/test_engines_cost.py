"""The COST engine adapter on tiny checkpoints the test saves itself (CPU, no download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from costcore.boxes import Box  # noqa: E402
from costcore.engines import EngineError, WeightsError, create_engine  # noqa: E402
from costcore.model import save_checkpoint  # noqa: E402
from costcore.model.testing import tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def cost_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cost")
    return save_checkpoint(tiny_model(root / "vocab"), root / "tiny-cost")


@pytest.fixture(scope="module")
def transt_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("transt")
    return save_checkpoint(tiny_model(root / "vocab", visual_only=True), root / "tiny-transt")


def _frames(count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return [np.roll(base, 2 * i, axis=1) for i in range(count)]


def test_cost_checkpoint_tracks(cost_checkpoint: Path) -> None:
    engine = create_engine("cost", weights=cost_checkpoint, device="cpu")
    assert engine.name == "cost" and engine.yields_score_map and engine.device == "cpu"
    assert engine.describe().startswith("cost (cpu)") and "tiny-cost" in engine.describe()
    frames = _frames()
    engine.initialize(frames[0], Box(60, 40, 20, 16), "a small red car")
    for frame in frames[1:]:
        result = engine.step(frame)
        assert result.engine == "cost"
        assert 0.0 <= result.score <= 1.0
        assert result.score_map is not None and result.score_map.dtype == np.float32
        assert result.score_map.ndim == 2 and result.search_region is not None
        assert np.all(np.isfinite(result.box)) and result.box.w > 0 and result.box.h > 0
        assert "total" in result.timings_ms


def test_visual_only_checkpoint_is_transt(transt_checkpoint: Path, cost_checkpoint: Path) -> None:
    for name in ("cost", "transt"):
        engine = create_engine(name, weights=transt_checkpoint, device="cpu")
        assert engine.name == "transt" and engine.yields_score_map
        frames = _frames(2)
        engine.initialize(frames[0], Box(60, 40, 20, 16), "ignored")
        assert engine.step(frames[1]).engine == "transt"
    with pytest.raises(EngineError, match="use engine 'cost'"):
        create_engine("transt", weights=cost_checkpoint, device="cpu")


def test_unreadable_weights_name_the_file(tmp_path: Path, cost_checkpoint: Path) -> None:
    corrupt = tmp_path / "transt.pth"
    corrupt.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(WeightsError, match="transt.pth"):
        create_engine("cost", weights=corrupt, device="cpu")

    broken = tmp_path / "broken-checkpoint"
    broken.mkdir()
    (broken / "config.json").write_text((cost_checkpoint / "config.json").read_text())
    with pytest.raises(WeightsError) as error:
        create_engine("cost", weights=broken, device="cpu")
    assert "broken-checkpoint" in str(error.value)


def test_bad_use_is_an_engine_error(cost_checkpoint: Path) -> None:
    engine = create_engine("cost", weights=cost_checkpoint, device="cpu")
    with pytest.raises(EngineError, match="initialize"):
        engine.step(_frames(1)[0])
    with pytest.raises(EngineError):
        engine.initialize(_frames(1)[0], Box(10, 10, 0, 0), "")
    with pytest.raises(EngineError, match="autocast"):
        create_engine("cost", weights=cost_checkpoint, device="cpu", autocast="int4")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_request_without_cuda_is_clear(cost_checkpoint: Path) -> None:
    with pytest.raises(EngineError, match="CUDA"):
        create_engine("cost", weights=cost_checkpoint, device="cuda")


def test_track_cli_with_cost_checkpoint(
    cost_checkpoint: Path,
    airplane_1: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from costcore.engines.cost import COSTTracker
    from tests.test_cli_track import run_track

    texts: list[str] = []
    original = COSTTracker.initialize

    def spy(self, frame, box, text=""):  # noqa: ANN001, ANN202
        texts.append(text)
        return original(self, frame, box, text)

    monkeypatch.setattr(COSTTracker, "initialize", spy)
    out = tmp_path / "airplane-1.txt"
    args = ["--sequence", str(airplane_1), "--weights", str(cost_checkpoint)]
    assert run_track(*args, "--device", "cpu", "--out", str(out), "--max-frames", "4") == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == "367.000,101.000,41.000,16.000"
    assert texts == ["white airplane landing on ground"]
    assert "cost (cpu)" in capsys.readouterr().out
