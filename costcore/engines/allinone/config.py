"""All-in-One's configuration: network widths, candidate elimination, crop geometry.

Defaults are the released tracker (``experiments/ostrack/vitb_256_mae_ce_32x4_ep300.yaml`` of
github.com/983632847/All-in-One): ViT-B/16 (768 wide, 12 blocks, 12 heads), candidate
elimination after blocks 3, 6 and 9 keeping 70 % of the search tokens, ranked by the attention
of the template's centre token (``CTR_POINT``); template 128 px at factor 2, search 256 px at
factor 4; centre head with 256 channels. A checkpoint folder may hold a ``config.json`` with
any of these fields (a tiny test network, a 384 px variant); the weights' shapes are checked
against it strictly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from costcore.errors import FormatError
from costcore.fileio import read_regular_text

CE_TEMPLATE_RANGES = ("ALL", "CTR_POINT", "CTR_REC", "GT_BOX")


@dataclass
class AllInOneConfig:
    """Everything the network and the tracker need besides the weights."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    #: candidate elimination: after which blocks (0-based) and the share of search tokens kept
    ce_loc: list[int] = field(default_factory=lambda: [3, 6, 9])
    ce_keep_ratio: list[float] = field(default_factory=lambda: [0.7, 0.7, 0.7])
    #: which template tokens rank the search tokens: ALL, CTR_POINT, CTR_REC or GT_BOX
    ce_template_range: str = "CTR_POINT"
    head_channels: int = 256
    #: output width of the (training-only) alignment projections, kept for strict loading
    align_dim: int = 256
    #: BertEmbeddings of the language token: vocabulary, positions (All-in-One: 40 tokens)
    vocab_size: int = 30522
    max_text_tokens: int = 40
    #: the token whose embedding carries the language: [CLS] of bert-base-uncased's vocabulary
    cls_token_id: int = 101
    #: the ViT was built for 224 px images: an unused 197-entry pos_embed stays in checkpoints
    pretrain_image_size: int = 224
    template_size: int = 128
    template_factor: float = 2.0
    search_size: int = 256
    search_factor: float = 4.0

    def __post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            raise ValueError("embed_dim must be a multiple of num_heads")
        if len(self.ce_loc) != len(self.ce_keep_ratio):
            raise ValueError("ce_loc and ce_keep_ratio must have the same length")
        if any(not 0 <= block < self.depth for block in self.ce_loc):
            raise ValueError(f"ce_loc must name blocks 0..{self.depth - 1}")
        if self.ce_template_range not in CE_TEMPLATE_RANGES:
            raise ValueError(f"ce_template_range must be one of {', '.join(CE_TEMPLATE_RANGES)}")
        for size in (self.template_size, self.search_size):
            if size % self.patch_size:
                raise ValueError("template and search sizes must be multiples of the patch size")

    @property
    def search_feature_size(self) -> int:
        """Side of the score map (16 for 256 px crops and 16 px patches)."""
        return self.search_size // self.patch_size

    @property
    def template_feature_size(self) -> int:
        return self.template_size // self.patch_size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | Path = "config") -> AllInOneConfig:
        """Known fields only; an unknown field or a bad value is an error naming ``source``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise FormatError(source, f"unknown All-in-One config fields: {', '.join(unknown)}")
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise FormatError(source, f"bad All-in-One config: {error}") from error

    @classmethod
    def from_json(cls, path: str | Path) -> AllInOneConfig:
        path = Path(path)
        try:
            values = json.loads(read_regular_text(path))
        except (OSError, ValueError) as error:
            raise FormatError(path, f"cannot read the config ({error})") from error
        if not isinstance(values, dict):
            raise FormatError(path, "the config must be a JSON object")
        values.pop("engine", None)
        values.pop("weights", None)
        return cls.from_dict(values, path)
