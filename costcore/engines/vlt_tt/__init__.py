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

import re
from os import PathLike
from pathlib import Path
from typing import Any

from costcore.engines.checkpoint_files import (
    CheckpointLocation,
    checkpoint_summary,
    config_error,
    config_values,
    folder_entry,
    load_strict,
    locate_checkpoint,
    read_checkpoint,
    rename_keys,
)
from costcore.engines.engine_device import engine_device
from costcore.engines.errors import CheckpointError, EngineError
from costcore.engines.vlt_tt.config import BENCHMARK_HYPERS, VLTTTConfig
from costcore.errors import ConfigError, FormatError
from costcore.frozen_config import MAX_PARAMETERS, read_json_object
from costcore.model.config import TextEncoderSizes

__all__ = ["BENCHMARK_HYPERS", "VLTTTConfig", "create_vlt_tt_engine", "load_vlt_tt"]

BERT_PREFIX = "backbone.0.body.bert_model."
TEXT_FOLDER = "bert"


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
    """BERT's config: the text model's ``config.json`` if given, else read off the weights.

    Its sizes are checked (:class:`TextEncoderSizes`) and the whole network's parameter count
    bounded before anything is allocated.
    """
    from transformers import BertConfig

    if text_dir is not None and (text_dir / "config.json").is_file():
        path = text_dir / "config.json"
        try:
            values = read_json_object(path, TextEncoderSizes.what)
            TextEncoderSizes.from_transformers(values, path)
        except ConfigError as error:
            raise CheckpointError(path, error.message) from None
        try:
            config = BertConfig.from_dict(values)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise CheckpointError(path, f"not a BERT config ({error})") from error
    else:
        word = state.get(BERT_PREFIX + "embeddings.word_embeddings.weight")
        if word is None:
            raise CheckpointError(file, f"no BERT weights ({BERT_PREFIX}*) in the checkpoint")
        layers = {
            int(match.group(1))
            for key in state
            if (match := re.match(re.escape(BERT_PREFIX) + r"encoder\.layer\.(\d+)\.", key))
        }
        hidden = int(word.shape[1])
        config = BertConfig(
            vocab_size=int(word.shape[0]),
            hidden_size=hidden,
            num_hidden_layers=max(layers) + 1 if layers else 0,
            num_attention_heads=cfg.text_heads or max(1, hidden // 64),
            intermediate_size=int(
                state[BERT_PREFIX + "encoder.layer.0.intermediate.dense.weight"].shape[0]
            )
            if layers
            else 4 * hidden,
            max_position_embeddings=int(
                state[BERT_PREFIX + "embeddings.position_embeddings.weight"].shape[0]
            ),
            type_vocab_size=int(
                state[BERT_PREFIX + "embeddings.token_type_embeddings.weight"].shape[0]
            ),
        )
    try:
        sizes = TextEncoderSizes.from_transformers(config.to_dict())
    except ConfigError as error:
        raise CheckpointError(file, f"the BERT in the checkpoint: {error.message}") from None
    count = cfg.parameter_count(sizes.hidden_size) + sizes.parameter_count(pooler=True)
    if count > MAX_PARAMETERS:
        raise CheckpointError(
            file, f"the network would have {count:,} parameters (at most {MAX_PARAMETERS:,})"
        )
    # the authors' transformers computed attention explicitly: same numbers, same boxes
    config._attn_implementation = "eager"
    return config


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name longer than the file system allows
        return False


def _tokenizer(text_dir: Path | None) -> Any | None:
    from costcore.model.linguistic_branch import load_tokenizer

    if text_dir is not None:
        try:
            return load_tokenizer(text_dir)
        except FormatError as error:
            raise CheckpointError(error.path, error.message) from error
    try:
        return load_tokenizer("bert-base-uncased", local_files_only=True)
    except (FormatError, OSError, ValueError):
        return None


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
    if text_model is not None:
        text_dir: Path | None = Path(text_model)
        if not _is_dir(text_dir):
            raise CheckpointError(text_dir, "text model folder not found")
    elif location.folder is not None:
        named = location.config.get("text_model", TEXT_FOLDER)
        where = location.config_path or location.folder
        candidate = location.folder / folder_entry(named, where, "text_model")
        text_dir = candidate if candidate.is_dir() else None
    else:
        text_dir = None
    bert_config = _bert_config(state, text_dir, cfg, location.file)
    encoder = BertModel(bert_config)
    network = VLTTTNet(cfg, encoder, int(bert_config.hidden_size))
    load_strict(network, location.file, state, "the VLT_TT network", VLTTTNet.OPTIONAL_BUFFERS)
    network = network.to(torch.device(device)).eval()
    tokenizer = _tokenizer(text_dir)
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
