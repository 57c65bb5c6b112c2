"""Contrastive alignment (CoA, Eq. 6-8): pull a video and its description together.

Each modality is pooled to one vector, projected to ``coa_dim`` by ``g_v`` / ``g_l`` and
compared by cosine similarity. InfoNCE runs both ways (video->language and language->video)
with temperature tau = 0.5; the negatives are the other videos of the batch.

Pooling (the paper does not spell it out): the visual vector is the plain mean of the visual
tokens (every token is a real pixel region); the language vector is the mean over the real
tokens only ([CLS], word pieces, [SEP]; padding excluded by the mask). We pool before
projecting, which for linear g_v, g_l equals projecting then pooling, at a fraction of the cost.
Used in training only; the tracker never calls it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ContrastiveAlignment(nn.Module):
    """The projections g_v and g_l; returns the pooled, projected (unnormalised) embeddings."""

    def __init__(self, visual_dim: int, language_dim: int, embed_dim: int) -> None:
        super().__init__()
        self.g_v = nn.Linear(visual_dim, embed_dim)
        self.g_l = nn.Linear(language_dim, embed_dim)

    def forward(
        self,
        visual_tokens: torch.Tensor,
        language_features: torch.Tensor,
        language_mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        visual = visual_tokens.mean(dim=1)
        weights = language_mask.to(language_features.dtype).unsqueeze(-1)
        language = (language_features * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return self.g_v(visual), self.g_l(language)


def info_nce_loss(
    visual_embeddings: torch.Tensor,
    language_embeddings: torch.Tensor,
    temperature: float = 0.5,
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matching (video, description) pairs.

    With s_ij = cos(v_i, l_j) / tau: L_v2l = -mean_i log softmax_j(s_ij)[i],
    L_l2v = -mean_j log softmax_i(s_ij)[j], and L_CoA = (L_v2l + L_l2v) / 2 (the average, so
    the loss has the scale of one InfoNCE term).
    """
    if visual_embeddings.shape != language_embeddings.shape or visual_embeddings.dim() != 2:
        raise ValueError("expected two (B, D) embedding batches of the same shape")
    visual = F.normalize(visual_embeddings.float(), dim=-1)
    language = F.normalize(language_embeddings.float(), dim=-1)
    logits = visual @ language.t() / temperature
    targets = torch.arange(logits.shape[0], device=logits.device)
    video_to_language = F.cross_entropy(logits, targets)
    language_to_video = F.cross_entropy(logits.t(), targets)
    return (video_to_language + language_to_video) / 2
