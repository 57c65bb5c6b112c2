"""NanoTrack's network equals the authors' own ONNX export of the same weights, run by OpenCV.

The authors published, beside each ``.pth``, the ONNX files of its backbone and head
(``models/nanotrackv2/*_sim.onnx`` are the ones OpenCV's TrackerNano loads;
``models/nanotrackv3/*.onnx``). Those are an independent record of their network: exported
by their ``pytorch2onnx.py`` from their modules. We run them with ``cv2.dnn.readNet`` on real
crops (template from frame 1 of Crossing, search regions from later frames, cut as the
authors' tracker cuts them) and compare with our torch network on the ``.pth``:

- backbone features and class logits to 1e-4 (absolute);
- the box distances (``exp`` of the last layer, 10-80 px) to 1e-4 relative: 1e-4 px per px,
  the float32 rounding of a different summation order (measured: at most 1.5e-5 relative,
  1.1e-4 px absolute on 77 px);
- both our plain network and the rearranged one the tracker runs (BatchNorm folded, the
  template side precomputed, RGB input folded into the stem, TorchScript).

Measured on this machine: V2 features 5.4e-5, logits 6.4e-6, distances 1.0e-4 px; V3
features 2.6e-5, logits 4.8e-6, distances 9.9e-5 px. V1 (not in ../shared) was checked the
same way against the authors' V1 ONNX files once, outside the tests (distances 1.4e-4 px);
here it is built from a synthetic state dict in the authors' key layout.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")

from costcore.crops.pysot import pysot_crop  # noqa: E402
from costcore.engines import create_engine  # noqa: E402
from costcore.engines.errors import CheckpointError, EngineError, WeightsError  # noqa: E402
from costcore.engines.nanotrack import detect_version, load_nanotrack  # noqa: E402
from costcore.engines.nanotrack.config import NanoTrackConfig  # noqa: E402
from costcore.engines.nanotrack.crop import (  # noqa: E402
    SquareWindow,
    authors_fill,
    authors_window,
    cut_square,
    opencv_window,
)
from costcore.engines.nanotrack.inference import PreparedNanoTrack  # noqa: E402
from costcore.engines.nanotrack.network import NanoTrackNet  # noqa: E402
from costcore.errors import FormatError  # noqa: E402
from tests.nanotrack_helpers import FIXTURES, real_frames, released_file  # noqa: E402

ABSOLUTE = 1e-4
RELATIVE = 1e-4


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: fast and steady on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def context_side(box, scale: float = 1.0) -> int:
    w, h = box[2], box[3]
    pad = 0.5 * (w + h)
    return round(float(np.sqrt((w + pad) * (h + pad))) * scale)


def real_crops(count: int = 2) -> tuple[np.ndarray, list[np.ndarray]]:
    """RGB template (127) from frame 1 and ``count`` search crops (255) of Crossing."""
    frames, boxes = real_frames("Crossing", 120)
    fill = authors_fill(frames[0])
    box = boxes[0]
    template = cut_square(frames[0], authors_window(box.center, context_side(box)), 127, fill)
    searches = []
    for index in np.linspace(10, 110, count).astype(int):
        box = boxes[index]
        window = authors_window(box.center, context_side(box, 255 / 127))
        searches.append(cut_square(frames[index], window, 255, fill))
    return template, searches


def as_blob(rgb_patch: np.ndarray) -> np.ndarray:
    """What the authors' network takes: BGR, float 0..255, (1, 3, H, W)."""
    return np.ascontiguousarray(rgb_patch[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32)


def loaded(version: int) -> NanoTrackNet:
    network, config, _ = load_nanotrack(released_file(version))
    assert network.version == config.version == version
    return network


def onnx_outputs(version: int, template: np.ndarray, search: np.ndarray):
    backbone = cv2.dnn.readNet(str(released_file(version, 1)))
    head = cv2.dnn.readNet(str(released_file(version, 2)))
    backbone.setInput(template)
    z = backbone.forward().copy()
    backbone.setInput(search)
    x = backbone.forward().copy()
    head.setInput(z, "input1")
    head.setInput(x, "input2")
    logits, distances = head.forward(["output1", "output2"])
    return z, x, logits.copy(), distances.copy()


def assert_head_close(logits, distances, expected_logits, expected_distances) -> None:
    logits, distances = np.asarray(logits), np.asarray(distances)
    assert logits.shape == expected_logits.shape and distances.shape == expected_distances.shape
    assert np.abs(logits - expected_logits).max() <= ABSOLUTE
    relative = np.abs(distances - expected_distances) / np.abs(expected_distances)
    assert relative.max() <= RELATIVE, f"distances off by {relative.max():.2e} relative"


@pytest.mark.parametrize(("version", "side"), [(2, 16), (3, 15)])
def test_network_equals_the_authors_onnx_export(version: int, side: int) -> None:
    network = loaded(version)
    template, searches = real_crops()
    prepared = PreparedNanoTrack(network, rgb_input=True)
    prepared.set_template(
        torch.from_numpy(np.ascontiguousarray(template)).permute(2, 0, 1)[None].float()
    )
    z_blob = as_blob(template)
    for search in searches:
        x_blob = as_blob(search)
        z, x, logits, distances = onnx_outputs(version, z_blob, x_blob)
        assert logits.shape == (1, 2, side, side) and distances.shape == (1, 4, side, side)
        with torch.inference_mode():
            our_z = network.backbone(torch.from_numpy(z_blob))
            our_x = network.backbone(torch.from_numpy(x_blob))
            assert np.abs(our_z.numpy() - z).max() <= ABSOLUTE
            assert np.abs(our_x.numpy() - x).max() <= ABSOLUTE
            # the head alone, on the ONNX features, and the whole network
            assert_head_close(
                *network.ban_head(torch.from_numpy(z), torch.from_numpy(x)), logits, distances
            )
            assert_head_close(
                *network(torch.from_numpy(z_blob), torch.from_numpy(x_blob)), logits, distances
            )
            # what the tracker runs: RGB crops into the folded, template-specialised network
            rgb = torch.from_numpy(np.ascontiguousarray(search)).permute(2, 0, 1)[None].float()
            assert_head_close(*prepared(rgb), logits, distances)
            # ... and the one graph each step calls: probabilities and flat edge distances
            probabilities, flat = prepared.track(rgb.contiguous(memory_format=torch.channels_last))
            expected = np.exp(logits[0, 1]) / np.exp(logits[0]).sum(axis=0)
            assert np.abs(probabilities.numpy() - expected).max() <= ABSOLUTE
            assert_head_close(logits, flat.reshape(1, 4, side, side), logits, distances)


def test_the_tracker_runs_frozen_traces() -> None:
    """What makes the engine fast is the traced graphs; a failed trace falls back to the (same,
    slower) eager modules silently, so this says when that happens."""
    prepared = PreparedNanoTrack(loaded(2))
    assert all(isinstance(r, torch.jit.ScriptModule) for r in prepared.runners)
    assert isinstance(prepared.tracking, torch.jit.ScriptModule)
    assert not isinstance(
        PreparedNanoTrack(loaded(2), compile=False).tracking, torch.jit.ScriptModule
    )


def test_a_different_template_changes_the_output() -> None:
    """The precomputed template side is really the template's (no stale state)."""
    network = loaded(3)
    template, (search,) = real_crops(1)
    prepared = PreparedNanoTrack(network)

    def as_tensor(patch: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(patch)).permute(2, 0, 1)[None].float()

    prepared.set_template(as_tensor(template))
    with torch.inference_mode():
        first = prepared(as_tensor(search))[0].clone()
        prepared.set_template(as_tensor(np.ascontiguousarray(template[::-1])))
        second = prepared(as_tensor(search))[0]
        prepared.set_template(as_tensor(template))
        third = prepared(as_tensor(search))[0]
    assert np.abs((first - second).numpy()).max() > 0.1
    assert np.array_equal(first.numpy(), third.numpy())


# --- V1 from the authors' key layout ----------------------------------------------------------

#: NanoTrack V1's neck and head tensors as the authors' ban_v1.py / neck.py name and shape them
#: (the released nanotrackv1.pth holds exactly these plus V2's backbone layout: 231 tensors,
#: 298,510 values)
V1_HEAD_SHAPES: dict[str, tuple[int, ...]] = {
    "neck.downsample.0.weight": (64, 64, 1, 1),
    **{f"neck.downsample.1.{n}": (64,) for n in ("weight", "bias", "running_mean", "running_var")},
    "ban_head.corr_pw.CA_layer.fc1.weight": (64, 64, 1, 1),
    "ban_head.corr_pw.CA_layer.fc1.bias": (64,),
    "ban_head.corr_pw.CA_layer.fc2.weight": (64, 64, 1, 1),
    "ban_head.corr_pw.CA_layer.fc2.bias": (64,),
    "ban_head.cls_logits.0.weight": (2, 128, 1, 1),
    "ban_head.cls_logits.0.bias": (2,),
    "ban_head.bbox_pred.0.weight": (4, 96, 1, 1),
    "ban_head.bbox_pred.0.bias": (4,),
}
_V1_TOWERS = {
    "cls_tower": [(64, 128, 5), (128, 128, 5), (128, 128, 3)],
    "bbox_tower": [(64, 96, 3), (96, 96, 3), (96, 96, 5), (96, 96, 5)],
}
for _tower, _layers in _V1_TOWERS.items():
    for _i, (_cin, _cout, _k) in enumerate(_layers):
        V1_HEAD_SHAPES[f"ban_head.{_tower}.{4 * _i}.weight"] = (_cin, 1, _k, _k)
        V1_HEAD_SHAPES[f"ban_head.{_tower}.{4 * _i + 1}.weight"] = (_cout, _cin, 1, 1)
        for _n in ("weight", "bias", "running_mean", "running_var"):
            V1_HEAD_SHAPES[f"ban_head.{_tower}.{4 * _i + 2}.{_n}"] = (_cout,)


def synthetic_v1(tmp_path: Path) -> Path:
    """A V1 checkpoint as the authors save theirs: V2's (identical) backbone tensors, random
    V1 neck and head tensors, BatchNorm counters, an epoch and an optimizer entry."""
    v2, _ = _read(released_file(2))
    state = {key: value for key, value in v2.items() if key.startswith("backbone.")}
    generator = torch.Generator().manual_seed(20260101)
    for key, shape in V1_HEAD_SHAPES.items():
        if key.endswith("running_var"):
            value = 0.5 + torch.rand(shape, generator=generator)
        elif key.endswith(("running_mean", ".bias")):
            value = 0.05 * torch.randn(shape, generator=generator)
        elif len(shape) == 1:  # BatchNorm weight
            value = 1.0 + 0.1 * torch.randn(shape, generator=generator)
        else:
            fan_in = int(np.prod(shape[1:]))
            value = torch.randn(shape, generator=generator) / np.sqrt(fan_in)
        state[key] = value
        if key.endswith("running_var"):
            state[key.replace("running_var", "num_batches_tracked")] = torch.tensor(1000)
    path = tmp_path / "nanotrackv1.pth"
    torch.save({"epoch": 50, "state_dict": state, "optimizer": {"state": {}, "lr": 0.005}}, path)
    return path


def _read(path: Path):
    from costcore.engines.checkpoint_files import read_checkpoint

    return read_checkpoint(path)


def test_v1_loads_from_the_authors_key_layout_and_tracks(tmp_path: Path) -> None:
    path = synthetic_v1(tmp_path)
    state, report = _read(path)
    assert report.tensor_count == 231 and report.parameter_count == 298_510
    assert detect_version(state, path) == 1
    network, config, summary = load_nanotrack(path)
    assert network.version == config.version == 1 and "NanoTrack V1" in summary
    assert (config.window_influence, config.penalty_k, config.lr) == (0.462, 0.148, 0.390)
    assert config.output_size == 16
    # the tracker's rearranged network computes what the plain one does
    generator = torch.Generator().manual_seed(7)
    template = 255 * torch.rand((1, 3, 127, 127), generator=generator)
    search = 255 * torch.rand((1, 3, 255, 255), generator=generator)
    prepared = PreparedNanoTrack(network, rgb_input=False)
    prepared.set_template(template)
    with torch.inference_mode():
        expected = network(template, search)
        assert_head_close(*prepared(search), expected[0].numpy(), expected[1].numpy())
    # and the engine runs it end to end on real frames
    frames, boxes = real_frames("Crossing", 4)
    engine = create_engine("nanotrack", path, device="cpu")
    engine.initialize(frames[0], boxes[0])
    for frame in frames[1:]:
        result = engine.step(frame)
        assert result.score_map.shape == (16, 16) and 0.0 <= result.score <= 1.0


# --- loading: bad files, strictness, nothing executed ----------------------------------------


def test_missing_wrong_and_truncated_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "nanotrackv3.pth"
    with pytest.raises(WeightsError) as caught:
        create_engine("nanotrack", missing, device="cpu")
    assert caught.value.path == missing and str(missing) in str(caught.value)

    text = tmp_path / "notes.pth"
    text.write_text("these are not weights\n")
    with pytest.raises(CheckpointError) as caught:
        load_nanotrack(text)
    assert caught.value.path == text and isinstance(caught.value, FormatError)

    truncated = tmp_path / "nanotrackv3.pth"
    data = released_file(3).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as caught:
        load_nanotrack(truncated)
    assert caught.value.path == truncated and "not a readable checkpoint" in str(caught.value)

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="expected one NanoTrack checkpoint"):
        load_nanotrack(empty)


