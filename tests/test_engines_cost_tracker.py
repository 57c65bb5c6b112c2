"""The online COST/TransT tracker end to end: tiny random models, a scripted head, TransT's
window and clipping rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from costcore.boxes import Box
from costcore.crops.pysot import pysot_crop
from costcore.crops.transt import crop_side
from costcore.engines.base import TrackerEngine, TrackResult
from costcore.engines.cost import COSTTracker, COSTTrackerParams
from costcore.engines.cost.postprocess import choose_candidate, clip_state, hann_window
from costcore.model import COSTModel
from costcore.model.cost import TemplateState
from costcore.model.testing import tiny_config, tiny_model


def _frame(seed: int, height: int = 240, width: int = 360) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def cost_model(tmp_path_factory) -> COSTModel:
    return tiny_model(tmp_path_factory.mktemp("vocab"), seed=1)


@pytest.mark.parametrize("visual_only", [False, True])
def test_tracks_with_valid_results(tmp_path, cost_model, visual_only: bool) -> None:
    model = tiny_model(tmp_path, visual_only=True) if visual_only else cost_model
    tracker = COSTTracker(model, device="cpu")
    assert isinstance(tracker, TrackerEngine) and tracker.yields_score_map
    assert tracker.name == ("transt" if visual_only else "cost")
    assert tracker.describe() == f"{tracker.name} (cpu)"
    tracker.initialize(_frame(0), Box(300, 200, 30, 20), "a small red car on the road")
    previous = Box(300, 200, 30, 20)
    for index in range(1, 5):
        result = tracker.track(_frame(index))
        assert isinstance(result, TrackResult) and result.engine == tracker.name
        box = result.box
        assert box.is_valid()
        cx, cy = box.center  # TransT keeps the centre inside (the box itself may leave)
        assert 0 <= cx <= 360 and 0 <= cy <= 240 and box.w <= 360 and box.h <= 240
        side = model.score_map_size
        assert result.score_map.shape == (side, side) and result.score_map.dtype == np.float32
        assert ((result.score_map >= 0) & (result.score_map <= 1)).all()
        assert 0.0 <= result.score <= 1.0 and result.score in result.score_map
        region = result.search_region
        assert region.w == region.h and region.w >= max(previous.w, previous.h)
        cx, cy = previous.center
        assert region.x <= cx <= region.x + region.w and region.y <= cy <= region.y + region.h
        for stage in ("crop", "visual", "fusion", "prediction", "total"):
            assert result.timings_ms[stage] >= 0.0
        once = {"template", "language"} if not visual_only else {"template"}
        assert once <= set(result.timings_ms) if index == 1 else not once & set(result.timings_ms)
        previous = box


def test_language_and_template_are_computed_once(cost_model, monkeypatch) -> None:
    calls = {"language": 0, "template": 0}
    real_language, real_template = cost_model.encode_language, cost_model.encode_template

    def count_language(texts):
        calls["language"] += 1
        return real_language(texts)

    def count_template(image):
        calls["template"] += 1
        return real_template(image)

    monkeypatch.setattr(cost_model, "encode_language", count_language)
    monkeypatch.setattr(cost_model, "encode_template", count_template)
    tracker = COSTTracker(cost_model, device="cpu")
    tracker.initialize(_frame(0), Box(100, 80, 40, 30), "the white boat")
    for index in range(3):
        tracker.step(_frame(index))
    assert calls == {"language": 1, "template": 1}


class ScriptedModel(torch.nn.Module):
    """Stands in for COSTModel: every token predicts the same normalised box."""

    def __init__(self, config, head_box: tuple[float, float, float, float]) -> None:
        super().__init__()
        self.config = config
        self.visual_only = True
        self.score_map_size = 4
        self.head_box = head_box
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def encode_template(self, template):
        return TemplateState(template, template)

    def encode_language(self, texts):
        return None

    def visual(self, search, template):
        return torch.zeros(1, 16, 2)

    def fuse(self, tokens, language):
        return tokens

    def predict(self, tokens):
        logits = torch.zeros(1, 16, 2)
        logits[0, 5, 0] = 3.0  # one confident candidate
        return logits, torch.tensor(self.head_box).expand(1, 16, 4)


def test_box_stays_put_when_the_head_points_at_the_centre(tmp_path) -> None:
    config = tiny_config(visual_only=True)
    start = Box(150.25, 100.5, 30.0, 20.0)
    side = 100  # crop_side(30, 20, 4)
    model = ScriptedModel(config, (0.5, 0.5, 30.0 / side, 20.0 / side))
    tracker = COSTTracker(model, device="cpu")
    tracker.initialize(_frame(0), start, "")
    for index in range(3):
        result = tracker.track(_frame(index))
        assert result.box == pytest.approx(start, abs=1e-4)
        # the whole pixels cut: from floor(165.25 - 50.5 + 0.5), floor(110.5 - 50.5 + 0.5)
        assert result.search_region == Box(115.0, 60.0, 100.0, 100.0)
        assert result.score == pytest.approx(float(torch.softmax(torch.tensor([3.0, 0.0]), 0)[0]))


def test_known_offset_moves_the_box_and_keeps_the_centre_in_the_image() -> None:
    config = tiny_config(visual_only=True)
    start = Box(300, 200, 30, 20)  # side 100: 0.1 of the crop is 10 frame pixels
    model = ScriptedModel(config, (0.6, 0.55, 0.3, 0.2))
    tracker = COSTTracker(model, device="cpu")
    tracker.initialize(_frame(0), start, "")
    result = tracker.track(_frame(1))
    assert result.box == pytest.approx(Box(310, 205, 30, 20), abs=1e-4)
    # keep moving right and down: the centre stops at the image corner, the box is not
    # clipped (TransT reports it past the border; views and exports clip)
    for index in range(2, 8):
        result = tracker.track(_frame(index))
    assert result.box == pytest.approx(Box(345, 230, 30, 20), abs=1e-4)
    assert result.box.x + result.box.w > 360 and result.box.y + result.box.h > 240
    cx, cy, _, _ = tracker._state
    assert cx == 360 and cy == 240


def test_the_annotation_gets_the_part_of_the_box_inside_the_image() -> None:
    """The engine's box crosses the corner; the assist jobs, where engine boxes become
    annotation values (shown, exported), clip it."""
    from costcore.assist.jobs import EngineRunner
    from costcore.assist.updates import Anchor

    class Frames:
        frame_count = 8

        def frame(self, index: int) -> np.ndarray:
            return _frame(index)

    model = ScriptedModel(tiny_config(visual_only=True), (0.6, 0.55, 0.3, 0.2))
    runner = EngineRunner(lambda: COSTTracker(model, device="cpu"), Frames())
    updates = list(runner.run(Anchor(0, Box(300, 200, 30, 20)), stop=8))
    assert updates[0].box == pytest.approx(Box(310, 205, 30, 20), abs=1e-4)
    assert updates[-1].box == pytest.approx(Box(345, 230, 15, 10), abs=1e-4)


def test_crops_are_transt_s_whole_pixel_cut() -> None:
    """The network sees exactly the pixels TransT's get_subwindow cuts (see crops.pysot)."""
    seen: list[torch.Tensor] = []

    class Recording(ScriptedModel):
        def encode_template(self, template):
            seen.append(template)
            return super().encode_template(template)

        def visual(self, search, template):
            seen.append(search)
            return super().visual(search, template)

    config = tiny_config(visual_only=True)  # template 64 px, search 128 px
    frame = _frame(3)
    tracker = COSTTracker(Recording(config, (0.5, 0.5, 0.2, 0.2)), device="cpu")
    start = Box(10.3, 20.6, 30.0, 20.0)  # near the top-left corner: padding on two sides
    tracker.initialize(frame, start, "")
    tracker.track(frame)
    fill = frame.mean(axis=(0, 1))
    for tensor, factor, size in zip(seen, (2.0, 4.0), (64, 128), strict=True):
        side = crop_side(30.0, 20.0, factor)
        expected, _ = pysot_crop(frame, start.center, size, side, fill)
        pixels = (tensor[0].permute(1, 2, 0) * 255).round().byte().numpy()
        assert np.array_equal(pixels, expected)
    padding = seen[1][0, :, 0, 0] * 255  # a padded corner: the mean colour, truncated
    assert padding.round().tolist() == np.floor(fill).tolist()


