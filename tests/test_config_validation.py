"""Every config field is checked: bad values in config.json are typed errors naming the file and
the field, never a traceback from deep inside torch (issue 14, item 11).

Before these checks, each case below escaped as the exception named in its test: zero heads or
strides (ZeroDivisionError), an infinite factor (OverflowError while tracking), deep nesting
(RecursionError), a 5,000-digit integer (ValueError), a 300-character weights name (OSError),
a string for hidden_size (a transformers validation error), and huge depths or widths
(MemoryError after minutes of allocating). The fuzz tests at the end throw arbitrary JSON at
every config class and let only ConfigError escape; what a config accepts, its network builds.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from costcore.engines import EngineError, WeightsError, create_engine  # noqa: E402
from costcore.engines.allinone import AllInOneConfig  # noqa: E402
from costcore.engines.allinone.network import AllInOneNet  # noqa: E402
from costcore.engines.cost import COSTTrackerParams  # noqa: E402
from costcore.engines.errors import CheckpointError  # noqa: E402
from costcore.engines.nanotrack import NanoTrackConfig  # noqa: E402
from costcore.engines.nanotrack.network import NanoTrackNet  # noqa: E402
from costcore.engines.nanotrack.tracker import NanoTracker  # noqa: E402
from costcore.engines.vlt_tt import VLTTTConfig  # noqa: E402
from costcore.engines.vlt_tt.network import VLTTTNet  # noqa: E402
from costcore.errors import ConfigError, CostcoreError  # noqa: E402
from costcore.frozen_config import MAX_PARAMETERS, FrozenConfig  # noqa: E402
from costcore.model import COSTConfig, COSTModel, count_parameters, save_checkpoint  # noqa: E402
from costcore.model.config import TextEncoderSizes  # noqa: E402
from costcore.model.testing import tiny_config, tiny_model, write_tiny_vocab  # noqa: E402
from costcore.training.config import TrainingConfig, read_config_file  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
DEEP = "[" * 50_000 + "]" * 50_000
HUGE_INT = "9" * 5000
LONG_NAME = "w" * 300


@pytest.fixture(scope="module")
def cost_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cost")
    return save_checkpoint(tiny_model(root / "vocab"), root / "tiny-cost")


def _edited_copy(source: Path, target: Path, file: str, edit: Any) -> Path:
    """A copy of the checkpoint folder ``source`` whose ``file`` is rewritten by ``edit``
    (a dict of changes, or a callable turning the JSON text into new text)."""
    shutil.copytree(source, target)
    path = target / file
    text = path.read_text()
    if callable(edit):
        path.write_text(edit(text))
    else:
        path.write_text(json.dumps({**json.loads(text), **edit}))
    return target


def _raw(key: str, literal: str) -> Any:
    """An edit that sets ``key`` to a JSON literal json.dumps would not write."""

    def edit(text: str) -> str:
        values = json.loads(text)
        values[key] = "@@"
        return json.dumps(values).replace('"@@"', literal)

    return edit


# --- the failure modes of the issue, through the real loading paths ---------------------------

COST_CASES = {
    "zero heads": ({"nheads": 0}, "nheads", "at least 1"),
    "zero VLT heads": ({"vlt_heads": 0}, "vlt_heads", "at least 1"),
    "zero stride": ({"backbone_stride": 0}, "backbone_stride", "must be 8"),
    "infinite factor": (_raw("search_factor", "Infinity"), "search_factor", "finite"),
    "NaN dropout": (_raw("dropout", "NaN"), "dropout", "finite"),
    "deep nesting": (_raw("tokenizer", DEEP), None, "nested deeper than"),
    "5,000 digits": (_raw("hidden_dim", HUGE_INT), None, "5,000 digits"),
    "string width": ({"hidden_dim": "32"}, "hidden_dim", "must be an integer"),
    "bool for an int": ({"vlt_layers": True}, "vlt_layers", "must be an integer"),
    "indivisible heads": ({"hidden_dim": 34}, "hidden_dim", "not a multiple of nheads"),
    "string hidden_size": (
        {"text_encoder_config": {"model_type": "bert", "hidden_size": "32"}},
        "text_encoder_config.hidden_size",
        "must be an integer",
    ),
    "unknown model type": (
        {"text_encoder_config": {"model_type": "no-such-model", "num_attention_heads": 4}},
        "text_encoder_config",
        "transformers cannot build",
    ),
    "300-character name": ({"text_encoder": LONG_NAME}, "text_encoder", "300 bytes"),
    "huge depth": ({"fusion_layers": 10**6}, "fusion_layers", "at most 64"),
    "huge widths": (
        {"hidden_dim": 8192, "dim_feedforward": 65536, "fusion_layers": 64},
        None,
        "parameters; at most",
    ),
    "huge text encoder": (
        {
            "text_encoder_config": {
                "hidden_size": 8192,
                "num_hidden_layers": 128,
                "num_attention_heads": 16,
            }
        },
        None,
        "parameters; at most",
    ),
}


@pytest.mark.parametrize("case", COST_CASES)
def test_cost_checkpoint_config_errors_name_file_and_field(
    case: str, cost_checkpoint: Path, tmp_path: Path
) -> None:
    edit, field, message = COST_CASES[case]
    folder = _edited_copy(cost_checkpoint, tmp_path / "checkpoint", "config.json", edit)
    began = time.perf_counter()
    with pytest.raises(WeightsError) as caught:
        create_engine("cost", weights=folder, device="cpu")
    assert time.perf_counter() - began < 60  # refused up front, not after allocating
    error = caught.value
    assert error.path == folder / "config.json" and message in str(error), str(error)
    assert field is None or f"field {field!r}" in str(error), str(error)
    assert isinstance(error.__cause__, ConfigError)


AIO_CASES = {
    "zero heads": ({"num_heads": 0}, "num_heads", "at least 1"),
    "zero patch (stride)": ({"patch_size": 0}, "patch_size", "at least 1"),
    "infinite factor": (_raw("search_factor", "Infinity"), "search_factor", "finite"),
    "deep nesting": (_raw("ce_loc", DEEP), None, "nested deeper than"),
    "5,000 digits": (_raw("depth", HUGE_INT), None, "5,000 digits"),
    "string width": ({"embed_dim": "32"}, "embed_dim", "must be an integer"),
    "300-character weights name": ({"weights": LONG_NAME}, "weights", "300 bytes"),
    "weights outside the folder": ({"weights": "../x.pth"}, "weights", "inside the checkpoint"),
    "huge depth": ({"depth": 10**6}, "depth", "at most 128"),
    "huge widths": ({"embed_dim": 8192, "num_heads": 8, "depth": 128}, None, "parameters"),
    "class token outside the vocabulary": ({"vocab_size": 100}, "cls_token_id", "vocabulary"),
}


@pytest.mark.parametrize("case", AIO_CASES)
def test_allinone_config_errors_name_file_and_field(case: str, tmp_path: Path) -> None:
    edit, field, message = AIO_CASES[case]
    folder = _edited_copy(FIXTURES / "allinone", tmp_path / "aio", "config.json", edit)
    with pytest.raises(CheckpointError) as caught:
        create_engine("allinone", weights=folder, device="cpu")
    error = caught.value
    assert error.path == folder / "config.json" and message in str(error), str(error)
    assert field is None or f"field {field!r}" in str(error), str(error)


VLT_CASES = {
    "zero heads": ("config.json", {"nhead": 0}, "nhead", "at least 1"),
    "zero stride": ("config.json", {"total_stride": 0}, "total_stride", "must be 8"),
    "infinite context": (
        "config.json",
        _raw("context_amount", "Infinity"),
        "context_amount",
        "finite",
    ),
    "narrowing stage": (
        "config.json",
        {"stage_out_channels": [-1, 8, 16, 16, 32, 40, 16]},
        "stage_out_channels",
        "wider",
    ),
    "300-character weights name": ("config.json", {"weights": LONG_NAME}, "weights", "300"),
    "300-character text model": ("config.json", {"text_model": LONG_NAME}, "text_model", "300"),
    "string hidden_size": ("bert/config.json", {"hidden_size": "32"}, "hidden_size", "integer"),
    "zero BERT heads": (
        "bert/config.json",
        {"num_attention_heads": 0},
        "num_attention_heads",
        "at least 1",
    ),
    "deep BERT config": ("bert/config.json", _raw("vocab_size", DEEP), None, "nested deeper"),
    "huge BERT": (
        "bert/config.json",
        {"hidden_size": 8192, "num_hidden_layers": 100, "intermediate_size": 65536},
        None,
        "parameters",
    ),
}


@pytest.mark.parametrize("case", VLT_CASES)
def test_vlt_tt_config_errors_name_file_and_field(case: str, tmp_path: Path) -> None:
    file, edit, field, message = VLT_CASES[case]
    folder = _edited_copy(FIXTURES / "vlt_tt", tmp_path / "vlt", file, edit)
    with pytest.raises(CheckpointError) as caught:
        create_engine("vlt_tt", weights=folder, device="cpu")
    error = caught.value
    assert error.path == folder / file and message in str(error), str(error)
    assert field is None or f"field {field!r}" in str(error), str(error)


NANO_CASES = {
    "string lr": ({"lr": "fast"}, "lr", "must be a number"),
    "lr above 1": ({"lr": 1.5}, "lr", "at most 1"),
    "negative penalty": ({"penalty_k": -1}, "penalty_k", "at least 0"),
    "infinite context": (_raw("context_amount", "Infinity"), "context_amount", "finite"),
    "NaN window influence": (_raw("window_influence", "NaN"), "window_influence", "finite"),
    "unknown rules": ({"rules": "mine"}, "rules", "one of authors, opencv"),
    "unknown field": ({"colour": "red"}, "colour", "not a field of the NanoTrack config"),
    "template too small": ({"exemplar_size": 64}, "exemplar_size", "template features"),
    "search not larger": ({"instance_size": 127}, "instance_size", "larger than exemplar"),
    "huge search crop": ({"instance_size": 10**6}, "instance_size", "at most 1024"),
    "bool for an int": ({"instance_size": True}, "instance_size", "must be an integer"),
    "other version": ({"version": 2}, "version", "the weights are V3"),
    "crop decoding with OpenCV's rules": (
        {"rules": "opencv", "decode": "crop"},
        "decode",
        "authors' rules only",
    ),
    "5,000 digits": (_raw("instance_size", HUGE_INT), None, "5,000 digits"),
    "deep nesting": (_raw("rules", DEEP), None, "nested deeper than"),
    "300-character weights name": ({"weights": LONG_NAME}, "weights", "300 bytes"),
}


def _nanotrack_folder(folder: Path) -> Path:
    """A folder with a stand-in V3 checkpoint: the tensors that tell the version, so loading
    reaches the config check (a config problem is reported before the weights are loaded)."""
    folder.mkdir()
    state = {
        "ban_head.corr_dw_reg.conv_kernel.0.weight": torch.zeros(96, 96, 1, 1),
        "neck.downsample.0.weight": torch.zeros(96, 96, 1, 1),
    }
    torch.save({"state_dict": state}, folder / "nanotrackv3.pth")
    (folder / "config.json").write_text("{}")
    return folder


@pytest.mark.parametrize("case", NANO_CASES)
def test_nanotrack_config_errors_name_file_and_field(case: str, tmp_path: Path) -> None:
    edit, field, message = NANO_CASES[case]
    source = _nanotrack_folder(tmp_path / "source")
    folder = _edited_copy(source, tmp_path / "nano", "config.json", edit)
    with pytest.raises(CheckpointError) as caught:
        create_engine("nanotrack", weights=folder, device="cpu")
    error = caught.value
    assert error.path == folder / "config.json" and message in str(error), str(error)
    assert field is None or f"field {field!r}" in str(error), str(error)


def test_nanotrack_config_given_in_code_is_checked(tmp_path: Path) -> None:
    folder = _nanotrack_folder(tmp_path / "nano")
    with pytest.raises(EngineError, match="nanotrack: NanoTrack config: field 'lr': must be"):
        create_engine("nanotrack", weights=folder, device="cpu", config={"lr": -0.5})
    # the folder's config is the file named when the override's values meet its own
    (folder / "config.json").write_text('{"rules": "opencv"}')
    with pytest.raises(CheckpointError) as caught:
        create_engine("nanotrack", weights=folder, device="cpu", config={"lr": 2})
    assert caught.value.path == folder / "config.json"


def test_nanotrack_defaults_follow_the_version() -> None:
    """What the checkpoint's version brings, and what a file says on top of it."""
    v2 = NanoTrackConfig.from_dict({"lr": 0.3}, "config.json", version=2)
    assert (v2.version, v2.window_influence, v2.penalty_k, v2.lr) == (2, 0.49, 0.15, 0.3)
    assert NanoTrackConfig.from_dict({"version": 1}).penalty_k == 0.148
    assert NanoTrackConfig.from_dict({}) == NanoTrackConfig()  # V3's settings
    with pytest.raises(ConfigError, match="field 'version': must be one of 1, 2, 3"):
        NanoTrackConfig.from_dict({"version": 4})


