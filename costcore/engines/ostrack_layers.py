"""The layers All-in-One and UVLTrack share through OSTrack: its ViT's patch embedding,
attention, MLP and pre-norm block (timm's, written out), and its heads' conv stage.

Module and parameter names are the authors' (``proj``, ``qkv``, ``fc1``, ``norm1``, ...), so
both trackers' checkpoints load key for key through these classes; the arithmetic is theirs,
step for step (attention computed explicitly, not fused), so the numbers are too. Each
tracker adds its own twist on top: All-in-One eliminates search tokens between attention and
MLP (it needs the attention map), UVLTrack hides tokens from attention with a key mask.
"""

from __future__ import annotations

import torch
from torch import nn

#: the score a hidden key gets before the softmax (UVLTrack fills its masks with it)
MASKED_SCORE = -1e10


class PatchEmbed(nn.Module):
    """Non-overlapping ``patch_size`` patches of an RGB image, as ``(B, N, C)`` tokens."""

    def __init__(self, patch_size: int, embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.proj(images).flatten(2).transpose(1, 2)  # (B, N, C)


class Attention(nn.Module):
    """Multi-head self-attention returning the output and the attention map (candidate
    elimination ranks tokens by it); ``mask`` (B, N), True hides that token as a key."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch, tokens, channels = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, channels // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        if mask is not None:
            attn = attn.masked_fill(mask.unsqueeze(1).unsqueeze(1), MASKED_SCORE)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(batch, tokens, channels)
        return self.proj(x), attn


class Mlp(nn.Module):
    """Linear, GELU, linear (no dropout at test time)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block (LayerNorm eps 1e-6, as MAE's and OSTrack's ViT)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), mask)[0]
        return x + self.mlp(self.norm2(x))


def conv_bn_relu(inputs: int, outputs: int) -> nn.Sequential:
    """One stage of OSTrack's head towers: 3x3 conv (with bias), BatchNorm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, kernel_size=3, stride=1, padding=1, bias=True),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )
