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

from dataclasses import dataclass

from costcore.frozen_config import FrozenConfig, setting

CE_TEMPLATE_RANGES = ("ALL", "CTR_POINT", "CTR_REC", "GT_BOX")
#: the width of the unused ``cls_token`` every checkpoint carries (ViT-B's, whatever the width)
VIT_DEFAULT_WIDTH = 768


@dataclass(frozen=True)
class AllInOneConfig(FrozenConfig):
    """Everything the network and the tracker need besides the weights."""

    what = "All-in-One config"
    #: keys a checkpoint folder's config.json may hold that are not network fields
    ignored_keys = ("engine", "weights")

    embed_dim: int = setting(768, minimum=1, maximum=8192)
    depth: int = setting(12, minimum=1, maximum=128)
    num_heads: int = setting(12, minimum=1, maximum=256)
    mlp_ratio: float = setting(4.0, above=0.0, maximum=64.0)
    patch_size: int = setting(16, minimum=1, maximum=128)
    #: candidate elimination: after which blocks (0-based) and the share of search tokens kept
    ce_loc: tuple[int, ...] = setting((3, 6, 9), minimum=0, maximum=127)
    ce_keep_ratio: tuple[float, ...] = setting((0.7, 0.7, 0.7), above=0.0, maximum=1.0)
    #: which template tokens rank the search tokens: ALL, CTR_POINT, CTR_REC or GT_BOX
    ce_template_range: str = setting("CTR_POINT", choices=CE_TEMPLATE_RANGES)
    head_channels: int = setting(256, minimum=8, maximum=8192)
    #: output width of the (training-only) alignment projections, kept for strict loading
    align_dim: int = setting(256, minimum=1, maximum=8192)
    #: BertEmbeddings of the language token: vocabulary, positions (All-in-One: 40 tokens)
    vocab_size: int = setting(30522, minimum=1, maximum=1_000_000)
    max_text_tokens: int = setting(40, minimum=1, maximum=512)
    #: the token whose embedding carries the language: [CLS] of bert-base-uncased's vocabulary
    cls_token_id: int = setting(101, minimum=0, maximum=1_000_000)
    #: the ViT was built for 224 px images: an unused 197-entry pos_embed stays in checkpoints
    pretrain_image_size: int = setting(224, minimum=1, maximum=4096)
    template_size: int = setting(128, minimum=1, maximum=1024)
    template_factor: float = setting(2.0, above=0.0, maximum=64.0)
    search_size: int = setting(256, minimum=1, maximum=2048)
    search_factor: float = setting(4.0, above=0.0, maximum=64.0)

    def validate(self) -> None:
        if self.embed_dim % self.num_heads:
            raise self.invalid(
                "embed_dim", f"{self.embed_dim} is not a multiple of num_heads ({self.num_heads})"
            )
        if int(self.embed_dim * self.mlp_ratio) < 1:
            raise self.invalid("mlp_ratio", "leaves the MLP without a hidden unit")
        if len(self.ce_loc) != len(self.ce_keep_ratio):
            raise self.invalid("ce_keep_ratio", "needs one ratio per entry of ce_loc")
        if any(block >= self.depth for block in self.ce_loc):
            raise self.invalid("ce_loc", f"must name blocks 0..{self.depth - 1}")
        if self.head_channels % 8:
            raise self.invalid("head_channels", "must be a multiple of 8 (the head halves it 3x)")
        if self.cls_token_id >= self.vocab_size:
            raise self.invalid("cls_token_id", f"is not in the vocabulary of {self.vocab_size}")
        for name in ("template_size", "search_size", "pretrain_image_size"):
            if getattr(self, name) % self.patch_size:
                raise self.invalid(name, f"must be a multiple of patch_size ({self.patch_size})")

    @property
    def search_feature_size(self) -> int:
        """Side of the score map (16 for 256 px crops and 16 px patches)."""
        return self.search_size // self.patch_size

    @property
    def template_feature_size(self) -> int:
        return self.template_size // self.patch_size

    def parameter_count(self) -> int:
        """Parameters of :class:`~costcore.engines.allinone.network.AllInOneNet`."""
        d, p = self.embed_dim, self.patch_size
        z, x = self.template_feature_size**2, self.search_feature_size**2
        pretrain_tokens = (self.pretrain_image_size // p) ** 2 + 1
        hidden = int(d * self.mlp_ratio)
        count = VIT_DEFAULT_WIDTH + (pretrain_tokens + z + x) * d  # cls_token, pos_embed*
        count += 3 * p * p * d + d  # patch_embed
        block = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * hidden + hidden)
        block += hidden * d + d
        count += self.depth * block + 2 * d  # blocks, norm
        count += d * d + d  # language_proj
        a = self.align_dim
        count += (d * a + a) + (x * d * a + a) + (z * d * a + a)
        c = self.head_channels
        widths = (d, c, c // 2, c // 4, c // 8)
        tower = sum(9 * widths[i] * widths[i + 1] + widths[i + 1] * 3 for i in range(4))
        count += sum(tower + (c // 8) * out + out for out in (1, 2, 2))
        count += (self.vocab_size + self.max_text_tokens + 2) * d + 2 * d  # language embeddings
        return count
