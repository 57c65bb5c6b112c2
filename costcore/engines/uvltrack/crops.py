"""UVLTrack's image geometry besides OSTrack's crop: the letterboxed frame used for grounding,
the token masks of a box, and the normalised box inside a crop.

Each follows the authors' code (``grounding_resize``, ``anno2mask`` and the box
``sample_target`` returns), including its integer rounding, because the released weights
expect exactly these inputs.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch


def letterbox(frame: np.ndarray, size: int) -> np.ndarray:
    """The frame resized (bilinear) to fit ``size`` x ``size`` and centred on black.

    The short side is ``int(size * short / long)``; an odd leftover pixel of padding goes to
    the top or left, as in the authors' ``grounding_resize``.
    """
    height, width = frame.shape[:2]
    if width > height:
        new_w, new_h = size, int(size * height / width)
    else:
        new_w, new_h = int(size * width / height), size
    resized = cv2.resize(frame, (new_w, new_h))
    top = bottom = int((size - new_h) / 2)
    left = right = int((size - new_w) / 2)
    if top + bottom + new_h != size:
        top += 1
    if left + right + new_w != size:
        left += 1
    return cv2.copyMakeBorder(resized, top, bottom, left, right, cv2.BORDER_CONSTANT, (0, 0, 0))


def grounded_box(box_cxcywh: torch.Tensor, width: int, height: int) -> list[float]:
    """A normalised (cx, cy, w, h) in the letterbox -> (x, y, w, h) in the frame.

    As the authors do it: scaled by the long side in float32, then shifted by half the side
    difference (their shift ignores the letterbox's integer rounding, by under a pixel).
    """
    scaled = box_cxcywh * max(height, width)
    cx, cy, w, h = scaled.unbind(-1)
    x, y, w, h = torch.stack([cx - 0.5 * w, cy - 0.5 * h, w, h], dim=-1).tolist()
    return [x + min(0, (width - height) / 2), y + min(0, (height - width) / 2), w, h]


def box_in_crop(width: float, height: float, side: int) -> torch.Tensor:
    """The target box in its centred crop, normalised by the crop side: (1, 4) float32."""
    return torch.tensor([[0.5 - width / side / 2, 0.5 - height / side / 2,
                          width / side, height / side]])  # fmt: skip


def cells_under_box(box_xywh: torch.Tensor, size: int) -> torch.Tensor:
    """Which of the ``size`` x ``size`` token cells lie inside a normalised (x, y, w, h) box,
    plus the cell under its centre (the authors' ``anno2mask``): (B, size * size) bool."""
    x1, y1, w, h = box_xywh.unbind(-1)
    corners = torch.stack([x1, y1, x1 + w, y1 + h], dim=-1) * size
    batch = box_xywh.shape[0]
    centres = torch.arange(size).unsqueeze(0).repeat(batch, 1) + 0.5
    in_x = ((centres > corners[:, 0:1]) & (centres < corners[:, 2:3])).unsqueeze(1)
    in_y = ((centres > corners[:, 1:2]) & (centres < corners[:, 3:4])).unsqueeze(2)
    mask = in_x & in_y
    cx = ((corners[:, 0] + corners[:, 2]) / 2).long()
    cy = ((corners[:, 1] + corners[:, 3]) / 2).long()
    mask[torch.arange(batch), cy, cx] = True
    return mask.flatten(1)
