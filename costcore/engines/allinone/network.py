"""All-in-One's network (Zhang et al., ACM MM 2023): OSTrack's one-stream ViT with candidate
elimination, a language token mixed into every image token, and a centre head.

Module and parameter names follow the authors' code (``backbone.*``, ``box_head.*``,
``language_embeddings.*``), so their checkpoints load strictly, key for key. The arithmetic
follows their code step for step (attention written out, not fused), so boxes match theirs.

What the tracker computes, top to bottom:

1. language: BERT *embeddings* only (no BERT encoder) of the description's token ids; only
   position 0, the ``[CLS]`` token, is kept. The words therefore do not change the output: a
   description switches the language vector on (``[CLS]``), none leaves ``[PAD]`` (id 0). Then
   ``language_proj`` and L2 normalisation: one vector ``l`` per video.
2. image tokens: 16 px patches of the template (128 px) and search region (256 px), each token
   ``t -> l * t + t`` ("modal mixup"), plus learned position embeddings.
3. ViT blocks over ``[template; search]``; after the blocks in ``ce_loc`` the search tokens the
   template attends to least are dropped (candidate elimination); a final LayerNorm; dropped
   tokens come back as zeros in their original places.
4. centre head on the 16 x 16 search map: centre score, offset and size maps.

``language_xz_proj``, ``vision_x_proj`` and ``vision_z_proj`` serve only the training loss
(multi-modal alignment); they are kept so the checkpoint loads strictly, and never run.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from costcore.engines.allinone.config import VIT_DEFAULT_WIDTH, AllInOneConfig
from costcore.engines.ostrack_layers import Block, PatchEmbed, conv_bn_relu


def candidate_elimination(
    attn: torch.Tensor,
    tokens: torch.Tensor,
    lens_t: int,
    keep_ratio: float,
    global_index: torch.Tensor,
    box_mask_z: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Keep the ``ceil(keep_ratio * L_s)`` search tokens the template attends to most.

    The ranking is the template-to-search attention averaged over the template tokens in
    ``box_mask_z`` (all of them when None) and over the heads. Returns the kept tokens (template
    first), the kept tokens' original indices and the removed ones' (None if nothing removed).
    """
    lens_s = attn.shape[-1] - lens_t
    batch, heads = attn.shape[:2]
    lens_keep = math.ceil(keep_ratio * lens_s)
    if lens_keep == lens_s:
        return tokens, global_index, None
    attn_t = attn[:, :, :lens_t, lens_t:]
    if box_mask_z is not None:
        mask = box_mask_z.unsqueeze(1).unsqueeze(-1).expand(-1, heads, -1, lens_s)
        attn_t = attn_t[mask].view(batch, heads, -1, lens_s)
    attn_t = attn_t.mean(dim=2).mean(dim=1)  # (B, L_s)
    # a full sort, not topk, as the authors do: the order of equal scores must match theirs
    _, indices = torch.sort(attn_t, dim=1, descending=True)
    keep_idx, removed_idx = indices[:, :lens_keep], indices[:, lens_keep:]
    keep_index = global_index.gather(dim=1, index=keep_idx)
    removed_index = global_index.gather(dim=1, index=removed_idx)
    tokens_t, tokens_s = tokens[:, :lens_t], tokens[:, lens_t:]
    channels = tokens_s.shape[-1]
    kept = tokens_s.gather(dim=1, index=keep_idx.unsqueeze(-1).expand(batch, -1, channels))
    return torch.cat([tokens_t, kept], dim=1), keep_index, removed_index


