"""UVLTrack (github.com/OpenSpaceAI/UVLTrack, AAAI 2024) as a tracking engine.

Registered as ``"uvltrack"``; it can find the target from a sentence alone
(:meth:`~costcore.engines.base.TrackerEngine.ground`), so it runs in the authors' three
reference modes: BBOX (a box), NLBBOX (a box and a sentence) and NL (a sentence: ground on the
first frame, then track). See :mod:`costcore.engines.uvltrack.tracker`.

Weights: the authors' released checkpoint (``UVLTrack_ep0300.pth.tar``: a pickled dict with the
weights under ``"net"``; the first BERT layers are part of it), read by the project's safe
loader and loaded strictly with the authors' key names; or a folder holding such a file, an
optional ``config.json`` (:class:`UVLTrackConfig` fields, or ``"preset": "large"``) and a
``bert`` subfolder with the text model's ``config.json`` and ``vocab.txt`` (bert-base-uncased's
files; its weights are not needed). Without a config, a 1024-wide checkpoint is UVLTrack-L.

Options: ``config`` (dict or JSON file) overrides any field, ``text_model`` names the folder with
BERT's config and vocabulary, ``mode`` is "auto" (the sentence is used when there is one),
"bbox" (never) or "nlbbox" (always; a missing sentence is an error). Without a text folder the
BERT shape is read from the checkpoint and the tokenizer looked up as ``bert-base-uncased`` in
the local Hugging Face cache (never downloaded); without a tokenizer the engine still tracks a
box, but refuses a sentence.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from costcore.engines.checkpoint_files import (
    CheckpointLocation,
    checkpoint_summary,
    config_values,
    load_strict,
    locate_checkpoint,
    read_checkpoint,
)
from costcore.engines.engine_device import engine_device
from costcore.engines.errors import CheckpointError, EngineError
from costcore.engines.uvltrack.config import PRESETS, UVLTrackConfig
from costcore.errors import FormatError

__all__ = ["PRESETS", "UVLTrackConfig", "create_uvltrack_engine", "load_uvltrack"]

BERT_PREFIX = "backbone.bert."
TEXT_FOLDER = "bert"
PATCH_EMBED = "backbone.vit.patch_embed.proj.weight"


def _config(location: CheckpointLocation, override: object, state: dict) -> UVLTrackConfig:
    values, where = config_values(
        location, override, "uvltrack", ("engine", "weights", "text_model")
    )
    if not values and PATCH_EMBED in state and int(state[PATCH_EMBED].shape[0]) == 1024:
        values = {"preset": "large"}  # a bare released UVLTrack-L checkpoint
    try:
        return UVLTrackConfig.from_dict(values, where)
    except FormatError as error:
        raise CheckpointError(error.path, error.message) from error


def _text_folder(location: CheckpointLocation, text_model: object) -> Path | None:
    if text_model is not None:
        folder = Path(text_model)  # type: ignore[arg-type]
        if not folder.is_dir():
            raise CheckpointError(folder, "text model folder not found")
        return folder
    if location.folder is None:
        return None
    candidate = location.folder / str(location.config.get("text_model", TEXT_FOLDER))
    return candidate if candidate.is_dir() else None


def _bert_config(state: dict[str, Any], text_dir: Path | None, cfg: UVLTrackConfig, file: Path):
    """BERT's config (the text folder's ``config.json``, else read off the weights), cut to
    the layers that run before the fusion blocks, as the authors cut it."""
    from transformers import BertConfig

    if text_dir is not None and (text_dir / "config.json").is_file():
        try:
            config = BertConfig.from_json_file(str(text_dir / "config.json"))
        except (OSError, ValueError) as error:
            raise CheckpointError(
                text_dir / "config.json", f"not a BERT config ({error})"
            ) from error
    else:
        word = state.get(BERT_PREFIX + "embeddings.word_embeddings.weight")
        if word is None:
            raise CheckpointError(file, f"no BERT weights ({BERT_PREFIX}*) in the checkpoint")
        layer = BERT_PREFIX + "encoder.layer.0.intermediate.dense.weight"
        hidden = int(word.shape[1])
        config = BertConfig(
            vocab_size=int(word.shape[0]),
            hidden_size=hidden,
            num_attention_heads=max(1, hidden // 64),
            intermediate_size=int(state[layer].shape[0]) if layer in state else 4 * hidden,
            max_position_embeddings=int(
                state[BERT_PREFIX + "embeddings.position_embeddings.weight"].shape[0]
            ),
            type_vocab_size=int(
                state[BERT_PREFIX + "embeddings.token_type_embeddings.weight"].shape[0]
            ),
        )
    config.num_hidden_layers = cfg.text_layers
    # the authors' BERT computes attention explicitly: the same numbers, the same boxes
    config._attn_implementation = "eager"
    return config


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


def load_uvltrack(
    weights: str | PathLike[str],
    config: object = None,
    text_model: str | PathLike[str] | None = None,
    device: str = "cpu",
):
    """(network in eval mode, tokenizer or None, one-line summary)."""
    import torch
    from transformers import BertModel

    from costcore.engines.uvltrack.network import UVLTrackNet

    location = locate_checkpoint(weights, "UVLTrack")
    state, report = read_checkpoint(location.file)
    cfg = _config(location, config, state)
    text_dir = _text_folder(location, text_model)
    bert_config = _bert_config(state, text_dir, cfg, location.file)
    network = UVLTrackNet(cfg, BertModel(bert_config))
    load_strict(network, location.file, state, "the UVLTrack network", UVLTrackNet.OPTIONAL_BUFFERS)
    network = network.to(torch.device(device)).eval()
    tokenizer = _tokenizer(text_dir)
    note = "" if tokenizer is not None else "no tokenizer: box only"
    summary = checkpoint_summary(report, f"ViT {cfg.embed_dim}x{cfg.depth}", note)
    return network, tokenizer, summary


def create_uvltrack_engine(
    weights: str | PathLike[str],
    device: str = "auto",
    config: object = None,
    text_model: str | PathLike[str] | None = None,
    mode: str = "auto",
):
    """Registry factory for ``"uvltrack"``: ``weights`` is a checkpoint file or folder."""
    resolved = engine_device("UVLTrack", device, ("torch", "transformers"))
    from costcore.engines.uvltrack.tracker import MODES, UVLTrackTracker

    if mode not in MODES:
        raise EngineError(f"uvltrack: mode must be one of {', '.join(MODES)}, got {mode!r}")
    network, tokenizer, summary = load_uvltrack(weights, config, text_model, str(resolved))
    return UVLTrackTracker(network, tokenizer, resolved, summary, mode=mode)
