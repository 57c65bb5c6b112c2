"""Propose every attribute that can be derived from the boxes and the frames.

The exact rules (LEN, BRI, FM, SV, ARV) reproduce the benchmark's definitions; the heuristic
ones (FO, OV, IV, MB) are guesses the annotator confirms. Manual attributes (CM, VC, PO, ROT,
DEF, SD, NAO, PTI) get no proposal: only a person can say them.
"""

from __future__ import annotations

from dataclasses import dataclass

from costcore.attributes.box_rules import (
    BORDER_MARGIN,
    propose_aspect_ratio_variation,
    propose_fast_motion,
    propose_length,
    propose_occlusion_and_out_of_view,
    propose_scale_variation,
)
from costcore.attributes.frame_rules import (
    BLUR_FRACTION,
    BLUR_MIN_FRAMES,
    ILLUMINATION_CHANGE,
    ILLUMINATION_RATIO,
    propose_brightness,
    propose_illumination_variation,
    propose_motion_blur,
)
from costcore.attributes.image_measures import CancelCheck, ProgressCallback, measure_frames
from costcore.attributes.presence import boxes_and_presence
from costcore.attributes.proposal import Proposal, proposals_to_values
from costcore.errors import Cancelled
from costcore.video.base import FrameSource

__all__ = ["Proposal", "ProposalSettings", "propose_attributes", "proposals_to_values"]


@dataclass(frozen=True)
class ProposalSettings:
    """Tunable thresholds of the heuristic rules and the frame sampling.

    ``frame_stride`` > 1 reads only every n-th frame: much faster on long videos, but BRI then
    becomes an estimate (its proposal says so and is marked heuristic).
    """

    frame_stride: int = 1
    border_margin: float = BORDER_MARGIN  # px; FO/OV border test
    illumination_change: float = ILLUMINATION_CHANGE  # grey levels; IV
    illumination_ratio: float = ILLUMINATION_RATIO  # of the first value; IV (both must hold)
    illumination_min_side: int = 2  # px; smaller target regions give no IV measurement
    blur_fraction: float = BLUR_FRACTION  # of the median sharpness; MB
    blur_min_side: int = 8  # px; smaller target regions give no MB measurement
    blur_min_frames: int = BLUR_MIN_FRAMES


def propose_attributes(
    boxes: object,
    absent: object | None,
    frame_size: tuple[int, int],
    frame_count: int,
    frames: FrameSource | None = None,
    *,
    settings: ProposalSettings | None = None,
    progress: ProgressCallback | None = None,
    is_cancelled: CancelCheck | None = None,
) -> list[Proposal]:
    """Proposals for LEN, FM, SV, ARV, FO, OV and, with ``frames``, BRI, IV and MB.

    ``boxes`` is ``(N, 4)`` x, y, w, h and ``absent`` ``(N,)`` flags, with ``N == frame_count``;
    ``frame_size`` is ``(W, H)``. Without ``frames`` the frame-based attributes are simply not
    proposed. Reading the frames is the slow part and happens once, reporting
    ``progress(done, total)`` and raising :class:`~costcore.errors.Cancelled` when
    ``is_cancelled()`` turns true. The list is in attribute order.

    FM is defined as relative speed (Eq. 1, frame time base) ``delta_t > 1`` on some frame,
    i.e. the centre moved more than the object's size between two consecutive present frames;
    SV and ARV compare with the first present frame's box, ratios of exactly 0.5 and 2 inside.
    """
    settings = settings or ProposalSettings()
    array, present = boxes_and_presence(boxes, absent)
    if array.shape[0] != frame_count:
        raise ValueError(f"{array.shape[0]} boxes for a video of {frame_count} frames")
    if frames is not None and frames.frame_count != frame_count:
        raise ValueError(
            f"the frame source has {frames.frame_count} frames, the annotation {frame_count}"
        )
    missing = ~present
    proposals = [
        propose_length(frame_count),
        propose_fast_motion(array, missing),
        propose_scale_variation(array, missing),
        propose_aspect_ratio_variation(array, missing),
        *propose_occlusion_and_out_of_view(array, missing, frame_size, settings.border_margin),
    ]
    if frames is not None and frame_count > 0:
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("attribute proposals cancelled")
        measures = measure_frames(
            frames,
            array,
            present,
            stride=settings.frame_stride,
            brightness_min_side=settings.illumination_min_side,
            sharpness_min_side=settings.blur_min_side,
            progress=progress,
            is_cancelled=is_cancelled,
        )
        proposals += [
            propose_brightness(measures),
            propose_illumination_variation(
                measures, settings.illumination_change, settings.illumination_ratio
            ),
            propose_motion_blur(measures, settings.blur_fraction, settings.blur_min_frames),
        ]
    return sorted(proposals, key=lambda p: p.index)