class CEBlock(Block):
    """OSTrack's ViT block with candidate elimination between attention and MLP."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, keep_ratio: float) -> None:
        super().__init__(dim, num_heads, mlp_ratio)
        self.keep_ratio = keep_ratio

    def forward(
        self,
        x: torch.Tensor,
        index_t: torch.Tensor,
        index_s: torch.Tensor,
        box_mask_z: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        x_attn, attn = self.attn(self.norm1(x))
        x = x + x_attn
        removed = None
        if self.keep_ratio < 1:
            x, index_s, removed = candidate_elimination(
                attn, x, index_t.shape[1], self.keep_ratio, index_s, box_mask_z
            )
        x = x + self.mlp(self.norm2(x))
        return x, index_s, removed


class VisionTransformerCE(nn.Module):
    """The one-stream backbone; ``backbone.*`` in checkpoints."""

    def __init__(self, config: AllInOneConfig) -> None:
        super().__init__()
        dim = config.embed_dim
        pretrain_tokens = (config.pretrain_image_size // config.patch_size) ** 2 + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, VIT_DEFAULT_WIDTH))  # unused
        self.pos_embed = nn.Parameter(torch.zeros(1, pretrain_tokens, dim))  # unused
        self.pos_embed_z = nn.Parameter(torch.zeros(1, config.template_feature_size**2, dim))
        self.pos_embed_x = nn.Parameter(torch.zeros(1, config.search_feature_size**2, dim))
        self.patch_embed = PatchEmbed(config.patch_size, dim)
        keep = dict(zip(config.ce_loc, config.ce_keep_ratio, strict=True))
        self.blocks = nn.Sequential(
            *(
                CEBlock(dim, config.num_heads, config.mlp_ratio, keep.get(i, 1.0))
                for i in range(config.depth)
            )
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.language_proj = nn.Linear(dim, dim)
        # training-only alignment projections (kept for strict loading; never run here)
        self.language_xz_proj = nn.Linear(dim, config.align_dim)
        self.vision_x_proj = nn.Linear(config.search_feature_size**2 * dim, config.align_dim)
        self.vision_z_proj = nn.Linear(config.template_feature_size**2 * dim, config.align_dim)
        self.ce_loc = tuple(config.ce_loc)

    def language_vector(self, embedding: torch.Tensor) -> torch.Tensor:
        """``(B, D)`` [CLS] embedding -> the normalised ``(B, 1, D)`` vector mixed into tokens."""
        dim = embedding.shape[-1]
        return F.normalize(self.language_proj(embedding.squeeze().reshape(-1, 1, dim)), dim=2)

    def embed(self, images: torch.Tensor, language: torch.Tensor, pos: torch.Tensor):
        """Patch tokens with the language mixed in (``l * t + t``) and positions added."""
        tokens = self.patch_embed(images)
        tokens = language.repeat(1, tokens.shape[1], 1) * tokens + tokens
        tokens += pos
        return tokens

    def forward(
        self, z_tokens: torch.Tensor, x_tokens: torch.Tensor, box_mask_z: torch.Tensor | None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Embedded template and search tokens -> ``[z; x]`` tokens, x in original order."""
        batch = x_tokens.shape[0]
        lens_z, lens_x = z_tokens.shape[1], x_tokens.shape[1]
        x = torch.cat((z_tokens, x_tokens), dim=1)
        device = x.device
        index_t = torch.linspace(0, lens_z - 1, lens_z).to(device).repeat(batch, 1)
        index_s = torch.linspace(0, lens_x - 1, lens_x).to(device).repeat(batch, 1)
        removed_indexes: list[torch.Tensor] = []
        for i, block in enumerate(self.blocks):
            x, index_s, removed = block(x, index_t, index_s, box_mask_z)
            if i in self.ce_loc and removed is not None:
                removed_indexes.append(removed)
        x = self.norm(x)
        lens_x_new, lens_z_new = index_s.shape[1], index_t.shape[1]
        z, x = x[:, :lens_z_new], x[:, lens_z_new:]
        if removed_indexes:
            # put the kept tokens back in their places; eliminated ones are zeros
            removed_all = torch.cat(removed_indexes, dim=1)
            pad = torch.zeros([batch, lens_x - lens_x_new, x.shape[2]], device=device)
            x = torch.cat([x, pad], dim=1)
            index_all = torch.cat([index_s, removed_all], dim=1)
            channels = x.shape[-1]
            index = index_all.unsqueeze(-1).expand(batch, -1, channels).to(torch.int64)
            x = torch.zeros_like(x).scatter_(dim=1, index=index, src=x)
        return torch.cat([z, x], dim=1), removed_indexes


