"""Every size of the COST network in one JSON-serialisable dataclass.

The defaults are the paper's (and TransT's) sizes. Tests shrink the ResNet, the transformers and
the text encoder through the same fields, so the code path they exercise is the real one.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costcore.errors import FormatError
from costcore.fileio import read_regular_text

#: what a fresh full model loads as its text encoder (from the hub or a local copy)
DEFAULT_TEXT_ENCODER = "bert-base-uncased"


@dataclass
class COSTConfig:
    """Hyper-parameters of COST (and of TransT, its visual-only special case).

    Text encoder: ``text_encoder`` is a hub name or a local folder loaded with
    ``from_pretrained``; when ``text_encoder_config`` (a ``transformers`` config dict, e.g.
    ``BertConfig().to_dict()``) is set instead, the encoder is built from it with random weights,
    which is what tests and benchmarks do (no network). ``tokenizer`` defaults to
    ``text_encoder``. Relative paths are resolved against the checkpoint folder when loading.
    """

    # --- visual branch: ResNet-50 up to layer3 (TransT) ---
    backbone_layers: list[int] = field(default_factory=lambda: [3, 4, 6])
    backbone_width: int = 64  # channels after conv1; layer3 outputs width * 16 channels
    layer3_dilation: int = 2  # only the first block of layer3 (TransT's code)
    # --- feature fusion network (TransT) ---
    hidden_dim: int = 256
    nheads: int = 8
    fusion_layers: int = 4
    dim_feedforward: int = 2048
    dropout: float = 0.1
    # --- crops ---
    template_size: int = 128
    search_size: int = 256
    template_factor: float = 2.0
    search_factor: float = 4.0
    backbone_stride: int = 8
    # --- COST: visual tokens from the fused search map ---
    token_convs: int = 3
    token_conv_kernel: int = 5
    # --- linguistic branch ---
    text_encoder: str | None = DEFAULT_TEXT_ENCODER
    text_encoder_config: dict[str, Any] | None = None
    tokenizer: str | None = None
    max_text_tokens: int = 40
    # --- contrastive alignment (training) ---
    coa_dim: int = 256
    coa_temperature: float = 0.5
    # --- visual-linguistic transformer ---
    vlt_layers: int = 6
    vlt_heads: int = 8
    vlt_feedforward: int = 2048
    vlt_dropout: float = 0.1
    # --- head ---
    head_layers: int = 3
    num_classes: int = 1  # target; logits have num_classes + 1 entries, index 0 = target
    # --- ablation "w/o LB": exactly TransT ---
    visual_only: bool = False

    def __post_init__(self) -> None:
        self.backbone_layers = [int(n) for n in self.backbone_layers]
        if len(self.backbone_layers) != 3 or min(self.backbone_layers) < 1:
            raise ValueError("backbone_layers needs three positive block counts (layer1..3)")
        if self.hidden_dim % 2 or self.hidden_dim % self.nheads:
            raise ValueError("hidden_dim must be even and divisible by nheads")
        for name in ("template_size", "search_size"):
            if getattr(self, name) % self.backbone_stride:
                raise ValueError(f"{name} must be a multiple of the backbone stride")
        if not self.visual_only and self.visual_token_side < 1:
            raise ValueError("search map too small for the visual-token convolutions")
        if self.max_text_tokens < 3:
            raise ValueError("max_text_tokens must leave room for [CLS], a word and [SEP]")

    # --- derived sizes ---
    @property
    def backbone_channels(self) -> int:
        """Channels of layer3 (Bottleneck expansion 4, three doublings): 1024 for ResNet-50."""
        return self.backbone_width * 16

    @property
    def search_feature_side(self) -> int:
        return self.search_size // self.backbone_stride

    @property
    def template_feature_side(self) -> int:
        return self.template_size // self.backbone_stride

    @property
    def visual_token_side(self) -> int:
        """Side of the visual-token map after the unpadded convs (32 -> 28 -> 24 -> 20)."""
        return self.search_feature_side - self.token_convs * (self.token_conv_kernel - 1)

    @property
    def score_map_side(self) -> int:
        """Side of the head's square score map: 20 for COST, 32 for visual-only (TransT)."""
        return self.search_feature_side if self.visual_only else self.visual_token_side

    # --- (de)serialisation ---
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> COSTConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown COSTConfig fields: {', '.join(unknown)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json_file(cls, path: str | Path) -> COSTConfig:
        """Read a config.json; any problem is a FormatError naming the file."""
        path = Path(path)
        try:
            data = json.loads(read_regular_text(path))
        except OSError as error:
            reason = error.strerror or error
            raise FormatError(path, f"cannot read model config ({reason})") from error
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise FormatError(path, f"model config is not valid JSON ({error})") from error
        if not isinstance(data, dict):
            raise FormatError(path, "model config must be a JSON object")
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as error:
            raise FormatError(path, f"invalid model config: {error}") from error

    @classmethod
    def transt(cls) -> COSTConfig:
        """TransT-R50 exactly (COST without the linguistic branch)."""
        return cls(visual_only=True, text_encoder=None)
