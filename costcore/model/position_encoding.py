"""DETR's sine position encoding, as TransT uses it (normalised, no padding mask).

TransT's crops are never padded inside the network (its mask is all False), so the encoding
depends only on the feature map's height and width: row/column index 1..H (1..W), scaled to
(0, 2*pi], then interleaved sin/cos at ``num_pos_feats`` frequencies; y first, then x.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class PositionEmbeddingSine(nn.Module):
    """Returns ``(1, 2 * num_pos_feats, H, W)`` for a ``(B, C, H, W)`` feature map."""

    def __init__(
        self,
        num_pos_feats: int = 128,
        temperature: float = 10000.0,
        normalize: bool = True,
        scale: float = 2 * math.pi,
    ) -> None:
        super().__init__()
        self.num_pos_feats = num_pos_feats
        self.temperature = temperature
        self.normalize = normalize
        self.scale = scale

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        height, width = features.shape[-2:]
        device = features.device
        y_embed = torch.arange(1, height + 1, dtype=torch.float32, device=device)
        x_embed = torch.arange(1, width + 1, dtype=torch.float32, device=device)
        if self.normalize:
            eps = 1e-6
            y_embed = y_embed / (y_embed[-1:] + eps) * self.scale
            x_embed = x_embed / (x_embed[-1:] + eps) * self.scale
        dim_t = torch.arange(self.num_pos_feats, dtype=torch.float32, device=device)
        dim_t = self.temperature ** (
            2 * torch.div(dim_t, 2, rounding_mode="floor") / self.num_pos_feats
        )
        pos_x = self._interleave(x_embed[:, None] / dim_t)  # (W, F)
        pos_y = self._interleave(y_embed[:, None] / dim_t)  # (H, F)
        pos = torch.cat(
            (
                pos_y[:, None, :].expand(height, width, -1),
                pos_x[None, :, :].expand(height, width, -1),
            ),
            dim=-1,
        )
        return pos.permute(2, 0, 1).unsqueeze(0)

    @staticmethod
    def _interleave(angles: torch.Tensor) -> torch.Tensor:
        """sin of even frequencies and cos of odd ones, interleaved (DETR's layout)."""
        return torch.stack((angles[:, 0::2].sin(), angles[:, 1::2].cos()), dim=2).flatten(1)
