"""BERT as the text model of the vision-language engines that carry it (VLT_TT, UVLTrack).

Both authors keep BERT's weights inside the tracker checkpoint but take its config and
vocabulary from bert-base-uncased's files, so the engines share how they find those:

- the text folder: the one the caller names, else ``bert`` (or the config's ``text_model``)
  beside the weights;
- BERT's config: that folder's ``config.json``, else read off the checkpoint's tensors; its
  sizes are bounded (:class:`~costcore.model.config.TextEncoderSizes`) before anything is built;
- the tokenizer: from that folder, else bert-base-uncased from the local Hugging Face cache
  (never downloaded), else none (the engine then tracks without words);
- the token ids both authors feed BERT: ``[CLS] + word pieces + [SEP]``, zero-padded.

Nothing heavy is imported until a function runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costcore.engines.checkpoint_files import CheckpointLocation, folder_entry
from costcore.engines.errors import CheckpointError
from costcore.errors import ConfigError, FormatError
from costcore.frozen_config import read_json_object
from costcore.model.config import TextEncoderSizes

if TYPE_CHECKING:
    import torch
    from transformers import BertConfig

#: the text folder's name inside a weights folder, unless its config names another
TEXT_FOLDER = "bert"


def text_model_folder(location: CheckpointLocation, text_model: object) -> Path | None:
    """The folder with BERT's ``config.json`` and ``vocab.txt``: ``text_model`` when given (it
    must exist), else the weights folder's ``bert`` (or the one its config names) when it is
    there, else None."""
    if text_model is not None:
        folder = Path(text_model)  # type: ignore[arg-type]
        if not _is_dir(folder):
            raise CheckpointError(folder, "text model folder not found")
        return folder
    if location.folder is None:
        return None
    named = location.config.get("text_model", TEXT_FOLDER)
    where = location.config_path or location.folder
    candidate = location.folder / folder_entry(named, where, "text_model")
    return candidate if candidate.is_dir() else None


def bert_config(
    state: dict[str, Any],
    prefix: str,
    text_dir: Path | None,
    file: Path,
    heads: int | None = None,
    layers: int | None = None,
) -> BertConfig:
    """BERT's config: the text folder's ``config.json`` if there is one, else read off the
    tensors under ``prefix`` in ``state`` (``heads`` attention heads, by default one per 64
    channels, which the weights cannot tell). ``layers`` cuts it to its first layers (UVLTrack
    keeps those before its fusion blocks). The sizes are checked before anything is built."""
    config_file = None if text_dir is None else text_dir / "config.json"
    if config_file is not None and config_file.is_file():
        config = _folder_config(config_file)
    else:
        config = _config_from_weights(state, prefix, file, heads)
    if layers is not None:
        config.num_hidden_layers = layers
    try:
        TextEncoderSizes.from_transformers(config.to_dict())
    except ConfigError as error:
        raise CheckpointError(file, f"the BERT in the checkpoint: {error.message}") from None
    # the authors' BERT computed attention explicitly: the same numbers, the same boxes
    config._attn_implementation = "eager"
    return config


def load_bert_tokenizer(text_dir: Path | None) -> Any | None:
    """The tokenizer in ``text_dir``; without one, bert-base-uncased from the local Hugging
    Face cache only, or None when it is not there (a broken ``text_dir`` is an error)."""
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


def bert_token_ids(
    tokenizer: Any, text: str, length: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``[CLS] + word pieces + [SEP]`` (pieces cut to fit), zero-padded to ``length``, and its
    mask (1 for real tokens): both ``(1, length)`` long tensors on ``device``."""
    import torch

    tok = tokenizer
    pieces = tok.tokenize(text)[: length - 2]
    ids = [tok.cls_token_id, *tok.convert_tokens_to_ids(pieces), tok.sep_token_id]
    padding = length - len(ids)
    input_ids = torch.tensor([ids + [0] * padding], dtype=torch.long, device=device)
    mask = torch.tensor([[1] * len(ids) + [0] * padding], dtype=torch.long, device=device)
    return input_ids, mask


def _folder_config(path: Path) -> BertConfig:
    """A text folder's ``config.json``, its sizes checked before ``transformers`` reads it."""
    from transformers import BertConfig

    try:
        values = read_json_object(path, TextEncoderSizes.what)
        TextEncoderSizes.from_transformers(values, path)
    except ConfigError as error:
        raise CheckpointError(path, error.message) from None
    try:
        return BertConfig.from_dict(values)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise CheckpointError(path, f"not a BERT config ({error})") from error


def _config_from_weights(
    state: dict[str, Any], prefix: str, file: Path, heads: int | None
) -> BertConfig:
    """BERT's sizes as the tensors under ``prefix`` show them."""
    from transformers import BertConfig

    def tensor(name: str) -> Any:
        value = state.get(prefix + name)
        if value is None:
            raise CheckpointError(file, f"no {prefix}{name} in the checkpoint's BERT weights")
        return value

    word = state.get(prefix + "embeddings.word_embeddings.weight")
    if word is None:
        raise CheckpointError(file, f"no BERT weights ({prefix}*) in the checkpoint")
    layer = re.compile(re.escape(prefix) + r"encoder\.layer\.(\d+)\.")
    layers = {int(match.group(1)) for key in state if (match := layer.match(key))}
    hidden = int(word.shape[1])
    intermediate = state.get(prefix + "encoder.layer.0.intermediate.dense.weight")
    return BertConfig(
        vocab_size=int(word.shape[0]),
        hidden_size=hidden,
        num_hidden_layers=max(layers) + 1 if layers else 0,
        num_attention_heads=heads or max(1, hidden // 64),
        intermediate_size=4 * hidden if intermediate is None else int(intermediate.shape[0]),
        max_position_embeddings=int(tensor("embeddings.position_embeddings.weight").shape[0]),
        type_vocab_size=int(tensor("embeddings.token_type_embeddings.weight").shape[0]),
    )


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name longer than the file system allows
        return False
