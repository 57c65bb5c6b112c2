"""Every size of the COST network in one frozen, checked, JSON-serialisable dataclass.

The defaults are the paper's (and TransT's) sizes. Tests shrink the ResNet, the transformers and
the text encoder through the same fields, so the code path they exercise is the real one. Each
field declares its limits (:mod:`costcore.frozen_config`), and the parameter count of the
network a config describes is computed from it - without building anything - and bounded, so a
bad ``config.json`` is one clear error, never an exception from deep inside torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from costcore.errors import ConfigError
from costcore.frozen_config import FrozenConfig, setting

#: what a fresh full model loads as its text encoder (from the hub or a local copy)
DEFAULT_TEXT_ENCODER = "bert-base-uncased"
#: the language width assumed for a text encoder known only by name (BERT-base)
DEFAULT_LANGUAGE_DIM = 768
#: the ResNet's output stride is fixed by its layers (conv1, max-pool, layer2)
BACKBONE_STRIDE = 8


@dataclass(frozen=True)
class TextEncoderSizes(FrozenConfig):
    """The sizes in a ``transformers`` BERT-like config (``config.json`` of a text encoder, or
    COST's ``text_encoder_config``): checked before the encoder is built. Other keys of such a
    config are left to ``transformers``; missing sizes take BERT-base's defaults, as
    ``BertConfig`` does."""

    what = "text encoder config"

    vocab_size: int = setting(30522, minimum=1, maximum=1_000_000)
    hidden_size: int = setting(768, minimum=1, maximum=8192)
    num_hidden_layers: int = setting(12, minimum=1, maximum=128)
    num_attention_heads: int = setting(12, minimum=1, maximum=256)
    intermediate_size: int = setting(3072, minimum=1, maximum=65536)
    max_position_embeddings: int = setting(512, minimum=1, maximum=65536)
    type_vocab_size: int = setting(2, minimum=1, maximum=1024)

    def validate(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise self.invalid(
                "hidden_size",
                f"{self.hidden_size} is not a multiple of num_attention_heads "
                f"({self.num_attention_heads})",
            )

    @classmethod
    def from_transformers(
        cls, values: Any, source: Any = None, prefix: str = ""
    ) -> TextEncoderSizes:
        """The sizes out of a whole ``transformers`` config dict (other keys ignored);
        ``prefix`` names where the dict sits in a bigger config, for messages."""
        if not isinstance(values, dict):
            raise ConfigError(source, "must be an object", prefix.rstrip(".") or None)
        model_type = values.get("model_type", "bert")
        if not isinstance(model_type, str) or not model_type:
            raise ConfigError(source, "must be a model type name", f"{prefix}model_type")
        names = {field.name for field in cls.__dataclass_fields__.values()}
        try:
            return cls.from_dict({k: v for k, v in values.items() if k in names}, source)
        except ConfigError as error:
            field = None if error.field is None else f"{prefix}{error.field}"
            raise ConfigError(error.path, error.detail, field, error.line, error.what) from None

    def parameter_count(self, pooler: bool = False) -> int:
        """Parameters of the encoder (BertModel; without its pooler unless ``pooler``)."""
        h, i = self.hidden_size, self.intermediate_size
        embeddings = (self.vocab_size + self.max_position_embeddings + self.type_vocab_size) * h
        embeddings += 2 * h  # LayerNorm
        layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
        return embeddings + self.num_hidden_layers * layer + (h * h + h if pooler else 0)


@dataclass(frozen=True)
class COSTConfig(FrozenConfig):
    """Hyper-parameters of COST (and of TransT, its visual-only special case).

    Text encoder: ``text_encoder`` is a hub name or a local folder loaded with
    ``from_pretrained``; when ``text_encoder_config`` (a ``transformers`` config dict, e.g.
    ``BertConfig().to_dict()``) is set instead, the encoder is built from it with random weights,
    which is what tests and benchmarks do (no network). ``tokenizer`` defaults to
    ``text_encoder``. Relative paths are resolved against the checkpoint folder when loading.
    """

    what = "COST model config"

    # --- visual branch: ResNet-50 up to layer3 (TransT) ---
    backbone_layers: tuple[int, ...] = setting((3, 4, 6), length=3, minimum=1, maximum=64)
    #: channels after conv1; layer3 outputs width * 16 channels
    backbone_width: int = setting(64, minimum=1, maximum=512)
    layer3_dilation: int = setting(2, minimum=1, maximum=16)  # only layer3's first block
    # --- feature fusion network (TransT) ---
    hidden_dim: int = setting(256, minimum=2, maximum=8192)
    nheads: int = setting(8, minimum=1, maximum=256)
    fusion_layers: int = setting(4, minimum=1, maximum=64)
    dim_feedforward: int = setting(2048, minimum=1, maximum=65536)
    dropout: float = setting(0.1, minimum=0.0, below=1.0)
    # --- crops ---
    template_size: int = setting(128, minimum=BACKBONE_STRIDE, maximum=1024)
    search_size: int = setting(256, minimum=BACKBONE_STRIDE, maximum=2048)
    template_factor: float = setting(2.0, above=0.0, maximum=64.0)
    search_factor: float = setting(4.0, above=0.0, maximum=64.0)
    backbone_stride: int = setting(BACKBONE_STRIDE, choices=(BACKBONE_STRIDE,))
    # --- COST: visual tokens from the fused search map ---
    token_convs: int = setting(3, minimum=0, maximum=64)
    token_conv_kernel: int = setting(5, minimum=1, maximum=31)
    # --- linguistic branch ---
    text_encoder: str | None = setting(DEFAULT_TEXT_ENCODER, path=True)
    text_encoder_config: dict[str, Any] | None = None
    tokenizer: str | None = setting(None, path=True)
    max_text_tokens: int = setting(40, minimum=3, maximum=512)
    # --- contrastive alignment (training) ---
    coa_dim: int = setting(256, minimum=1, maximum=8192)
    coa_temperature: float = setting(0.5, above=0.0, maximum=100.0)
    # --- visual-linguistic transformer ---
    vlt_layers: int = setting(6, minimum=1, maximum=64)
    vlt_heads: int = setting(8, minimum=1, maximum=256)
    vlt_feedforward: int = setting(2048, minimum=1, maximum=65536)
    vlt_dropout: float = setting(0.1, minimum=0.0, below=1.0)
    # --- head ---
    head_layers: int = setting(3, minimum=1, maximum=16)
    #: target classes; logits have num_classes + 1 entries, index 0 = target
    num_classes: int = setting(1, minimum=1, maximum=1000)
    # --- ablation "w/o LB": exactly TransT ---
    visual_only: bool = False

    def validate(self) -> None:
        if self.hidden_dim % 2:
            raise self.invalid(
                "hidden_dim", f"must be even (sine positions), not {self.hidden_dim}"
            )
        for heads in ("nheads", "vlt_heads"):
            if self.hidden_dim % getattr(self, heads):
                raise self.invalid(
                    "hidden_dim",
                    f"{self.hidden_dim} is not a multiple of {heads} ({getattr(self, heads)})",
                )
        for name in ("template_size", "search_size"):
            if getattr(self, name) % self.backbone_stride:
                raise self.invalid(
                    name, f"must be a multiple of the backbone stride ({self.backbone_stride})"
                )
        if self.visual_only:
            return
        if self.visual_token_side < 1:
            raise self.invalid(
                "token_convs",
                f"{self.token_convs} convolutions of size {self.token_conv_kernel} leave no "
                f"visual tokens of the {self.search_feature_side}-cell search map",
            )
        if self.text_encoder is None and self.text_encoder_config is None:
            raise self.invalid("text_encoder", "COST needs a text encoder (or text_encoder_config)")
        if not (self.tokenizer or self.text_encoder):
            raise self.invalid(
                "tokenizer", "COST needs a tokenizer (or a text_encoder to take it from)"
            )
        if self.text_encoder_config is not None:
            sizes = self.text_encoder_sizes()
            if sizes.max_position_embeddings < self.max_text_tokens:
                raise self.invalid(
                    "max_text_tokens",
                    f"{self.max_text_tokens} tokens do not fit the text encoder's "
                    f"{sizes.max_position_embeddings} positions",
                )

    def text_encoder_sizes(self) -> TextEncoderSizes:
        """The checked sizes of ``text_encoder_config``."""
        return TextEncoderSizes.from_transformers(
            self.text_encoder_config, prefix="text_encoder_config."
        )

    # --- derived sizes ---
    @property
    def backbone_channels(self) -> int:
        """Channels of layer3 (Bottleneck expansion 4, three doublings): 1024 for ResNet-50."""
        return self.backbone_width * 16

    @property
    def search_feature_side(self) -> int:
        return self.search_size // self.backbone_stride

    @property
    def visual_token_side(self) -> int:
        """Side of the visual-token map after the unpadded convs (32 -> 28 -> 24 -> 20)."""
        return self.search_feature_side - self.token_convs * (self.token_conv_kernel - 1)

    @property
    def score_map_side(self) -> int:
        """Side of the head's square score map: 20 for COST, 32 for visual-only (TransT)."""
        return self.search_feature_side if self.visual_only else self.visual_token_side

    def parameter_count(self) -> int:
        """Parameters of :class:`~costcore.model.COSTModel` for this config, from the sizes
        alone. The text encoder counts when ``text_encoder_config`` gives its sizes; one known
        only by name is taken as BERT-base's width and checked when it is loaded."""
        d, f = self.hidden_dim, self.dim_feedforward
        count = _resnet_parameters(self.backbone_layers, self.backbone_width)
        count += self.backbone_channels * d + d  # input_proj
        attention = 4 * d * d + 4 * d
        fusion_layer = 4 * attention + 2 * (d * f + f + f * d + d) + 6 * 2 * d
        decoder = attention + (d * f + f + f * d + d) + 2 * 2 * d + 2 * d
        count += self.fusion_layers * fusion_layer + decoder
        count += 2 * (self.head_layers - 1) * (d * d + d)  # class_embed and bbox_embed
        count += d * (self.num_classes + 1) + self.num_classes + 1 + d * 4 + 4
        if self.visual_only:
            return count
        k = self.token_conv_kernel
        count += self.token_convs * (d * d * k * k + d)
        language_dim = DEFAULT_LANGUAGE_DIM
        if self.text_encoder_config is not None:
            sizes = self.text_encoder_sizes()
            language_dim = sizes.hidden_size
            count += sizes.parameter_count()
        count += (d * self.coa_dim + self.coa_dim) + (language_dim * self.coa_dim + self.coa_dim)
        v = self.vlt_feedforward
        tokens = 1 + self.visual_token_side**2 + self.max_text_tokens
        count += (d * d + d) + (language_dim * d + d) + d + tokens * d
        count += self.vlt_layers * (attention + (d * v + v) + (v * d + d) + 2 * 2 * d)
        return count

    @classmethod
    def transt(cls) -> COSTConfig:
        """TransT-R50 exactly (COST without the linguistic branch)."""
        return cls(visual_only=True, text_encoder=None)


def _resnet_parameters(layers: tuple[int, ...], width: int) -> int:
    """conv1, bn1 and three bottleneck stages (expansion 4) of TransT's ResNet body."""

    def bottleneck(inplanes: int, planes: int, downsample: bool) -> int:
        out = 4 * planes
        count = inplanes * planes + planes * planes * 9 + planes * out  # conv1..3, no bias
        count += 2 * (planes + planes + out)  # bn1..3
        return count + (inplanes * out + 2 * out if downsample else 0)

    count = 3 * width * 49 + 2 * width
    inplanes = width
    for stage, blocks in enumerate(layers):
        planes = width * 2**stage
        count += bottleneck(inplanes, planes, True)  # every stage changes width or stride
        count += (blocks - 1) * bottleneck(4 * planes, planes, False)
        inplanes = 4 * planes
    return count
