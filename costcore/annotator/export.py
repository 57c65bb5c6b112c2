"""Exporting an annotated video as a VL-SOT500 folder, then validating what was written.

The app runs this in a worker with progress and cancel; scripts and tests call it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costcore.annotation import VideoAnnotation
from costcore.attributes import relative_speed
from costcore.formats import Issue, validate_vlsot500, write_vlsot500
from costcore.video import open_frame_source


@dataclass(frozen=True)
class ExportOptions:
    """What the export dialog asks for."""

    destination: Path  # the video folder to create, e.g. annotations/exports/Skiing
    subset: int = 230  # VL-SOT230 or VL-SOT270 (the dialog turns relative speed on for 270)
    relative_speed: bool = False  # write relative_speed.txt
    float_boxes: bool = False
    speed_in_seconds: bool = False  # relative speed per second (video fps) instead of per frame
    overwrite: bool = False


@dataclass
class ExportOutcome:
    destination: Path
    issues: list[Issue] = field(default_factory=list)


def export_annotation(
    annotation: VideoAnnotation,
    frames: Any,
    options: ExportOptions,
    progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> ExportOutcome:
    """Write ``annotation`` with ``frames`` (what ``open_frame_source`` accepts) and validate.

    Frames are read through a fresh uncached source so the export neither evicts the frames the
    annotator is looking at nor competes with the view's prefetcher for the cache.
    """
    boxes, absent = annotation.export_arrays()
    speed = None
    if options.relative_speed:
        fps = annotation.fps if options.speed_in_seconds else None
        speed = relative_speed(boxes, absent, fps=fps)
    source = open_frame_source(frames, cache_bytes=0)
    try:
        destination = write_vlsot500(
            options.destination,
            frames=source,
            boxes=boxes,
            absent=absent,
            language=annotation.language,
            language_attributes=annotation.language_attributes,
            attributes=annotation.attributes,
            float_boxes=options.float_boxes,
            relative_speed=speed,
            overwrite=options.overwrite,
            progress=progress,
            is_cancelled=is_cancelled,
        )
    finally:
        source.close()
    return ExportOutcome(Path(destination), validate_vlsot500(destination))
