"""What a view draws over one frame: its box, the neighbours' ghost boxes and the centre trail.

Computed from the annotation here, so the Qt view only paints rectangles and lines and the
rules (which neighbours, how long a trail) are tested without a screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from costcore.annotation import VideoAnnotation

BoxTuple = tuple[float, float, float, float]

#: centres shown on each side of the current frame
TRAIL_FRAMES = 8


@dataclass
class FrameOverlay:
    """The overlay of frame ``index``. Boxes are ``(x, y, w, h)`` in image coordinates;
    ``previous``/``next`` are the boxes of the frames just before and after (ghosts);
    ``trail`` is the centres of nearby frames in time order with the current frame at
    ``current_at`` (-1 when it has no box); ``flag`` describes a review flag ("" if none);
    ``proposal`` is a box found from the description, waiting to be accepted or redrawn."""

    index: int
    box: BoxTuple | None = None
    provenance: str | None = None
    absent: bool = False
    flag: str = ""
    previous: BoxTuple | None = None
    next: BoxTuple | None = None
    trail: list[tuple[float, float]] = field(default_factory=list)
    current_at: int = -1
    #: a box an engine proposes for this frame from the description (not annotated yet)
    proposal: BoxTuple | None = None


def frame_overlay(
    annotation: VideoAnnotation | None, index: int, trail_frames: int = TRAIL_FRAMES
) -> FrameOverlay:
    """The overlay of frame ``index`` of ``annotation`` (an empty one outside the video)."""
    if annotation is None or not 0 <= index < annotation.frame_count:
        return FrameOverlay(index)
    item = annotation.frame(index)
    count = annotation.frame_count

    def box_at(i: int) -> BoxTuple | None:
        if not 0 <= i < count:
            return None
        value = annotation.frame(i).box
        return None if value is None else tuple(value)

    trail: list[tuple[float, float]] = []
    current_at = -1
    for i in range(max(0, index - trail_frames), min(count, index + trail_frames + 1)):
        value = annotation.frame(i).box
        if value is None:
            continue
        if i == index:
            current_at = len(trail)
        trail.append(value.center)
    return FrameOverlay(
        index=index,
        box=None if item.box is None else tuple(item.box),
        provenance=None if item.provenance is None else item.provenance.value,
        absent=item.absent,
        previous=box_at(index - 1),
        next=box_at(index + 1),
        trail=trail,
        current_at=current_at,
    )
