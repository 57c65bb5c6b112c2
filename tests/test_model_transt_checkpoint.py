"""TransT checkpoints: exact key names and shapes, strict loading, and safe unpickling.

The expected names are written out here from TransT's code (ltr/models/backbone/resnet.py,
ltr/models/neck/featurefusion_network.py, ltr/models/tracking/transt.py), independently of our
model, so a renamed module in costcore cannot make both sides drift together.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest
import torch

from costcore.errors import FormatError
from costcore.model import (
    COSTConfig,
    COSTModel,
    load_transt_weights,
    read_transt_state_dict,
    transt_model_from_checkpoint,
)
from costcore.model.testing import tiny_model

BN = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
MHA = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")
LINEAR = ("weight", "bias")


def transt_key_names() -> list[str]:
    """TransT-R50's state-dict keys, from its code (ResNet-50 blocks 3-4-6 up to layer3)."""
    body = "backbone.0.body."
    keys = [body + "conv1.weight"] + [body + "bn1." + p for p in BN]
    for layer, blocks in ((1, 3), (2, 4), (3, 6)):
        for block in range(blocks):
            prefix = f"{body}layer{layer}.{block}."
            for i in (1, 2, 3):
                keys.append(f"{prefix}conv{i}.weight")
                keys += [f"{prefix}bn{i}.{p}" for p in BN]
        keys.append(f"{body}layer{layer}.0.downsample.0.weight")
        keys += [f"{body}layer{layer}.0.downsample.1.{p}" for p in BN]
    keys += ["input_proj.weight", "input_proj.bias"]
    for layer in range(4):
        prefix = f"featurefusion_network.encoder.layers.{layer}."
        for attn in ("self_attn1", "self_attn2", "multihead_attn1", "multihead_attn2"):
            keys += [f"{prefix}{attn}.{p}" for p in MHA]
        for linear in ("linear11", "linear12", "linear21", "linear22"):
            keys += [f"{prefix}{linear}.{p}" for p in LINEAR]
        for norm in ("norm11", "norm12", "norm13", "norm21", "norm22", "norm23"):
            keys += [f"{prefix}{norm}.{p}" for p in LINEAR]
    prefix = "featurefusion_network.decoder."
    keys += [f"{prefix}layers.0.multihead_attn.{p}" for p in MHA]
    for name in ("linear1", "linear2", "norm1", "norm2"):
        keys += [f"{prefix}layers.0.{name}.{p}" for p in LINEAR]
    keys += [f"{prefix}norm.{p}" for p in LINEAR]
    for head in ("class_embed", "bbox_embed"):
        keys += [f"{head}.layers.{i}.{p}" for i in range(3) for p in LINEAR]
    return keys


#: exact shapes from TransT's code (hidden 256, FFN 2048, ResNet-50 widths)
TRANST_SHAPES = {
    "backbone.0.body.conv1.weight": (64, 3, 7, 7),
    "backbone.0.body.layer1.0.downsample.0.weight": (256, 64, 1, 1),
    "backbone.0.body.layer2.0.conv2.weight": (128, 128, 3, 3),
    "backbone.0.body.layer3.0.conv2.weight": (256, 256, 3, 3),
    "backbone.0.body.layer3.0.downsample.0.weight": (1024, 512, 1, 1),
    "backbone.0.body.layer3.5.conv3.weight": (1024, 256, 1, 1),
    "backbone.0.body.layer3.5.bn3.num_batches_tracked": (),
    "input_proj.weight": (256, 1024, 1, 1),
    "input_proj.bias": (256,),
    "featurefusion_network.encoder.layers.0.self_attn1.in_proj_weight": (768, 256),
    "featurefusion_network.encoder.layers.3.linear11.weight": (2048, 256),
    "featurefusion_network.encoder.layers.3.linear22.weight": (256, 2048),
    "featurefusion_network.decoder.layers.0.multihead_attn.out_proj.weight": (256, 256),
    "featurefusion_network.decoder.norm.weight": (256,),
    "class_embed.layers.2.weight": (2, 256),
    "class_embed.layers.2.bias": (2,),
    "bbox_embed.layers.2.weight": (4, 256),
    "bbox_embed.layers.0.weight": (256, 256),
}
#: values in TransT-R50's state dict (checked once against TransT's own code)
TRANST_VALUES = 23_046_641


