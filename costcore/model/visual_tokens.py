"""COST's visual tokens: the 32x32 fused search map shrunk to 20x20 by three 5x5 convs.

The paper turns TransT's 1024 fused search tokens into a map and applies three 5x5
convolutions with stride 1 and no padding (32 -> 28 -> 24 -> 20), giving 400 visual tokens for
the visual-linguistic transformer. The paper does not say what sits between the convolutions;
we use a ReLU (no normalisation), so the stack is conv-ReLU-conv-ReLU-conv.
"""

from __future__ import annotations

import torch
from torch import nn


class VisualTokenConvs(nn.Module):
    """``(B, side*side, C)`` fused search tokens -> ``(B, side'*side', C)`` visual tokens."""

    def __init__(self, channels: int, num_convs: int = 3, kernel_size: int = 5) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for index in range(num_convs):
            layers.append(nn.Conv2d(channels, channels, kernel_size, stride=1, padding=0))
            if index < num_convs - 1:
                layers.append(nn.ReLU(inplace=True))
        self.convs = nn.Sequential(*layers)

    def forward(self, tokens: torch.Tensor, side: int) -> torch.Tensor:
        batch, count, channels = tokens.shape
        if count != side * side:
            raise ValueError(f"expected {side}x{side} search tokens, got {count}")
        feature_map = tokens.transpose(1, 2).reshape(batch, channels, side, side)
        return self.convs(feature_map).flatten(2).transpose(1, 2)
