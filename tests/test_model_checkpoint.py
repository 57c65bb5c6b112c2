"""Our checkpoint folder: exact round trip, no network, clear errors."""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest
import torch

from costcore.errors import FormatError
from costcore.model import COSTConfig, COSTModel, load_checkpoint, load_model, save_checkpoint
from costcore.model.testing import tiny_config, tiny_model, write_tiny_vocab


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _outputs(model: COSTModel, text: str | None) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    size_t, size_s = model.config.template_size, model.config.search_size
    template = torch.rand(1, 3, size_t, size_t, generator=generator)
    search = torch.rand(1, 3, size_s, size_s, generator=generator)
    with torch.inference_mode():
        out = model(template, search, None if text is None else [text])
    return out.logits, out.boxes


@pytest.mark.parametrize("visual_only", [False, True])
def test_save_load_round_trip_is_exact(tmp_path, no_network, visual_only: bool) -> None:
    model = tiny_model(tmp_path / "vocab", visual_only=visual_only, seed=11)
    folder = save_checkpoint(model, tmp_path / "checkpoint")
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors"} <= names
    assert ("text_encoder" in names) != visual_only
    loaded = load_checkpoint(folder, "cpu")
    assert not loaded.training and loaded.config.visual_only == visual_only
    text = None if visual_only else "a small red car on the road"
    for before, after in zip(_outputs(model, text), _outputs(loaded, text), strict=True):
        assert torch.equal(before, after)
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key


def test_config_points_at_the_saved_text_encoder(tmp_path) -> None:
    folder = save_checkpoint(tiny_model(tmp_path / "vocab"), tmp_path / "checkpoint")
    config = json.loads((folder / "config.json").read_text())
    assert config["text_encoder"] == config["tokenizer"] == "text_encoder"
    assert config["text_encoder_config"] is None
    from safetensors.torch import load_file

    keys = load_file(str(folder / "model.safetensors"))
    assert not any(key.startswith("language_branch.encoder.") for key in keys)
    assert "vl_transformer.obj_token" in keys and "input_proj.weight" in keys


def test_save_refuses_to_overwrite_unless_asked(tmp_path) -> None:
    model = tiny_model(tmp_path / "vocab", visual_only=True)
    save_checkpoint(model, tmp_path / "checkpoint")
    with pytest.raises(FileExistsError):
        save_checkpoint(model, tmp_path / "checkpoint")
    save_checkpoint(model, tmp_path / "checkpoint", overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint"]  # no staging leftovers


def test_text_encoder_from_a_local_pretrained_folder(tmp_path, no_network) -> None:
    """The from_pretrained path (a hub name in real use) with a folder saved beforehand."""
    source = tiny_model(tmp_path / "vocab", seed=5)
    encoder_dir = tmp_path / "my_bert"
    source.language_branch.encoder.save_pretrained(encoder_dir)
    source.language_branch.tokenizer.save_pretrained(encoder_dir)
    config = tiny_config(tmp_path / "vocab").replace(
        text_encoder=str(encoder_dir), text_encoder_config=None, tokenizer=None
    )
    model = COSTModel.from_config(config, local_files_only=True)
    for key, value in source.language_branch.encoder.state_dict().items():
        assert torch.equal(model.language_branch.encoder.state_dict()[key], value)


def test_missing_text_encoder_is_a_format_error(tmp_path, no_network) -> None:
    config = tiny_config(write_tiny_vocab(tmp_path).parent).replace(
        text_encoder=str(tmp_path / "absent_bert"), text_encoder_config=None
    )
    with pytest.raises(FormatError, match="absent_bert"):
        COSTModel.from_config(config, local_files_only=True)


def test_load_errors_name_the_file(tmp_path) -> None:
    model = tiny_model(tmp_path / "vocab", visual_only=True)
    folder = save_checkpoint(model, tmp_path / "checkpoint")
    with pytest.raises(FormatError, match="nowhere"):
        load_checkpoint(tmp_path / "nowhere")
    (folder / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(FormatError, match="model.safetensors"):
        load_checkpoint(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(FormatError, match="config.json"):
        load_checkpoint(folder)


def test_missing_text_encoder_folder_is_named(tmp_path) -> None:
    import shutil

    folder = save_checkpoint(tiny_model(tmp_path / "vocab"), tmp_path / "checkpoint")
    shutil.rmtree(folder / "text_encoder")
    with pytest.raises(FormatError, match="checkpoint/text_encoder"):
        load_checkpoint(folder)


def test_weights_that_do_not_fit_the_config_are_named(tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    folder = save_checkpoint(tiny_model(tmp_path / "v", visual_only=True), tmp_path / "ckpt")
    weights = load_file(str(folder / "model.safetensors"))
    weights["extra.weight"] = torch.zeros(1)
    del weights["input_proj.bias"]
    save_file(weights, str(folder / "model.safetensors"))
    with pytest.raises(FormatError) as caught:
        load_checkpoint(folder)
    assert "input_proj.bias" in str(caught.value) and "extra.weight" in str(caught.value)


def test_load_model_dispatches_on_folder_or_file(tmp_path) -> None:
    model = tiny_model(tmp_path / "vocab", seed=2)
    folder = save_checkpoint(model, tmp_path / "checkpoint")
    loaded, summary = load_model(folder)
    assert isinstance(loaded, COSTModel) and summary.startswith("COST checkpoint")
    transt = COSTModel(COSTConfig.transt())
    torch.save({"net": transt.state_dict(), "epoch": 1}, tmp_path / "transt.pth")
    loaded, summary = load_model(tmp_path / "transt.pth")
    assert loaded.visual_only and summary.startswith("TransT transt.pth: 430 tensors")


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_checkpoint_folders_get_the_usual_mode_not_0700(tmp_path, umask) -> None:
    """Model checkpoints and a training run's step checkpoints are readable like any folder."""
    from costcore.training.checkpoints import save_training_checkpoint

    model = tiny_model(tmp_path / "vocab")
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    old = os.umask(umask)
    try:
        folder = save_checkpoint(model, tmp_path / "checkpoint")
        step = save_training_checkpoint(
            tmp_path / "run", model, optimizer, scheduler, step=3, epoch=0, reason="test"
        )
    finally:
        os.umask(old)
    for path in (folder, folder / "text_encoder", step, step / "text_encoder"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~umask, path