def test_from_weights_builds_a_tracker(tmp_path, cost_model) -> None:
    from costcore.model import save_checkpoint

    folder = save_checkpoint(cost_model, tmp_path / "checkpoint")
    tracker = COSTTracker.from_weights(folder, device="cpu")
    assert tracker.name == "cost" and tracker.device == "cpu"
    tracker.initialize(_frame(0), Box(100, 80, 40, 30), "a red car")
    assert tracker.track(_frame(1)).box.is_valid()


def test_usage_errors(cost_model) -> None:
    tracker = COSTTracker(cost_model, device="cpu")
    with pytest.raises(RuntimeError):
        tracker.track(_frame(0))
    with pytest.raises(ValueError):
        tracker.initialize(_frame(0), Box(10, 10, 0, 5), "x")
    with pytest.raises(ValueError):
        tracker.initialize(_frame(0).astype(np.float32), Box(10, 10, 5, 5), "x")
    with pytest.raises(ValueError):
        tracker.initialize(_frame(0)[:, :, 0], Box(10, 10, 5, 5), "x")
    with pytest.raises(ValueError):
        COSTTrackerParams(autocast="int8")
    with pytest.raises(ValueError, match="template_size .128. must be the network's .64."):
        COSTTracker(cost_model, device="cpu", params=COSTTrackerParams())  # TransT's sizes


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA path")
def test_cuda_request_without_cuda_is_an_error(cost_model) -> None:
    with pytest.raises(ValueError, match="CUDA"):
        COSTTracker(cost_model, device="cuda")
    assert COSTTracker(cost_model, device="auto").device == "cpu"


