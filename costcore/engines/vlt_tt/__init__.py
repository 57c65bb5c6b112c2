"""VLT_TT (github.com/JudasDie/SOTS, NeurIPS 2022) as a tracking engine.

Registered as ``"vlt_tt"``. Weights: the authors' checkpoint (``VLT_TT.pth``: a pickled dict
with the weights under ``"state_dict"``, or the bare state dict; their BERT's weights are part
of it), read by the project's safe loader and loaded strictly with the authors' key names; or a
folder holding such a file, an optional ``config.json`` (:class:`VLTTTConfig` fields, plus
``benchmark``) and a ``bert`` subfolder with the text model's ``config.json`` and ``vocab.txt``.

Options: ``benchmark`` picks the authors' per-benchmark hyper-parameters (default: LaSOT's),
``config`` (dict or JSON file) overrides any field, ``text_model`` names the folder with BERT's
config and vocabulary. Without one, the BERT shape is read from the checkpoint and the
tokenizer looked up as ``bert-base-uncased`` in the local Hugging Face cache (never
downloaded); without a tokenizer the engine still tracks, with visual tokens only, but refuses
a description.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from costcore.engines.bert_text import bert_config, load_bert_tokenizer, text_model_folder
from costcore.engines.checkpoint_files import (
    CheckpointLocation,
    checkpoint_summary,
    config_error,
    config_values,
    load_strict,
    locate_checkpoint,
    read_checkpoint,
    rename_keys,
)
from costcore.engines.engine_device import engine_device
from costcore.engines.errors import CheckpointError, EngineError
from costcore.engines.vlt_tt.config import BENCHMARK_HYPERS, VLTTTConfig
from costcore.errors import ConfigError
from costcore.frozen_config import MAX_PARAMETERS
from costcore.model.config import TextEncoderSizes

__all__ = ["BENCHMARK_HYPERS", "VLTTTConfig", "create_vlt_tt_engine", "load_vlt_tt"]

BERT_PREFIX = "backbone.0.body.bert_model."


def _config(location: CheckpointLocation, override: object, benchmark: str | None) -> VLTTTConfig:
    meta = ("engine", "weights", "text_model")
    values, where = config_values(location, override, "vlt_tt", meta)
    if benchmark is not None:
        if benchmark.upper() not in BENCHMARK_HYPERS:
            known = ", ".join(BENCHMARK_HYPERS)
            raise EngineError(f"vlt_tt: unknown benchmark {benchmark!r}; known: {known}")
        for name in ("penalty_k", "lr", "window_influence"):
            values.pop(name, None)
        values["benchmark"] = benchmark
    try:
        return VLTTTConfig.from_dict(values, where)
    except ConfigError as error:
        raise config_error(error, "vlt_tt") from None


def _bert_config(state: dict[str, Any], text_dir: Path | None, cfg: VLTTTConfig, file: Path):
    """BERT's config (:func:`~costcore.engines.bert_text.bert_config`), the whole network's
    parameter count bounded before anything is allocated."""
    config = bert_config(state, BERT_PREFIX, text_dir, file, heads=cfg.text_heads)
    sizes = TextEncoderSizes.from_transformers(config.to_dict())  # checked by bert_config
    count = cfg.parameter_count(sizes.hidden_size) + sizes.parameter_count(pooler=True)
    if count > MAX_PARAMETERS:
        raise CheckpointError(
            file, f"the network would have {count:,} parameters (at most {MAX_PARAMETERS:,})"
        )
    return config


def load_vlt_tt(
    weights: str | PathLike[str],
    config: object = None,
    text_model: str | PathLike[str] | None = None,
    benchmark: str | None = None,
    device: str = "cpu",
):
    """(network in eval mode, tokenizer or None, one-line summary)."""
    import torch
    from transformers import BertModel

    from costcore.engines.vlt_tt.network import VLTTTNet

    location = locate_checkpoint(weights, "VLT_TT")
    cfg = _config(location, config, benchmark)
    state, report = read_checkpoint(location.file)
    # SOTS' load_pretrain: drop a DataParallel "module." prefix, rename old "features.features"
    state = {key.split("module.", 1)[-1] if key.startswith("module.") else key: value
             for key, value in state.items()}  # fmt: skip
    state = rename_keys(state, "features.features", "backbone")
    text_dir = text_model_folder(location, text_model)
    text_config = _bert_config(state, text_dir, cfg, location.file)
    encoder = BertModel(text_config)
    network = VLTTTNet(cfg, encoder, int(text_config.hidden_size))
    load_strict(network, location.file, state, "the VLT_TT network", VLTTTNet.OPTIONAL_BUFFERS)
    network = network.to(torch.device(device)).eval()
    tokenizer = load_bert_tokenizer(text_dir)
    note = "" if tokenizer is not None else "no tokenizer: visual tokens only"
    return network, tokenizer, checkpoint_summary(report, note=note)


def create_vlt_tt_engine(
    weights: str | PathLike[str],
    device: str = "auto",
    config: object = None,
    text_model: str | PathLike[str] | None = None,
    benchmark: str | None = None,
):
    """Registry factory for ``"vlt_tt"``: ``weights`` is a checkpoint file or folder."""
    resolved = engine_device("VLT_TT", device, ("torch", "transformers"))
    from costcore.engines.vlt_tt.tracker import VLTTTTracker

    network, tokenizer, summary = load_vlt_tt(weights, config, text_model, benchmark, str(resolved))
    return VLTTTTracker(network, tokenizer, resolved, summary)
