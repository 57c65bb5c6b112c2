"""UVLTrack's configuration: network widths, where language joins the ViT, crops, test settings.

Defaults are the released UVLTrack-B (``experiments/uvltrack/baseline_base.yaml`` of
github.com/OpenSpaceAI/UVLTrack): an MAE ViT-B/16 (768 wide, 12 blocks, 12 heads) whose blocks
6-11 see the image and the description's tokens together (``FUSION_LAYER``), BERT-base cut to
its first 6 layers for the text before that, the modality-adaptive box head with 256 channels;
template 128 px at factor 2, search region 256 px at factor 4; the contrastive prompts are
renewed every 20 frames from the best frame when its score passed 0.5. :data:`PRESETS` holds
UVLTrack-L (``baseline_large.yaml``: ViT-L, BERT-large's first 12 layers, search factor 5).

A checkpoint folder may hold a ``config.json`` with any of these fields (a tiny test network);
the weights' shapes are checked against it strictly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from costcore.errors import FormatError

TEXT_TOKEN_MODES = ("cls", "mean")


@dataclass
class UVLTrackConfig:
    """Everything the network and the tracker need besides the weights."""

    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    #: the ViT blocks that take the text tokens too: the last ones (the authors' FUSION_LAYER);
    #: BERT keeps as many layers as there are blocks before them
    fusion_layers: list[int] = field(default_factory=lambda: list(range(6, 12)))
    #: which text feature stands for the description: [CLS] ("cls") or the mean of its tokens
    text_token_mode: str = "cls"
    head_channels: int = 256
    #: the score branch multiplies the search features by the reference token first
    cls_tokenize: bool = False
    offset_sigmoid: bool = True
    #: the contrastive score gets a constant zero logit as a third class ("softmax one")
    softmax_one: bool = True
    #: token ids per description: [CLS] + word pieces + [SEP], zero-padded
    max_text_tokens: int = 40
    template_size: int = 128
    template_factor: float = 2.0
    search_size: int = 256
    search_factor: float = 4.0
    #: the contrastive score weighs the score map and the prompts are renewed (CONT_WEIGHT > 0)
    contrastive_score: bool = True
    update_interval: int = 20
    update_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.embed_dim % self.num_heads:
            raise ValueError("embed_dim must be a multiple of num_heads")
        layers = list(self.fusion_layers)
        if not layers or layers != list(range(layers[0], self.depth)):
            raise ValueError(
                f"fusion_layers must be the last blocks, k..{self.depth - 1} (got {layers})"
            )
        if self.text_token_mode not in TEXT_TOKEN_MODES:
            raise ValueError(f"text_token_mode must be one of {', '.join(TEXT_TOKEN_MODES)}")
        if self.head_channels % 8:
            raise ValueError("head_channels must be a multiple of 8")
        for size in (self.template_size, self.search_size):
            if size % self.patch_size:
                raise ValueError("template and search sizes must be multiples of the patch size")
        if self.max_text_tokens < 2:
            raise ValueError("max_text_tokens must leave room for [CLS] and [SEP]")
        if self.update_interval < 1:
            raise ValueError("update_interval must be at least 1")

    @property
    def text_layers(self) -> int:
        """BERT layers kept: those that run before the first fusion block."""
        return int(self.fusion_layers[0])

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
    def from_dict(cls, values: dict[str, Any], source: str | Path = "config") -> UVLTrackConfig:
        """Known fields, plus ``preset`` ("base" or "large", which explicit values override);
        anything else is an error naming ``source``."""
        values = dict(values)
        preset = values.pop("preset", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise FormatError(source, f"unknown UVLTrack config fields: {', '.join(unknown)}")
        if preset is not None:
            if preset not in PRESETS:
                raise FormatError(
                    source, f"unknown UVLTrack preset {preset!r}; known: {', '.join(PRESETS)}"
                )
            values = {**PRESETS[preset], **values}
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise FormatError(source, f"bad UVLTrack config: {error}") from error

    @classmethod
    def from_json(cls, path: str | Path) -> UVLTrackConfig:
        path = Path(path)
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise FormatError(path, f"cannot read the config ({error})") from error
        if not isinstance(values, dict):
            raise FormatError(path, "the config must be a JSON object")
        for key in ("engine", "weights", "text_model"):
            values.pop(key, None)
        return cls.from_dict(values, path)


#: the released networks: UVLTrack-B (the defaults) and UVLTrack-L
PRESETS: dict[str, dict[str, Any]] = {
    "base": {},
    "large": {
        "embed_dim": 1024,
        "depth": 24,
        "num_heads": 16,
        "fusion_layers": list(range(12, 24)),
        "search_factor": 5.0,
    },
}
