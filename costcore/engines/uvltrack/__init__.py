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

from costcore.engines.bert_text import bert_config, load_bert_tokenizer, text_model_folder
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
    text_dir = text_model_folder(location, text_model)
    # BERT cut to the layers before the fusion blocks, as the authors cut it
    text_config = bert_config(state, BERT_PREFIX, text_dir, location.file, layers=cfg.text_layers)
    network = UVLTrackNet(cfg, BertModel(text_config))
    load_strict(network, location.file, state, "the UVLTrack network", UVLTrackNet.OPTIONAL_BUFFERS)
    network = network.to(torch.device(device)).eval()
    tokenizer = load_bert_tokenizer(text_dir)
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
