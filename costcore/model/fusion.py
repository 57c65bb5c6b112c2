"""TransT's feature-fusion network: ego-context augment (ECA) + cross-feature augment (CFA).

Encoder: ``fusion_layers`` layers, each a self-attention on the template tokens and on the search
tokens, then cross-attention both ways, each followed by its FFN; all post-norm. Decoder: one
CFA layer where the search tokens attend to the template, then a final LayerNorm. Positions are
added to queries and keys, never to values. Parameter names are TransT's exactly; tensors here
are batch-first ``(B, N, C)`` (that does not change any weight).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn


def _attention(d_model: int, nhead: int, dropout: float) -> nn.MultiheadAttention:
    return nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)


class FeatureFusionLayer(nn.Module):
    """One encoder layer; stream 1 is the template, stream 2 the search region."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.self_attn1 = _attention(d_model, nhead, dropout)
        self.self_attn2 = _attention(d_model, nhead, dropout)
        self.multihead_attn1 = _attention(d_model, nhead, dropout)
        self.multihead_attn2 = _attention(d_model, nhead, dropout)
        self.linear11 = nn.Linear(d_model, dim_feedforward)
        self.linear12 = nn.Linear(dim_feedforward, d_model)
        self.linear21 = nn.Linear(d_model, dim_feedforward)
        self.linear22 = nn.Linear(dim_feedforward, d_model)
        for name in ("norm11", "norm12", "norm13", "norm21", "norm22", "norm23"):
            setattr(self, name, nn.LayerNorm(d_model))
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        for name in ("dropout11", "dropout12", "dropout13", "dropout21", "dropout22", "dropout23"):
            setattr(self, name, nn.Dropout(dropout))

    def forward(
        self, src1: torch.Tensor, src2: torch.Tensor, pos1: torch.Tensor, pos2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # ECA: each stream attends to itself
        q1 = src1 + pos1
        src1 = self.norm11(
            src1 + self.dropout11(self.self_attn1(q1, q1, src1, need_weights=False)[0])
        )
        q2 = src2 + pos2
        src2 = self.norm21(
            src2 + self.dropout21(self.self_attn2(q2, q2, src2, need_weights=False)[0])
        )
        # CFA: each stream attends to the other (both read the post-ECA features)
        q1, q2 = src1 + pos1, src2 + pos2
        cross1 = self.multihead_attn1(q1, q2, src2, need_weights=False)[0]
        cross2 = self.multihead_attn2(q2, q1, src1, need_weights=False)[0]
        src1 = self.norm12(src1 + self.dropout12(cross1))
        ffn1 = self.linear12(self.dropout1(F.relu(self.linear11(src1))))
        src1 = self.norm13(src1 + self.dropout13(ffn1))
        src2 = self.norm22(src2 + self.dropout22(cross2))
        ffn2 = self.linear22(self.dropout2(F.relu(self.linear21(src2))))
        src2 = self.norm23(src2 + self.dropout23(ffn2))
        return src1, src2


class DecoderCFALayer(nn.Module):
    """The search tokens (queries) gather template information (keys/values), then an FFN."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.multihead_attn = _attention(d_model, nhead, dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        pos_tgt: torch.Tensor,
        pos_memory: torch.Tensor,
    ) -> torch.Tensor:
        attended = self.multihead_attn(
            tgt + pos_tgt, memory + pos_memory, memory, need_weights=False
        )[0]
        tgt = self.norm1(tgt + self.dropout1(attended))
        ffn = self.linear2(self.dropout(F.relu(self.linear1(tgt))))
        return self.norm2(tgt + self.dropout2(ffn))


class Encoder(nn.Module):
    def __init__(self, layer: FeatureFusionLayer, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(copy.deepcopy(layer) for _ in range(num_layers))

    def forward(
        self, src1: torch.Tensor, src2: torch.Tensor, pos1: torch.Tensor, pos2: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        for layer in self.layers:
            src1, src2 = layer(src1, src2, pos1, pos2)
        return src1, src2


class Decoder(nn.Module):
    def __init__(self, layer: DecoderCFALayer, norm: nn.LayerNorm) -> None:
        super().__init__()
        self.layers = nn.ModuleList([layer])
        self.norm = norm

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        pos_tgt: torch.Tensor,
        pos_memory: torch.Tensor,
    ) -> torch.Tensor:
        for layer in self.layers:
            tgt = layer(tgt, memory, pos_tgt, pos_memory)
        return self.norm(tgt)


class FeatureFusionNetwork(nn.Module):
    """(template tokens, search tokens) -> fused search tokens ``(B, N_search, C)``."""

    def __init__(
        self,
        d_model: int = 256,
        nhead: int = 8,
        num_featurefusion_layers: int = 4,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.encoder = Encoder(
            FeatureFusionLayer(d_model, nhead, dim_feedforward, dropout), num_featurefusion_layers
        )
        self.decoder = Decoder(
            DecoderCFALayer(d_model, nhead, dim_feedforward, dropout), nn.LayerNorm(d_model)
        )
        self.d_model = d_model
        for parameter in self.parameters():
            if parameter.dim() > 1:
                nn.init.xavier_uniform_(parameter)

    def forward(
        self,
        template: torch.Tensor,
        search: torch.Tensor,
        pos_template: torch.Tensor,
        pos_search: torch.Tensor,
    ) -> torch.Tensor:
        memory_template, memory_search = self.encoder(template, search, pos_template, pos_search)
        return self.decoder(memory_search, memory_template, pos_search, pos_template)