def test_a_checkpoint_of_another_network_is_refused_by_name(tmp_path: Path) -> None:
    other = FIXTURES.parent / "allinone" / "allinone_tiny.pth"
    with pytest.raises(CheckpointError) as caught:
        create_engine("nanotrack", other, device="cpu")
    assert caught.value.path == other
    assert "not a NanoTrack checkpoint" in str(caught.value)


def test_strict_loading_names_every_mismatch(tmp_path: Path) -> None:
    state, _ = _read(released_file(3))
    del state["ban_head.cls_logits.0.bias"]
    state["ban_head.extra.weight"] = torch.zeros(3)
    state["ban_head.down_cls.0.bias"] = torch.zeros(95)
    broken = tmp_path / "broken.pth"
    torch.save({"state_dict": state}, broken)
    with pytest.raises(CheckpointError) as caught:
        load_nanotrack(broken)
    message = str(caught.value)
    assert str(broken) in message and "V3" in message
    assert "missing tensors: ban_head.cls_logits.0.bias" in message
    assert "unexpected tensors: ban_head.extra.weight" in message
    assert "ban_head.down_cls.0.bias (95,) != (96,)" in message

    state, _ = _read(released_file(2))
    state["neck.downsample.0.weight"] = torch.zeros(96, 96, 1, 1)
    mixed = tmp_path / "mixed.pth"
    torch.save({"state_dict": state}, mixed)
    with pytest.raises(CheckpointError, match="V2 head with a 96-channel adjust layer"):
        load_nanotrack(mixed)