def test_bf16_autocast_runs(cost_model) -> None:
    params = COSTTrackerParams.for_model(cost_model.config, autocast="bf16")
    tracker = COSTTracker(cost_model, device="cpu", params=params)
    tracker.initialize(_frame(0), Box(100, 80, 40, 30), "a blue truck")
    result = tracker.track(_frame(1))
    assert result.box.is_valid() and result.score_map.dtype == np.float32
    assert tracker.describe() == "cost (cpu, bf16)"


def test_real_sequence_frames(crossing, cost_model) -> None:
    """Real RGB frames from ../shared (skipped when absent): the pipeline runs on them."""
    import cv2

    images = sorted((crossing / "img").iterdir())[:4]
    frames = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in images]
    first = (crossing / "groundtruth_rect.txt").read_text().split("\n")[0]
    box = Box(*[float(v) for v in first.replace("\t", ",").split(",")])
    tracker = COSTTracker(cost_model, device="cpu")
    tracker.initialize(frames[0], box, "a person crossing the road")
    for frame in frames[1:]:
        result = tracker.track(frame)
        height, width = frame.shape[:2]
        assert result.box.is_valid() and 0 <= result.box.center[0] <= width


def test_hann_window_and_choice() -> None:
    window = hann_window(4)
    assert window.shape == (16,) and window.dtype == np.float64  # as TransT's
    assert np.allclose(window.reshape(4, 4), np.outer(np.hanning(4), np.hanning(4)))
    flat = np.zeros(25, np.float32)
    flat[0] = 0.9  # a corner peak loses against the window centre at influence 0.49
    assert choose_candidate(flat, 0.49) == 12
    assert choose_candidate(flat, 0.0) == 0
    with pytest.raises(ValueError):
        choose_candidate(np.zeros(10), 0.49)


def test_clip_state_is_transt_s_bbox_clip() -> None:
    assert clip_state(-5.0, 50.0, 3.0, 500.0, 200, 100) == (0.0, 50.0, 10.0, 100.0)
    assert clip_state(250.0, 120.0, 40.0, 30.0, 200, 100) == (200.0, 100.0, 40.0, 30.0)