class NetConstructor:
    """Stands for ltr.admin.model_constructor.NetConstructor in a real transt.pth."""

    def __init__(self) -> None:
        self.fun_name = "transt_resnet50"
        self.fun_module = "ltr.models.tracking.transt"
        self.args = ()
        self.kwds = {"settings": None}


class Settings:
    def __init__(self) -> None:
        self.batch_size = 38
        self.env = {"workspace_dir": "/somewhere"}


class WritesMarker:
    """A pickle payload that would create a file when unpickled by plain pickle."""

    def __init__(self, marker: Path, use_shell: bool) -> None:
        self.marker = marker
        self.use_shell = use_shell

    def __reduce__(self):
        if self.use_shell:
            return (os.system, (f"touch '{self.marker}'",))
        return (open, (str(self.marker), "w"))


@pytest.fixture(scope="module")
def transt() -> COSTModel:
    torch.manual_seed(0)
    return COSTModel(COSTConfig.transt()).eval()


@pytest.fixture(scope="module")
def transt_weights(transt: COSTModel) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return {
        key: (torch.randn(value.shape, generator=generator) if value.is_floating_point() else value)
        for key, value in transt.transt_state_dict().items()
    }


@pytest.fixture(scope="module")
def transt_file(tmp_path_factory, transt_weights) -> Path:
    """A TransT-like checkpoint: weights under "net" plus pickled foreign objects."""
    path = tmp_path_factory.mktemp("transt") / "transt.pth"
    torch.save(
        {
            "net": transt_weights,
            "constructor": NetConstructor(),
            "net_type": "TransT",
            "epoch": 5,
            "actor_type": "TranstActor",
            "settings": Settings(),
            "stats": {"train": {"Loss/total": [1.0, 0.5]}},
        },
        path,
    )
    return path


def test_key_names_and_count_match_transt(transt: COSTModel) -> None:
    expected = transt_key_names()
    assert len(expected) == len(set(expected)) == 430
    ours = transt.transt_state_dict()
    assert set(ours) == set(expected)
    assert set(transt.state_dict()) == set(expected)  # visual-only: nothing else
    assert sum(key.endswith("num_batches_tracked") for key in expected) == 43
    for key, shape in TRANST_SHAPES.items():
        assert tuple(ours[key].shape) == shape, key
    assert sum(value.numel() for value in ours.values()) == TRANST_VALUES


def test_layer3_dilation_is_transt_s(transt: COSTModel) -> None:
    layer3 = transt.backbone[0].body.layer3
    assert layer3[0].conv2.dilation == (2, 2) and layer3[0].conv2.stride == (1, 1)
    assert all(block.conv2.dilation == (1, 1) for block in layer3[1:])


def test_transt_pickle_loads_strictly_through_the_allow_list(
    transt_file: Path, transt_weights
) -> None:
    model, report = transt_model_from_checkpoint(transt_file)
    state = model.state_dict()
    assert all(torch.equal(state[key], value) for key, value in transt_weights.items())
    assert report.tensor_count == 430 and report.loader == "allow-list"
    assert report.sha256 == hashlib.sha256(transt_file.read_bytes()).hexdigest()
    assert report.parameter_count == TRANST_VALUES
    assert f"{__name__}.NetConstructor" in report.placeholders
    assert set(report.other_entries) == {
        "constructor",
        "net_type",
        "epoch",
        "actor_type",
        "settings",
        "stats",
    }
    assert "430 tensors" in report.describe() and model.visual_only and not model.training


def test_legacy_serialisation_with_foreign_objects(tmp_path, transt_weights) -> None:
    """TransT was trained with PyTorch 1.5, whose torch.save wrote the pre-zip format."""
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pth"
    entries = {"net": transt_weights, "constructor": NetConstructor(), "epoch": 5}
    entries["stats"] = WritesMarker(marker, use_shell=True)
    torch.save(entries, path, _use_new_zipfile_serialization=False)
    weights, report = read_transt_state_dict(path)
    assert report.loader == "allow-list" and len(weights) == 430
    assert all(torch.equal(weights[key], value) for key, value in transt_weights.items())
    assert not marker.exists()


def test_plain_state_dict_uses_weights_only(tmp_path, transt_weights) -> None:
    path = tmp_path / "plain.pth"
    torch.save({"net": transt_weights, "epoch": 3}, path)
    weights, report = read_transt_state_dict(path)
    assert report.loader == "weights_only" and len(weights) == 430