class WritesMarker:
    """A pickle payload that would run a shell command when unpickled by plain pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_the_released_files_load_without_executing_anything(tmp_path: Path) -> None:
    """The authors' .pth hold numpy scalars and an optimizer: read by the allow-list loader
    (torch's weights_only refuses them); a payload beside the weights stays inert."""
    released = released_file(2)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(released, map_location="cpu", weights_only=True)
    state, report = _read(released)
    assert report.loader == "allow-list" and "optimizer" in report.other_entries
    assert report.tensor_count == 298

    marker = tmp_path / "pwned"
    with_payload = tmp_path / "nanotrackv2.pth"
    torch.save({"epoch": 1, "state_dict": state, "optimizer": WritesMarker(marker)}, with_payload)
    network, _, _ = load_nanotrack(with_payload)
    assert network.version == 2 and not marker.exists()

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"state_dict": WritesMarker(marker)}))
    with pytest.raises(CheckpointError) as caught:
        load_nanotrack(evil)
    assert caught.value.path == evil and not marker.exists()


def test_a_folder_with_config_json_and_overrides(tmp_path: Path) -> None:
    folder = tmp_path / "nanotrack-v3"
    folder.mkdir()
    (folder / "nanotrackv3.pth").write_bytes(released_file(3).read_bytes())
    (folder / "config.json").write_text('{"version": 3, "window_influence": 0.4}')
    _, config, summary = load_nanotrack(folder)
    assert config.window_influence == 0.4 and config.penalty_k == 0.138
    assert summary.startswith("nanotrackv3.pth: NanoTrack V3")
    _, config, _ = load_nanotrack(folder, config={"lr": 0.3})
    assert (config.window_influence, config.lr) == (0.4, 0.3)

    (folder / "config.json").write_text('{"version": 2}')
    with pytest.raises(CheckpointError, match="the config says NanoTrack V2, the weights are V3"):
        load_nanotrack(folder)
    (folder / "config.json").write_text('{"colour": "red"}')
    with pytest.raises(CheckpointError) as caught:
        load_nanotrack(folder)
    assert caught.value.path == folder / "config.json"
    assert "field 'colour': is not a field of the NanoTrack config" in str(caught.value)
    with pytest.raises(EngineError, match="config must be a dict or a JSON file"):
        load_nanotrack(released_file(3), config=3)


