"""Where a run starts from: TransT weights, a text-encoder folder, config files; TransT runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from costcore.errors import FormatError
from costcore.model import COSTModel
from costcore.model.linguistic_branch import bert_tokenizer_from_vocab
from costcore.model.testing import tiny_text_encoder_config
from costcore.training import Trainer, build_model, model_config, read_config_file, read_log
from costcore.training.synthetic import write_synthetic_dataset
from costcore.training.testing import (
    tiny_training_config,
    tiny_training_model_config,
    write_synthetic_vocab,
)


def test_init_visual_loads_transt_weights_into_the_visual_branch(tmp_path: Path) -> None:
    cost_config = tiny_training_model_config(tmp_path / "vocab")
    transt_config = tiny_training_model_config(tmp_path / "vocab", visual_only=True)
    torch.manual_seed(42)
    transt = COSTModel.from_config(transt_config)
    path = tmp_path / "transt.pth"
    torch.save({"net": transt.state_dict(), "epoch": 500}, path)

    model = build_model(cost_config, seed=0, init_visual=path)
    fresh = build_model(cost_config, seed=0).state_dict()
    for key, value in transt.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    # the rest (BERT, CoA, VLT, token convs) keeps its own initialisation
    assert torch.equal(model.state_dict()["alignment.g_v.weight"], fresh["alignment.g_v.weight"])


def test_text_encoder_from_a_local_folder(tmp_path: Path) -> None:
    from transformers import AutoConfig, AutoModel

    vocab = write_synthetic_vocab(tmp_path / "vocab")
    folder = tmp_path / "my-bert"
    settings = tiny_text_encoder_config(len(vocab.read_text().split()))
    settings.pop("model_type")
    AutoModel.from_config(AutoConfig.for_model("bert", **settings)).save_pretrained(folder)
    bert_tokenizer_from_vocab(vocab).save_pretrained(folder)

    base = tiny_training_model_config(tmp_path / "vocab").to_dict()
    config = model_config(base, text_encoder=str(folder))
    assert config.text_encoder == str(folder) and config.text_encoder_config is None
    model = build_model(config)
    assert model.language_branch.dim == 32
    assert model.language_branch.tokenize(["small red circle"])[1].sum() == 5


def test_config_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"training": {"batch_size": 0}}))
    with pytest.raises(FormatError, match="config.json.*batch_size"):
        read_config_file(path)
    path.write_text(json.dumps({"model": {"hidden_dims": 3}}))
    with pytest.raises(FormatError, match="field 'model.hidden_dims': is not a field of the COST"):
        read_config_file(path)
    path.write_text(json.dumps({"optimizer": {}}))
    with pytest.raises(FormatError, match='"model" and/or "training"'):
        read_config_file(path)
    path.write_text(json.dumps({"model": {"fusion_layers": 1}, "training": {"epochs": 3}}))
    overrides, training = read_config_file(path)
    assert overrides == {"fusion_layers": 1} and training.epochs == 3


def test_a_visual_only_model_trains_as_transt(tmp_path: Path) -> None:
    """Without the linguistic branch COST is TransT: no descriptions needed, no CoA."""
    write_synthetic_dataset(tmp_path / "data", 2, seed=4, frames=10)
    config = tiny_training_model_config(tmp_path / "vocab", visual_only=True)
    training = tiny_training_config(epochs=1, steps_per_epoch=2, batch_size=2, log_every=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = Trainer(
            tmp_path / "run", data_dirs=[tmp_path / "data"], model_config=config,
            training=training, device="cpu",
        ).fit()  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    assert result.step == 2 and result.final is not None
    rows = read_log(tmp_path / "run")
    assert "coa" not in rows[0] and rows[-1]["total"] > 0
