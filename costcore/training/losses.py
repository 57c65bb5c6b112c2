"""COST's training loss (DESIGN.md section 6): L_CoA + lambda_1 L1 + lambda_G GIoU + alpha CE.

Labels per score-map cell (TransT's convention): the head's S x S tokens tile the search crop
row-major, cell (i, j) standing for the crop position ((j + 0.5) / S, (i + 0.5) / S) - the
same reading the tracker's Hann window and the app's score-map overlay use (the map is drawn
over the whole search region). A cell is **positive** when that position falls inside the
ground-truth box; when the box is too small to contain any cell position (small objects), the
cell containing the box centre is the positive one (TransT's matcher does the same), so every
pair trains the box head.

- CE: two classes per cell, index 0 = target, last = background, background cells weighted
  by 0.0625, weighted mean (``F.cross_entropy`` with class weights, as TransT).
- L1 and GIoU: on the positive cells' boxes against the gt box, summed and divided by the
  number of positive cells (TransT's ``num_boxes``).
- CoA: symmetric InfoNCE (tau = 0.5) over the pairs that have a description. Pairs with the
  *same* description (the same video twice in a batch, or GOT-10k's pseudo-language shared by
  many videos) are not each other's negatives: those entries are masked out, so with distinct
  descriptions this is exactly :func:`costcore.model.info_nce_loss`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from costcore.model.cost import COSTOutput

LOSS_NAMES = ("total", "ce", "l1", "giou", "coa")


@dataclass(frozen=True)
class LossWeights:
    coa: float = 1.0
    ce: float = 1.0
    l1: float = 5.0
    giou: float = 2.0
    background: float = 0.0625
    temperature: float = 0.5


def cell_centres(side: int, device: torch.device | None = None) -> torch.Tensor:
    """Normalised positions of the cells along one axis: ``(arange(S) + 0.5) / S``."""
    return (torch.arange(side, device=device, dtype=torch.float32) + 0.5) / side


def positive_cells(boxes: torch.Tensor, side: int) -> torch.Tensor:
    """``(B, S*S)`` bool: cells whose position lies inside the box (normalised cx, cy, w, h);
    the cell holding the box centre when none does."""
    boxes = boxes.float()
    centres = cell_centres(side, boxes.device)
    x0, x1 = boxes[:, 0:1] - boxes[:, 2:3] / 2, boxes[:, 0:1] + boxes[:, 2:3] / 2
    y0, y1 = boxes[:, 1:2] - boxes[:, 3:4] / 2, boxes[:, 1:2] + boxes[:, 3:4] / 2
    inside_x = (centres >= x0) & (centres <= x1)  # (B, S)
    inside_y = (centres >= y0) & (centres <= y1)
    mask = (inside_y[:, :, None] & inside_x[:, None, :]).flatten(1)
    empty = ~mask.any(dim=1)
    if empty.any():
        column = (boxes[:, 0] * side).floor().clamp(0, side - 1).long()
        row = (boxes[:, 1] * side).floor().clamp(0, side - 1).long()
        rows = torch.nonzero(empty).flatten()
        mask[rows, row[rows] * side + column[rows]] = True
    return mask


def box_cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def generalized_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Element-wise GIoU of two ``(N, 4)`` xyxy box sets."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    top_left = torch.maximum(a[:, :2], b[:, :2])
    bottom_right = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=1)
    union = area_a + area_b - inter
    iou = inter / union.clamp(min=1e-7)
    hull = (torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])).clamp(min=0)
    hull_area = hull.prod(dim=1)
    return iou - (hull_area - union) / hull_area.clamp(min=1e-7)


def description_groups(texts: Sequence[str]) -> torch.Tensor:
    """An id per distinct description (pairs with equal ids are not negatives of each other)."""
    ids: dict[str, int] = {}
    return torch.tensor([ids.setdefault(" ".join(t.split()).lower(), len(ids)) for t in texts])


def contrastive_loss(
    visual: torch.Tensor,
    language: torch.Tensor,
    temperature: float = 0.5,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """Symmetric InfoNCE of matching rows; off-diagonal pairs of the same group are ignored."""
    visual = F.normalize(visual.float(), dim=-1)
    language = F.normalize(language.float(), dim=-1)
    logits = visual @ language.t() / temperature
    if groups is not None:
        groups = groups.to(logits.device)
        same = groups[:, None] == groups[None, :]
        same.fill_diagonal_(False)
        logits = logits.masked_fill(same, float("-inf"))
    targets = torch.arange(logits.shape[0], device=logits.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.t(), targets)) / 2


def cost_losses(
    output: COSTOutput,
    target_boxes: torch.Tensor,
    texts: Sequence[str] | None = None,
    has_language: torch.Tensor | None = None,
    weights: LossWeights = LossWeights(),
) -> dict[str, torch.Tensor]:
    """Every loss term (float32) and their weighted sum ``total``, for one batch.

    ``target_boxes`` ``(B, 4)``: the gt box in each search crop (normalised cx, cy, w, h).
    ``coa`` is present only for a model with a linguistic branch.
    """
    logits = output.logits.float()
    pred_boxes = output.boxes.float()
    batch, cells, classes = logits.shape
    side = round(cells**0.5)
    if side * side != cells:
        raise ValueError(f"{cells} cells do not form a square score map")
    target_boxes = target_boxes.to(logits.device).float()
    positive = positive_cells(target_boxes, side)

    background = classes - 1
    target_classes = torch.full((batch, cells), background, device=logits.device)
    target_classes[positive] = 0
    class_weights = torch.ones(classes, device=logits.device)
    class_weights[background] = weights.background
    ce = F.cross_entropy(logits.transpose(1, 2), target_classes, class_weights)

    rows = torch.nonzero(positive)[:, 0]
    predicted = pred_boxes[positive]  # (P, 4)
    wanted = target_boxes[rows]
    count = max(int(predicted.shape[0]), 1)
    l1 = (predicted - wanted).abs().sum() / count
    giou = (
        1.0 - generalized_iou(box_cxcywh_to_xyxy(predicted), box_cxcywh_to_xyxy(wanted))
    ).sum() / count

    losses = {"ce": ce, "l1": l1, "giou": giou}
    total = weights.ce * ce + weights.l1 * l1 + weights.giou * giou
    if output.visual_embedding is not None and output.language_embedding is not None:
        coa = _coa(output, texts, has_language, weights.temperature)
        losses["coa"] = coa
        total = total + weights.coa * coa
    losses["total"] = total
    return losses


def _coa(
    output: COSTOutput,
    texts: Sequence[str] | None,
    has_language: torch.Tensor | None,
    temperature: float,
) -> torch.Tensor:
    visual, language = output.visual_embedding, output.language_embedding
    batch = visual.shape[0]
    keep = (
        torch.ones(batch, dtype=torch.bool)
        if has_language is None
        else has_language.detach().cpu().bool()
    )
    texts = list(texts) if texts is not None else [str(i) for i in range(batch)]
    if int(keep.sum()) == 0:
        # keep g_v and g_l in the graph (DistributedDataParallel needs every gradient)
        return (visual.float().sum() + language.float().sum()) * 0.0
    index = torch.nonzero(keep).flatten()
    groups = description_groups([texts[i] for i in index.tolist()])
    index = index.to(visual.device)
    return contrastive_loss(visual[index], language[index], temperature, groups)