# --- crops -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "window",
    [
        SquareWindow(40, 30, 120),  # inside
        SquareWindow(-50, -20, 131),  # across the top-left corner
        SquareWindow(300, 180, 90),  # across the bottom-right corner
        SquareWindow(-10, -10, 400),  # larger than the frame
        SquareWindow(500, 400, 60),  # entirely outside
        SquareWindow(100, 50, 255),  # no resize
    ],
)
def test_cut_square_equals_the_pysot_crop(window: SquareWindow) -> None:
    """Our crop copies only the window; the project's pysot reference pads the whole frame."""
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (240, 360, 3), dtype=np.uint8)
    fill = np.mean(frame, axis=(0, 1))
    side = window.side
    centre = (window.left + (side + 1) / 2 - 0.25, window.top + (side + 1) / 2 + 0.25)
    assert authors_window(centre, side) == window
    expected, crop = pysot_crop(frame, centre, 255, side, fill)
    ours = cut_square(frame, window, 255, authors_fill(frame))
    assert crop.region == window.region
    assert ours.shape == (255, 255, 3) and np.array_equal(ours, expected)


def test_a_square_too_large_to_build_is_sampled_like_the_resize(monkeypatch) -> None:
    """Beyond MAX_SQUARE_BYTES the crop samples the frame with the resize's own bilinear
    mapping: within two grey levels of the bordered square's resize, and a 50,000-pixel square
    (a 7.5 GB square once bordered) costs no more memory than its 255-pixel crop."""
    from costcore.crops import large

    rng = np.random.default_rng(5)
    frame = cv2.GaussianBlur(rng.integers(0, 256, (240, 360, 3), dtype=np.uint8), (7, 7), 2)
    fill = authors_fill(frame)
    window = SquareWindow(-200, -300, 900)
    exact = cut_square(frame, window, 255, fill)
    monkeypatch.setattr(large, "MAX_SQUARE_BYTES", 1000)
    sampled = cut_square(frame, window, 255, fill)
    difference = np.abs(sampled.astype(int) - exact.astype(int))
    assert difference.max() <= 2 and difference.mean() < 0.5
    monkeypatch.undo()
    huge = cut_square(frame, SquareWindow(-25_000, -25_000, 50_000), 255, fill)
    assert huge.shape == (255, 255, 3)
    middle = huge[127, 127].astype(int)  # the frame is a dot in the middle, the rest the fill
    assert (huge[0, 0] == fill).all() and (huge[-1, -1] == fill).all()
    assert np.abs(middle - frame[:, :].reshape(-1, 3).mean(axis=0)).max() < 60
    outside = cut_square(frame, SquareWindow(10_000, 10_000, 60_000), 127, fill)
    assert outside.shape == (127, 127, 3) and (outside == fill).all()


