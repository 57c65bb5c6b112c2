"""What All-in-One and UVLTrack do around their network each frame, both after OSTrack's
test-time tracker: the crop normalised with ImageNet's statistics going in, and the box coming
out mapped from the search crop back into the frame and clipped.

The crops themselves are :func:`costcore.crops.ostrack.sample_target`. What differs between
the two stays in their trackers: the window (All-in-One: OSTrack's ``hann2d_centered``;
UVLTrack: ``np.hanning``, in float64) and how the best cell is chosen.
"""

from __future__ import annotations

import numpy as np
import torch

from costcore.crops.ostrack import OSTrackCrop, clip_box, map_box_back

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: OSTrack keeps at least this many pixels of the box inside the image
CLIP_MARGIN = 10


class ImageNetNormaliser:
    """uint8 HxWx3 RGB crops -> ``((x / 255) - mean) / std``, (1, 3, H, W) float32 on the
    engine's device (OSTrack's ``Preprocessor``), with the statistics moved there once."""

    def __init__(self, device: torch.device) -> None:
        self._device = device
        self._mean = torch.tensor(IMAGENET_MEAN).view((1, 3, 1, 1)).to(device)
        self._std = torch.tensor(IMAGENET_STD).view((1, 3, 1, 1)).to(device)

    def __call__(self, patch: np.ndarray) -> torch.Tensor:
        tensor = torch.tensor(patch).to(self._device).float().permute((2, 0, 1)).unsqueeze(dim=0)
        return ((tensor / 255.0) - self._mean) / self._std


def box_in_frame(
    box: torch.Tensor, previous: list[float], crop: OSTrackCrop, height: int, width: int
) -> list[float]:
    """The network's box, ``(cx, cy, w, h)`` normalised to the search crop, as OSTrack's tracker
    turns it into its next state: scaled to frame pixels, placed around the ``previous`` box's
    centre, then clipped so at least :data:`CLIP_MARGIN` pixels stay inside the frame."""
    pred = (box * crop.output_size / crop.resize_factor).tolist()
    frame_box = map_box_back(pred, previous, crop.output_size, crop.resize_factor)
    return clip_box(frame_box, height, width, margin=CLIP_MARGIN)