TRAINING_CASES = {
    "zero heads in the model": ('{"model": {"nheads": 0}}', "model.nheads", "at least 1"),
    "infinite epochs": ('{"training": {"epochs": 1e400}}', "training.epochs", "integer"),
    "infinite lr": ('{"training": {"lr": Infinity}}', "training.lr", "finite"),
    "string lr": ('{"training": {"lr": "fast"}}', "training.lr", "must be a number"),
    "deep nesting": ('{"model": ' + DEEP + "}", None, "nested deeper than"),
    "5,000 digits": ('{"training": {"seed": ' + HUGE_INT + "}}", None, "5,000 digits"),
    "unknown stage": (
        '{"training": {"trainable_backbone_layers": ["layer9"]}}',
        "training.trainable_backbone_layers",
        "one of layer1",
    ),
    "unknown section": ('{"optimiser": {}}', "optimiser", '"model" and/or "training"'),
}


@pytest.mark.parametrize("case", TRAINING_CASES)
def test_training_config_errors_name_file_and_field(case: str, tmp_path: Path) -> None:
    text, field, message = TRAINING_CASES[case]
    path = tmp_path / "run.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    error = caught.value
    assert error.path == path and message in str(error), str(error)
    assert error.field == field


def test_tracker_params_are_checked() -> None:
    with pytest.raises(ConfigError, match="'window_influence': must be at most 1"):
        COSTTrackerParams(window_influence=1.5)
    with pytest.raises(ConfigError, match="'search_factor': must be a finite number"):
        COSTTrackerParams(search_factor=float("inf"))
    assert COSTTrackerParams.for_model(COSTConfig.transt()) == COSTTrackerParams()