def test_dataparallel_prefix_is_removed(tmp_path, transt_weights) -> None:
    path = tmp_path / "dp.pth"
    torch.save({"net": {f"module.{k}": v for k, v in transt_weights.items()}}, path)
    weights, _ = read_transt_state_dict(path)
    assert set(weights) == set(transt_weights)


def test_wrong_missing_and_misshaped_keys_are_named(tmp_path, transt, transt_weights) -> None:
    weights = dict(transt_weights)
    weights["input_proj.wieght"] = weights.pop("input_proj.weight")
    del weights["bbox_embed.layers.2.bias"]
    weights["class_embed.layers.2.weight"] = torch.zeros(3, 256)
    path = tmp_path / "broken.pth"
    torch.save({"net": weights, "constructor": NetConstructor()}, path)
    with pytest.raises(FormatError) as caught:
        load_transt_weights(transt, path)
    message = str(caught.value)
    assert str(path) in message
    assert "missing tensors: bbox_embed.layers.2.bias, input_proj.weight" in message
    assert "unexpected tensors: input_proj.wieght" in message
    assert "class_embed.layers.2.weight (3, 256) != (2, 256)" in message


def test_transt_weights_initialise_a_full_cost_model(tmp_path) -> None:
    """TransT weights load into COST's visual branch and head (tiny sizes on both sides)."""
    source = tiny_model(tmp_path / "a", visual_only=True, seed=3)
    path = tmp_path / "tiny_transt.pth"
    torch.save({"net": source.state_dict(), "constructor": NetConstructor()}, path)
    cost = tiny_model(tmp_path / "b", seed=4)
    report = load_transt_weights(cost, path)
    assert report.tensor_count == len(source.state_dict())
    assert all(
        torch.equal(cost.state_dict()[key], value) for key, value in source.state_dict().items()
    )


@pytest.mark.parametrize("use_shell", [True, False])
@pytest.mark.parametrize("where", ["constructor", "net"])
def test_malicious_reduce_is_neutralised(tmp_path, transt_weights, use_shell, where) -> None:
    marker = tmp_path / "pwned"
    payload = WritesMarker(marker, use_shell)
    path = tmp_path / "evil.pth"
    if where == "net":
        torch.save({"net": payload}, path)
        with pytest.raises(FormatError):
            read_transt_state_dict(path)
    else:
        torch.save({"net": transt_weights, "constructor": payload}, path)
        weights, report = read_transt_state_dict(path)
        assert len(weights) == 430
        refused = {"posix.system", "nt.system"} if use_shell else {"io.open", "builtins.open"}
        assert refused & set(report.placeholders)
    assert not marker.exists()


def test_malicious_raw_pickle_is_refused(tmp_path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"net": WritesMarker(marker, use_shell=True)}))
    with pytest.raises(FormatError):
        read_transt_state_dict(path)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_archive_is_refused(tmp_path) -> None:
    path = tmp_path / "scripted.pth"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(FormatError, match="TorchScript"):
        read_transt_state_dict(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a checkpoint at all", b"PK\x03\x04" + b"\x00" * 40, b"\x80\x02}q\x00(X"],
)
def test_corrupt_files_raise_format_error(tmp_path, content: bytes) -> None:
    path = tmp_path / "corrupt.pth"
    path.write_bytes(content)
    with pytest.raises(FormatError) as caught:
        read_transt_state_dict(path)
    assert str(path) in str(caught.value)


def test_truncated_checkpoint_raises_format_error(tmp_path, transt_file: Path) -> None:
    path = tmp_path / "truncated.pth"
    data = transt_file.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="truncated.pth"):
        read_transt_state_dict(path)


def test_missing_file_and_folder_raise_format_error(tmp_path) -> None:
    with pytest.raises(FormatError, match="nothing.pth"):
        read_transt_state_dict(tmp_path / "nothing.pth")
    with pytest.raises(FormatError):
        read_transt_state_dict(tmp_path)


def test_non_tensor_weights_are_refused(tmp_path) -> None:
    path = tmp_path / "odd.pth"
    torch.save({"net": {"input_proj.weight": [1, 2, 3]}}, path)
    with pytest.raises(FormatError, match="input_proj.weight"):
        read_transt_state_dict(path)
