"""Visual-linguistic transformer: one stack of encoders over [OBJ], visual and language tokens.

Visual (400 x 256) and language (40 x 768) tokens are projected to ``d_model`` by linear layers,
a learnable [OBJ] token is put in front, learnable position embeddings (one per slot) are added,
and ``num_layers`` post-norm transformer encoder layers (DETR/TransVG style) mix everything. The
language padding is hidden with a key-padding mask. The head reads the visual slots; the [OBJ]
output is returned too, for training objectives that want a summary token.
"""

from __future__ import annotations

import torch
from torch import nn


class VisualLinguisticTransformer(nn.Module):
    def __init__(
        self,
        visual_dim: int,
        language_dim: int,
        num_visual_tokens: int,
        num_language_tokens: int,
        d_model: int = 256,
        nhead: int = 8,
        num_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.num_visual_tokens = num_visual_tokens
        self.num_language_tokens = num_language_tokens
        self.visual_proj = nn.Linear(visual_dim, d_model)
        self.language_proj = nn.Linear(language_dim, d_model)
        self.obj_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, 1 + num_visual_tokens + num_language_tokens, d_model)
        )
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward, dropout, activation="relu", batch_first=True
        )
        # no nested tensors: padded language slots must keep a defined (not zeroed) output
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        nn.init.trunc_normal_(self.obj_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def forward(
        self,
        visual_tokens: torch.Tensor,
        language_features: torch.Tensor,
        language_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns ``(visual slots (B, N_v, d), [OBJ] slot (B, d))``."""
        batch = visual_tokens.shape[0]
        visual = self.visual_proj(visual_tokens)
        language = self.language_proj(language_features.to(visual.dtype))
        obj = self.obj_token.expand(batch, -1, -1).to(visual.dtype)
        tokens = torch.cat((obj, visual, language), dim=1) + self.pos_embed.to(visual.dtype)
        real = torch.ones(batch, 1 + visual.shape[1], dtype=torch.bool, device=visual.device)
        padding = ~torch.cat((real, language_mask.to(torch.bool)), dim=1)
        out = self.encoder(tokens, src_key_padding_mask=padding)
        return out[:, 1 : 1 + visual.shape[1]], out[:, 0]