# --- the parameter bound is the real parameter count --------------------------------------------


def test_cost_parameter_count_matches_the_model(tmp_path: Path) -> None:
    from transformers import BertConfig

    for visual_only in (False, True):
        config = tiny_config(tmp_path, visual_only)
        if not visual_only:
            write_tiny_vocab(tmp_path)
        model = COSTModel.from_config(config)
        assert config.parameter_count() == count_parameters(model)["total"]
    paper = COSTConfig(
        text_encoder=None,
        text_encoder_config=BertConfig().to_dict(),
        tokenizer=str(write_tiny_vocab(tmp_path)),
    )
    with torch.device("meta"):
        model = COSTModel.from_config(paper)
        transt = COSTModel(COSTConfig.transt())
    assert paper.parameter_count() == count_parameters(model)["total"] == 145_352_518
    assert COSTConfig.transt().parameter_count() == count_parameters(transt)["total"]


def test_allinone_and_vlt_tt_parameter_counts_match_the_networks() -> None:
    fixture_aio = AllInOneConfig.from_json_file(FIXTURES / "allinone" / "config.json")
    fixture_vlt = VLTTTConfig.from_json_file(FIXTURES / "vlt_tt" / "config.json")
    with torch.device("meta"):
        for config in (AllInOneConfig(), fixture_aio):
            assert config.parameter_count() == _parameters(AllInOneNet(config))
        for config in (VLTTTConfig(), fixture_vlt):
            network = VLTTTNet(config, torch.nn.Identity(), 48)
            assert config.parameter_count(text_dim=48) == _parameters(network)


