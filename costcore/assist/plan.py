"""Which frames a job fills: propagation ranges and segments between a person's frames.

A *segment* is the run of frames between two keyframes (a person's boxes); the video's start
and end bound the first and last one. Automatic work fills segments: it starts from and runs
towards the keyframes around them (the *anchors*). Verified frames inside a segment are never
overwritten (``SetFrames`` skips every protected frame) and serve as checkpoints: a verified box
is a tracker's box a person accepted, good enough to keep but not to restart a tracker from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from costcore.annotation import Provenance, VideoAnnotation


class Extent(str, Enum):
    """How far a propagation goes from the current frame."""

    NEXT_KEYFRAME = "next_keyframe"  # up to (not into) the next keyframe
    END = "end"  # to the first / last frame, restarting from every keyframe on the way
    COUNT = "count"  # a fixed number of frames


@dataclass(frozen=True)
class PropagationPlan:
    """Track from ``start`` (its box is the initial one) towards ``stop`` (exclusive)."""

    start: int
    stop: int
    backwards: bool = False

    @property
    def frames(self) -> range:
        """The frames the run writes, in tracking order (the start frame excluded)."""
        step = -1 if self.backwards else 1
        return range(self.start + step, self.stop, step)

    def __len__(self) -> int:
        return len(self.frames)


def plan_propagation(
    annotation: VideoAnnotation,
    start: int,
    *,
    backwards: bool = False,
    extent: Extent | str = Extent.NEXT_KEYFRAME,
    count: int | None = None,
) -> PropagationPlan:
    """The range a propagation from ``start`` covers (it may be empty)."""
    start = annotation.check_index(start)
    extent = Extent(extent)
    last = annotation.frame_count - 1
    if extent is Extent.NEXT_KEYFRAME:
        find = annotation.previous_keyframe if backwards else annotation.next_keyframe
        anchor = find(start)
        if anchor is None:
            anchor = -1 if backwards else last + 1
        return PropagationPlan(start, anchor, backwards)
    if extent is Extent.END:
        return PropagationPlan(start, -1 if backwards else last + 1, backwards)
    if count is None or count < 1:
        raise ValueError(f"propagating a number of frames needs a count >= 1, got {count!r}")
    stop = max(start - count - 1, -1) if backwards else min(start + count + 1, last + 1)
    return PropagationPlan(start, stop, backwards)


@dataclass(frozen=True)
class Segment:
    """Frames strictly between ``left`` and ``right`` (None: the video's start / end).

    ``frame_count`` bounds a segment open to the right: the video's length, or less for a
    re-propagation that only redoes the automatic work that was there (:func:`trimmed`).
    """

    left: int | None
    right: int | None
    frame_count: int

    @property
    def first(self) -> int:
        return 0 if self.left is None else self.left + 1

    @property
    def last(self) -> int:
        return self.frame_count - 1 if self.right is None else self.right - 1

    @property
    def frames(self) -> range:
        return range(self.first, self.last + 1)

    def __len__(self) -> int:
        return max(0, self.last - self.first + 1)

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and self.first <= index <= self.last


def segment_after(annotation: VideoAnnotation, index: int) -> Segment:
    """From frame ``index`` to the next keyframe."""
    right = annotation.next_keyframe(index)
    return Segment(index, right, annotation.frame_count)


def segment_before(annotation: VideoAnnotation, index: int) -> Segment:
    """From the previous keyframe to frame ``index``."""
    left = annotation.previous_keyframe(index)
    return Segment(left, index, annotation.frame_count)


def segment_at(annotation: VideoAnnotation, index: int) -> Segment:
    """The segment holding ``index``; for a keyframe, the one that follows it."""
    if annotation.frame(index).provenance is Provenance.KEYFRAME:
        return segment_after(annotation, index)
    left = annotation.previous_keyframe(index)
    right = annotation.next_keyframe(index)
    return Segment(left, right, annotation.frame_count)


def refill_segments(
    annotation: VideoAnnotation, index: int, *, following: bool = True, preceding: bool = False
) -> list[Segment]:
    """The segments to re-run after a person changed frame ``index`` (non-empty ones only).

    By default only the following segment (the frames up to the next keyframe), which is what
    the app does after a correction; ``preceding`` adds the segment before it (the review
    workflow, where the frames before a correction have not been looked at yet).
    """
    segments = []
    if preceding and index > 0:
        segments.append(segment_before(annotation, index))
    if following and index < annotation.frame_count - 1:
        segments.append(segment_after(annotation, index))
    return [s for s in segments if len(s)]


def all_segments(annotation: VideoAnnotation) -> list[Segment]:
    """Every non-empty segment of the video, in order."""
    count = annotation.frame_count
    bounds: list[int | None] = [None, *annotation.keyframes(), None]
    segments = [
        Segment(left, right, count) for left, right in zip(bounds, bounds[1:], strict=False)
    ]
    return [s for s in segments if len(s)]


def trimmed(annotation: VideoAnnotation, segment: Segment) -> Segment:
    """An open-ended segment cut after its last automatic frame (tracked or interpolated).

    Re-propagating after a correction redoes the work that was there; it does not run on to
    the end of a long video nobody asked to track yet. Closed segments are returned as given.
    """
    if segment.right is not None:
        return segment
    last = None
    for i in segment.frames:
        if annotation.frame(i).provenance in (Provenance.TRACKED, Provenance.INTERPOLATED):
            last = i
    if last is None:
        return Segment(segment.left, None, segment.first)
    return Segment(segment.left, None, last + 1)


def has_automatic(annotation: VideoAnnotation, segment: Segment) -> bool:
    """Whether ``segment`` holds tracked or interpolated frames (work to redo)."""
    return any(
        annotation.frame(i).provenance in (Provenance.TRACKED, Provenance.INTERPOLATED)
        for i in segment.frames
    )
