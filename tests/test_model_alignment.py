"""Contrastive alignment: InfoNCE values checked by hand, pooling, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from costcore.model import ContrastiveAlignment, info_nce_loss


def _ce(logits_row: list[float], target: int) -> float:
    return -logits_row[target] + math.log(sum(math.exp(v) for v in logits_row))


def test_aligned_pairs_give_a_lower_loss_than_shuffled() -> None:
    generator = torch.Generator().manual_seed(0)
    visual = torch.randn(6, 16, generator=generator)
    aligned = info_nce_loss(visual, visual.clone(), 0.5)
    shuffled = info_nce_loss(visual, visual[torch.tensor([1, 2, 3, 4, 5, 0])], 0.5)
    assert aligned < shuffled


def test_identity_2x2_matches_hand_computation() -> None:
    eye = torch.eye(2)
    # cos = I, logits = I / 0.5: each row is CE([2, 0], 0) = log(1 + e^-2)
    assert info_nce_loss(eye, eye, 0.5).item() == pytest.approx(math.log(1 + math.exp(-2)))
    swapped = eye.flip(0)
    assert info_nce_loss(eye, swapped, 0.5).item() == pytest.approx(math.log(1 + math.exp(2)))


def test_asymmetric_2x2_matches_hand_computation() -> None:
    visual = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    language = torch.tensor([[2.0, 0.0], [1.0, 1.0]])  # norms do not matter (cosine)
    r = 1 / math.sqrt(2)
    logits = [[1 / 0.5, r / 0.5], [0.0, r / 0.5]]  # s_ij = cos(v_i, l_j) / tau
    video_to_language = (_ce(logits[0], 0) + _ce(logits[1], 1)) / 2
    columns = [[logits[0][0], logits[1][0]], [logits[0][1], logits[1][1]]]
    language_to_video = (_ce(columns[0], 0) + _ce(columns[1], 1)) / 2
    expected = (video_to_language + language_to_video) / 2
    assert info_nce_loss(visual, language, 0.5).item() == pytest.approx(expected, rel=1e-6)


def test_temperature_sharpens() -> None:
    eye = torch.eye(3)
    assert info_nce_loss(eye, eye, 0.1) < info_nce_loss(eye, eye, 0.5)


def test_pooling_ignores_language_padding_and_gradients_flow() -> None:
    torch.manual_seed(0)
    alignment = ContrastiveAlignment(visual_dim=8, language_dim=12, embed_dim=4)
    visual = torch.randn(2, 5, 8, requires_grad=True)
    language = torch.randn(2, 7, 12)
    mask = torch.tensor([[True] * 3 + [False] * 4, [True] * 7])
    v, lang = alignment(visual, language, mask)
    assert v.shape == lang.shape == (2, 4)
    expected = alignment.g_l(language[0, :3].mean(dim=0))
    assert torch.allclose(lang[0], expected, atol=1e-6)
    padded = language.clone()
    padded[0, 3:] = 99.0
    assert torch.allclose(alignment(visual, padded, mask)[1], lang)
    info_nce_loss(v, lang).backward()
    assert visual.grad is not None and alignment.g_v.weight.grad is not None


def test_mismatched_batches_are_rejected() -> None:
    with pytest.raises(ValueError):
        info_nce_loss(torch.zeros(2, 4), torch.zeros(3, 4))