@pytest.mark.parametrize("pooler", [False, True])
def test_text_encoder_parameter_count_matches_bert(pooler: bool) -> None:
    from transformers import BertConfig, BertModel

    sizes = TextEncoderSizes(vocab_size=1000, hidden_size=64, num_hidden_layers=3,
                             num_attention_heads=4, intermediate_size=100,
                             max_position_embeddings=77, type_vocab_size=3)  # fmt: skip
    with torch.device("meta"):
        bert = BertModel(BertConfig(**sizes.to_dict()), add_pooling_layer=pooler)
    assert sizes.parameter_count(pooler=pooler) == _parameters(bert)


def _parameters(module: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())


# --- fuzz: only ConfigError escapes; an accepted config builds -----------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.sampled_from([0, -1, 2**31, 10**12, 10**40, -(10**40), 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2.0, 70.0),
    st.text(max_size=12),
    st.sampled_from(["", "a" * 300, "x\0y", "bert-base-uncased", "layer2", "GT_BOX", "bf16"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
_PLAUSIBLE = st.one_of(_JSON, st.lists(st.integers(-1, 40), max_size=25), st.integers(0, 4096))


def _config_dicts(cls: type[FrozenConfig], base: dict[str, Any]) -> st.SearchStrategy:
    """The defaults with a few fields (or unknown keys) replaced by arbitrary JSON values."""
    names = sorted(base) + ["colour", "weights", "engine"]
    changes = st.dictionaries(st.sampled_from(names), _PLAUSIBLE, min_size=1, max_size=4)
    return changes.map(lambda change: {**base, **change})


FUZZED = {
    "COSTConfig": (COSTConfig, COSTConfig().to_dict()),
    "COSTConfig (visual only)": (COSTConfig, COSTConfig.transt().to_dict()),
    "TrainingConfig": (TrainingConfig, TrainingConfig().to_dict()),
    "AllInOneConfig": (AllInOneConfig, AllInOneConfig().to_dict()),
    "VLTTTConfig": (VLTTTConfig, VLTTTConfig().to_dict()),
    "TextEncoderSizes": (TextEncoderSizes, TextEncoderSizes().to_dict()),
    "COSTTrackerParams": (COSTTrackerParams, COSTTrackerParams().to_dict()),
    "NanoTrackConfig": (NanoTrackConfig, NanoTrackConfig().to_dict()),
    "NanoTrackConfig (V2, OpenCV's rules)": (
        NanoTrackConfig,
        NanoTrackConfig.for_version(2, rules="opencv").to_dict(),
    ),
}


@pytest.mark.parametrize("name", FUZZED)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_config_dicts_raise_only_config_errors(name: str, data: st.DataObject) -> None:
    cls, base = FUZZED[name]
    values = data.draw(st.one_of(_config_dicts(cls, base), _JSON), label="values")
    try:
        config = cls.from_dict(values)
    except ConfigError as error:
        assert str(error).startswith(f"{cls.what}: "), str(error)
        return
    assert cls.from_dict(config.to_dict()) == config  # accepted values survive JSON


@pytest.mark.parametrize(
    "name", ["COSTConfig", "AllInOneConfig", "TrainingConfig", "NanoTrackConfig"]
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_config_files_raise_only_config_errors(
    name: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cls, base = FUZZED[name]
    values = data.draw(_config_dicts(cls, base), label="values")
    path = tmp_path_factory.mktemp("fuzz") / "config.json"
    path.write_text(json.dumps(values))  # NaN and Infinity as Python's json writes them
    try:
        cls.from_json_file(path)
    except ConfigError as error:
        assert error.path == path and str(error).startswith(f"{path}: "), str(error)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_accepted_network_configs_build_with_the_counted_parameters(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A config that passes the checks builds (on the meta device: no memory), and its
    parameter count, the number the bound is checked against, is the network's."""
    small = {"hidden_dim": st.sampled_from([8, 16, 24, 32]), "nheads": st.sampled_from([1, 2, 4])}
    kind = data.draw(st.sampled_from(["cost", "transt", "allinone", "vlt_tt"]), label="kind")
    if kind in ("cost", "transt"):
        vocab = write_tiny_vocab(tmp_path_factory.mktemp("vocab"))
        base = tiny_config(vocab.parent, visual_only=kind == "transt").to_dict()
        change = data.draw(_network_changes(base, small), label="change")
        config = _accepted(COSTConfig, {**base, **change})
        with torch.device("meta"):
            network = COSTModel.from_config(config)
        expected = count_parameters(network)["total"]
    elif kind == "allinone":
        base = AllInOneConfig.from_json_file(FIXTURES / "allinone" / "config.json").to_dict()
        config = _accepted(AllInOneConfig, {**base, **data.draw(_network_changes(base, {}))})
        with torch.device("meta"):
            expected = _parameters(AllInOneNet(config))
    else:
        base = VLTTTConfig.from_json_file(FIXTURES / "vlt_tt" / "config.json").to_dict()
        config = _accepted(VLTTTConfig, {**base, **data.draw(_network_changes(base, {}))})
        with torch.device("meta"):
            expected = _parameters(VLTTTNet(config, torch.nn.Identity(), 768))
    assert config.parameter_count() == expected <= MAX_PARAMETERS


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_accepted_nanotrack_configs_track(data: st.DataObject) -> None:
    """NanoTrack's network is fixed by its version (no size to count): what its config
    accepts must track, with the score map the config promises."""
    sizes = st.sampled_from([113, 120, 127, 128, 129, 160, 255, 287, 300, 1024, 2000])
    numbers = st.one_of(st.floats(-1.0, 3.0), st.sampled_from([0, 1, 0.5, 100.0, 1e4]))
    changes = st.fixed_dictionaries(
        {},
        optional={
            "version": st.sampled_from([1, 2, 3]),
            "exemplar_size": sizes,
            "instance_size": sizes,
            "context_amount": numbers,
            "window_influence": numbers,
            "penalty_k": numbers,
            "lr": numbers,
            "min_size": numbers,
            "rules": st.sampled_from(["authors", "opencv"]),
            "decode": st.sampled_from(["authors", "crop"]),
        },
    )
    config = _accepted(NanoTrackConfig, data.draw(changes, label="values"))
    torch.manual_seed(0)
    network = NanoTrackNet(config.version).eval()
    tracker = NanoTracker(network, config, compile=False)
    frame = torch.randint(0, 256, (90, 120, 3), dtype=torch.uint8).numpy()
    tracker.initialize(frame, (50.0, 30.0, 12.0, 9.0))
    for _ in range(2):
        result = tracker.step(frame)
        assert result.score_map.shape == (config.output_size, config.output_size)
        assert all(math.isfinite(value) for value in result.box)
        assert result.box.w >= min(config.min_size, 120) - 1e-6


def _network_changes(base: dict[str, Any], extra: dict[str, st.SearchStrategy]):
    """Small integer or list changes that often pass the checks."""
    numbers = st.one_of(st.integers(0, 12), st.sampled_from([16, 32, 64, 96, 128, 256]))
    values = st.one_of(numbers, st.lists(st.integers(-1, 40), min_size=1, max_size=7))
    fields = st.dictionaries(st.sampled_from(sorted(base)), values, max_size=3)
    return st.tuples(fields, st.fixed_dictionaries(extra)).map(lambda pair: {**pair[0], **pair[1]})


def _accepted(cls: type[FrozenConfig], values: dict[str, Any]) -> Any:
    from hypothesis import assume

    try:
        return cls.from_dict(values)
    except ConfigError:
        assume(False)


def test_config_errors_are_costcore_errors() -> None:
    """The CLI and the app report CostcoreError as one line; ConfigError is one."""
    with pytest.raises(CostcoreError):
        COSTConfig.from_dict({"nheads": 0})


def test_a_nanotrack_config_that_makes_boxes_far_larger_than_the_frame_still_tracks() -> None:
    """Found by the property above: min_size 10,000 and context 2 make the next search square
    ~50,000 pixels wide; bordering it whole asked for 38 GB. The crop samples it instead."""
    config = _accepted(
        NanoTrackConfig,
        {"version": 1, "exemplar_size": 113, "min_size": 10000.0, "context_amount": 2.0,
         "window_influence": 0.0, "penalty_k": 0.0, "lr": 0.0},
    )  # fmt: skip
    torch.manual_seed(0)
    tracker = NanoTracker(NanoTrackNet(config.version).eval(), config, compile=False)
    frame = torch.randint(0, 256, (90, 120, 3), dtype=torch.uint8).numpy()
    tracker.initialize(frame, (50.0, 30.0, 12.0, 9.0))
    regions = []
    for _ in range(3):
        result = tracker.step(frame)
        regions.append(result.search_region.w)
        assert all(math.isfinite(value) for value in result.box)
    assert max(regions) > 10_000  # the huge square, really cut