class CenterPredictor(nn.Module):
    """OSTrack's centre head: three conv towers for centre score, offset and size."""

    def __init__(self, inplanes: int, channel: int, feat_size: int) -> None:
        super().__init__()
        self.feat_size = feat_size
        for branch, outputs in (("ctr", 1), ("offset", 2), ("size", 2)):
            widths = (inplanes, channel, channel // 2, channel // 4, channel // 8)
            for i in range(4):
                self.add_module(f"conv{i + 1}_{branch}", conv_bn_relu(widths[i], widths[i + 1]))
            self.add_module(f"conv5_{branch}", nn.Conv2d(channel // 8, outputs, kernel_size=1))

    def _tower(self, branch: str, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, 6):
            x = getattr(self, f"conv{i}_{branch}")(x)
        return x

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(score (B,1,H,W), size (B,2,H,W), offset (B,2,H,W))``; score and size in (0, 1)."""
        score = torch.clamp(self._tower("ctr", x).sigmoid_(), min=1e-4, max=1 - 1e-4)
        offset = self._tower("offset", x)
        size = torch.clamp(self._tower("size", x).sigmoid_(), min=1e-4, max=1 - 1e-4)
        return score, size, offset

    def box_at_max(
        self, response: torch.Tensor, size_map: torch.Tensor, offset_map: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Box (cx, cy, w, h in [0, 1] of the search crop) at the response's maximum."""
        side = self.feat_size
        _, idx = torch.max(response.flatten(1), dim=1, keepdim=True)
        idx_y = idx // side
        idx_x = idx % side
        gather = idx.unsqueeze(1).expand(idx.shape[0], 2, 1)
        size = size_map.flatten(2).gather(dim=2, index=gather)
        offset = offset_map.flatten(2).gather(dim=2, index=gather).squeeze(-1)
        box = torch.cat(
            [
                (idx_x.to(torch.float) + offset[:, :1]) / side,
                (idx_y.to(torch.float) + offset[:, 1:]) / side,
                size.squeeze(-1),
            ],
            dim=1,
        )
        return box, idx[:, 0]


class LanguageEmbeddings(nn.Module):
    """BERT's embedding layer (``transformers``' BertEmbeddings, same parameter names)."""

    def __init__(self, vocab_size: int, dim: int, max_positions: int) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.position_embeddings = nn.Embedding(max_positions, dim)
        self.token_type_embeddings = nn.Embedding(2, dim)
        self.LayerNorm = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        positions = torch.arange(length, device=input_ids.device).unsqueeze(0)
        types = torch.zeros_like(input_ids)
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(types)
        embeddings += self.position_embeddings(positions)
        return self.LayerNorm(embeddings)


class AllInOneNet(nn.Module):
    """The whole tracker network; ``state_dict()`` keys equal the authors' checkpoints'."""

    #: non-learned index buffers some transformers versions save; accepted and ignored
    OPTIONAL_BUFFERS = (
        "language_embeddings.position_ids",
        "language_embeddings.token_type_ids",
    )

    def __init__(self, config: AllInOneConfig) -> None:
        super().__init__()
        self.config = config
        self.backbone = VisionTransformerCE(config)
        self.box_head = CenterPredictor(
            config.embed_dim, config.head_channels, config.search_feature_size
        )
        self.language_embeddings = LanguageEmbeddings(
            config.vocab_size, config.embed_dim, config.max_text_tokens
        )

    def language_vector(self, has_text: bool, device: torch.device) -> torch.Tensor:
        """The language vector: from [CLS] when there is a description, else from [PAD] (0)."""
        ids = torch.zeros(1, self.config.max_text_tokens, dtype=torch.long, device=device)
        if has_text:
            ids[0, 0] = self.config.cls_token_id
        cls_embedding = self.language_embeddings(ids)[:, 0, :]
        return self.backbone.language_vector(cls_embedding)

    def template_tokens(self, template: torch.Tensor, language: torch.Tensor) -> torch.Tensor:
        return self.backbone.embed(template, language, self.backbone.pos_embed_z)

    def forward(
        self,
        z_tokens: torch.Tensor,
        search: torch.Tensor,
        language: torch.Tensor,
        box_mask_z: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Cached template tokens + a search crop -> (score, size, offset) maps."""
        x_tokens = self.backbone.embed(search, language, self.backbone.pos_embed_x)
        tokens, _ = self.backbone(z_tokens, x_tokens, box_mask_z)
        side = self.config.search_feature_size
        search_tokens = tokens[:, -side * side :]
        feature = search_tokens.unsqueeze(-1).permute((0, 3, 2, 1)).contiguous()
        feature = feature.view(-1, feature.shape[2], side, side)
        return self.box_head(feature)
