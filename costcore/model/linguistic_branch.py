"""Linguistic branch: BERT features of the target's description, computed once per video.

A description becomes ``[CLS] + at most max_tokens - 2 word pieces + [SEP]``, padded to
``max_tokens`` (40) with a mask; we truncate the word pieces ourselves so the rule does not
depend on tokenizer options or library versions. The language features are the average of the
outputs of the encoder's layers: ``hidden_states[1:]`` (12 layers for BERT-base). The embedding
output ``hidden_states[0]`` is *excluded*: the paper averages "the outputs of the layers" and the
embedding layer is not a transformer layer. Result: ``(B, 40, 768)`` plus the mask.

The pooler of BERT is not used by COST, so encoders are built without it (a parameter that gets
no gradient breaks DistributedDataParallel); this is why BERT-base counts 108.9 M here, not the
usual 109.5 M.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from costcore.errors import ConfigError, FormatError
from costcore.frozen_config import read_json_object
from costcore.model.config import TextEncoderSizes


@dataclass
class LanguageState:
    """Encoded descriptions; cached by the tracker for the whole video."""

    features: torch.Tensor  # (B, L, D) average of the encoder layers' outputs
    mask: torch.Tensor  # (B, L) bool, True for real tokens ([CLS], words, [SEP])
    input_ids: torch.Tensor  # (B, L)


class LinguisticBranch(nn.Module):
    """Tokenizer + text encoder (``encoder`` is a ``transformers`` model such as BertModel)."""

    def __init__(self, encoder: nn.Module, tokenizer: Any, max_tokens: int = 40) -> None:
        super().__init__()
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        for name in ("cls_token_id", "sep_token_id", "pad_token_id"):
            if getattr(tokenizer, name, None) is None:
                raise ValueError(f"the tokenizer has no {name.removesuffix('_id')} token")

    @property
    def dim(self) -> int:
        return int(self.encoder.config.hidden_size)

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(input_ids, mask)`` of shape ``(B, max_tokens)``; long texts are cut to fit."""
        tok = self.tokenizer
        rows, masks = [], []
        for text in texts:
            pieces = tok.tokenize(text.strip())[: self.max_tokens - 2]
            ids = [tok.cls_token_id, *tok.convert_tokens_to_ids(pieces), tok.sep_token_id]
            padding = self.max_tokens - len(ids)
            rows.append(ids + [tok.pad_token_id] * padding)
            masks.append([True] * len(ids) + [False] * padding)
        return torch.tensor(rows, dtype=torch.long), torch.tensor(masks, dtype=torch.bool)

    def forward(self, texts: Sequence[str]) -> LanguageState:
        if isinstance(texts, str):
            raise TypeError("pass a list of descriptions, not a single string")
        input_ids, mask = self.tokenize(list(texts))
        device = next(self.encoder.parameters()).device
        input_ids, mask = input_ids.to(device), mask.to(device)
        outputs = self.encoder(
            input_ids=input_ids,
            attention_mask=mask.long(),
            token_type_ids=torch.zeros_like(input_ids),
            output_hidden_states=True,
            return_dict=True,
        )
        layer_outputs = torch.stack(tuple(outputs.hidden_states[1:]), dim=0)
        return LanguageState(features=layer_outputs.mean(dim=0), mask=mask, input_ids=input_ids)


# --- building the encoder and tokenizer -------------------------------------------------------


def _without_pooler(factory: Any, *args: Any, **kwargs: Any) -> nn.Module:
    """Build a model without its pooler when the architecture has one (BERT, RoBERTa...)."""
    try:
        return factory(*args, add_pooling_layer=False, **kwargs)
    except TypeError:
        return factory(*args, **kwargs)


def text_encoder_from_config(config: dict[str, Any]) -> nn.Module:
    """A randomly initialised encoder from a ``transformers`` config dict (no download).

    The sizes are checked first (:class:`TextEncoderSizes`); whatever else ``transformers``
    refuses in the dict is a :class:`ConfigError` naming ``text_encoder_config``.
    """
    from transformers import AutoConfig, AutoModel

    field = "text_encoder_config"
    TextEncoderSizes.from_transformers(config, prefix=f"{field}.")
    settings = dict(config)
    model_type = settings.pop("model_type", "bert")
    try:
        encoder_config = AutoConfig.for_model(model_type, **settings)
        return _without_pooler(AutoModel.from_config, encoder_config)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        message = f"transformers cannot build this text encoder ({type(error).__name__}: {error})"
        raise ConfigError(None, message, field, what="COST model config") from error


def load_text_encoder(name_or_path: str | Path, local_files_only: bool = False) -> nn.Module:
    """``AutoModel.from_pretrained`` of a hub name (e.g. "bert-base-uncased") or a folder.

    A folder's ``config.json`` is read and its sizes checked (:class:`TextEncoderSizes`) before
    anything is allocated.
    """
    from transformers import AutoModel

    folder_config = Path(name_or_path) / "config.json"
    if _is_file(folder_config):
        sizes = read_json_object(folder_config, TextEncoderSizes.what)
        TextEncoderSizes.from_transformers(sizes, folder_config)
    try:
        return _without_pooler(
            AutoModel.from_pretrained, str(name_or_path), local_files_only=local_files_only
        )
    except (OSError, ValueError) as error:
        raise FormatError(name_or_path, f"cannot load the text encoder: {error}") from error


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system: not a local file
        return False


def load_tokenizer(name_or_path: str | Path, local_files_only: bool = False) -> Any:
    """A tokenizer from a hub name, a saved folder, or a bare WordPiece vocabulary file.

    A bare vocabulary (a ``.txt`` file, or a folder holding only ``vocab.txt``) is read as an
    uncased BERT tokenizer: that is how tests build a tiny tokenizer without any download.
    """
    from transformers import AutoTokenizer

    path = Path(name_or_path)
    try:
        if _is_file(path):
            return bert_tokenizer_from_vocab(path)
        if _is_file(path / "vocab.txt") and not _is_file(path / "tokenizer_config.json"):
            return bert_tokenizer_from_vocab(path / "vocab.txt")
        return AutoTokenizer.from_pretrained(str(name_or_path), local_files_only=local_files_only)
    except (OSError, ValueError) as error:
        raise FormatError(name_or_path, f"cannot load the tokenizer: {error}") from error


def bert_tokenizer_from_vocab(vocab_file: str | Path) -> Any:
    """``BertTokenizerFast`` over a vocab.txt (the keyword changed between transformers 4 and 5)."""
    import inspect

    from transformers import BertTokenizerFast

    parameters = inspect.signature(BertTokenizerFast.__init__).parameters
    keyword = "vocab_file" if "vocab_file" in parameters else "vocab"
    return BertTokenizerFast(**{keyword: str(vocab_file)})