def test_window_placements() -> None:
    # pysot: floor(c - (side + 1) / 2 + 0.5); OpenCV: int(c) - (side + 1) // 2
    assert authors_window((100.6, 50.4), 11) == SquareWindow(95, 44, 11)
    assert opencv_window((100.6, 50.4), 11) == SquareWindow(94, 44, 11)
    assert authors_window((10.0, 10.0), 4) == SquareWindow(8, 8, 4)
    assert opencv_window((10.0, 10.0), 4) == SquareWindow(8, 8, 4)


def test_config_defaults_are_the_authors_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    from tests.nanotrack_helpers import released_config

    for version in (2, 3):
        track = yaml.safe_load(released_config(version).read_text())["TRACK"]
        config = NanoTrackConfig.for_version(version)
        assert config.window_influence == track["WINDOW_INFLUENCE"]
        assert config.penalty_k == track["PENALTY_K"]
        assert config.lr == track["LR"]
        assert config.exemplar_size == track["EXEMPLAR_SIZE"]
        assert config.instance_size == track["INSTANCE_SIZE"]
        assert config.context_amount == track["CONTEXT_AMOUNT"]
    assert NanoTrackConfig.for_version(3).output_size == 15  # configv3 OUTPUT_SIZE
    assert NanoTrackConfig.for_version(2).output_size == 16  # their default, and OpenCV's


def test_config_is_frozen_and_validated() -> None:
    config = NanoTrackConfig()
    with pytest.raises(AttributeError):
        config.lr = 0.5  # type: ignore[misc]
    for bad in ({"lr": 1.5}, {"penalty_k": -1}, {"rules": "mine"}, {"exemplar_size": 64},
                {"window_influence": "high"}, {"version": 4}):  # fmt: skip
        with pytest.raises(FormatError) as caught:
            NanoTrackConfig.from_dict(bad, "settings.json")
        assert str(caught.value).startswith("settings.json: ")
