"""COST's training losses: positive cells, CE weighting, L1/GIoU, contrastive alignment."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from costcore.model import COSTOutput, info_nce_loss
from costcore.training import LossWeights, contrastive_loss, cost_losses, generalized_iou
from costcore.training.losses import description_groups, positive_cells


def test_positive_cells_are_the_cells_inside_the_box() -> None:
    # a 4x4 map: cell centres at 0.125, 0.375, 0.625, 0.875
    box = torch.tensor([[0.5, 0.375, 0.5, 0.3]])  # x in [0.25, 0.75], y in [0.225, 0.525]
    mask = positive_cells(box, 4).reshape(4, 4)
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[1, 1:3] = True
    assert torch.equal(mask, expected)


def test_a_box_smaller_than_a_cell_gets_the_cell_of_its_centre() -> None:
    box = torch.tensor([[0.30, 0.80, 0.05, 0.05]])  # no cell centre inside
    mask = positive_cells(box, 4)
    assert mask.sum() == 1 and mask[0, 3 * 4 + 1]
    # centre outside the crop: the nearest border cell
    assert positive_cells(torch.tensor([[1.2, -0.1, 0.01, 0.01]]), 4)[0, 3]


def test_generalized_iou_known_values() -> None:
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [2.0, 0.0, 3.0, 1.0]])
    # IoU 1/7, hull 9, union 7 -> 1/7 - 2/9 ; disjoint: 0 - (3 - 2)/3
    expected = torch.tensor([1 / 7 - 2 / 9, -1 / 3])
    assert torch.allclose(generalized_iou(a, b), expected)
    assert torch.allclose(generalized_iou(a, a), torch.ones(2))


def test_cost_losses_follow_transt_conventions() -> None:
    torch.manual_seed(0)
    batch, side = 2, 4
    logits = torch.randn(batch, side * side, 2)
    boxes = torch.rand(batch, side * side, 4) * 0.5 + 0.25
    target = torch.tensor([[0.5, 0.375, 0.5, 0.3], [0.3, 0.8, 0.05, 0.05]])
    output = COSTOutput(logits, boxes)  # visual-only: no CoA
    losses = cost_losses(output, target, weights=LossWeights())
    assert set(losses) == {"total", "ce", "l1", "giou"}

    positive = positive_cells(target, side)
    classes = torch.where(positive, 0, 1)  # 0 = target, last = background
    weights = torch.tensor([1.0, 0.0625])
    per_cell = F.cross_entropy(logits.reshape(-1, 2), classes.reshape(-1), reduction="none")
    cell_weights = weights[classes.reshape(-1)]
    assert torch.allclose(losses["ce"], (per_cell * cell_weights).sum() / cell_weights.sum())

    predicted = boxes[positive]
    wanted = target[torch.nonzero(positive)[:, 0]]
    count = predicted.shape[0]
    assert count == 3  # two cells of the first box, the centre cell of the tiny one
    assert torch.allclose(losses["l1"], (predicted - wanted).abs().sum() / count)
    total = losses["ce"] + 5 * losses["l1"] + 2 * losses["giou"]
    assert torch.allclose(losses["total"], total)


def test_contrastive_loss_is_info_nce_for_distinct_descriptions() -> None:
    torch.manual_seed(1)
    visual, language = torch.randn(5, 8), torch.randn(5, 8)
    expected = info_nce_loss(visual, language, 0.5)
    assert torch.allclose(contrastive_loss(visual, language, 0.5), expected)
    groups = description_groups(["a red car", "a blue car", "dog", "cat", "bird"])
    assert torch.allclose(contrastive_loss(visual, language, 0.5, groups), expected)
    # perfectly aligned, well separated embeddings: the loss approaches its floor
    eye = torch.eye(4)
    floor = math.log(1 + 3 * math.exp(-2.0))  # cos 1 vs 0 at tau 0.5
    assert contrastive_loss(eye, eye, 0.5).item() == pytest.approx(floor, rel=1e-5)


def test_equal_descriptions_are_not_each_others_negatives() -> None:
    visual = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    language = visual.clone()
    groups = description_groups(["car racing", "Car  racing", "dog running"])
    assert groups.tolist() == [0, 0, 1]
    masked = contrastive_loss(visual, language, 0.5, groups)
    unmasked = contrastive_loss(visual, language, 0.5)
    assert masked < unmasked  # the duplicate no longer counts against its twin
    # the twins see only "dog" as a negative; "dog" still sees both twins as negatives
    twin, dog = math.log(1 + math.exp(-2.0)), math.log(1 + 2 * math.exp(-2.0))
    assert masked.item() == pytest.approx((2 * twin + dog) / 3, rel=1e-5)


def test_coa_uses_only_pairs_with_a_description() -> None:
    torch.manual_seed(2)
    output = COSTOutput(
        torch.randn(3, 4, 2), torch.rand(3, 4, 4),
        visual_embedding=torch.randn(3, 6, requires_grad=True),
        language_embedding=torch.randn(3, 6, requires_grad=True),
    )  # fmt: skip
    target = torch.tensor([[0.5, 0.5, 0.4, 0.4]] * 3)
    texts = ["red ball", "", "blue ball"]
    has_language = torch.tensor([True, False, True])
    losses = cost_losses(output, target, texts, has_language)
    expected = info_nce_loss(output.visual_embedding[[0, 2]], output.language_embedding[[0, 2]])
    assert torch.allclose(losses["coa"], expected)
    none = cost_losses(output, target, ["", "", ""], torch.tensor([False] * 3))
    assert none["coa"].item() == 0.0
    none["coa"].backward()  # still connected to g_v / g_l (DistributedDataParallel needs it)
    assert output.visual_embedding.grad is not None
