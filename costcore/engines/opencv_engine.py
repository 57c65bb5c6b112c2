"""OpenCV's CSRT and KCF trackers as engines: the classical fallback that needs no weights.

Frames arrive as RGB (the costcore convention) and are converted to the BGR OpenCV expects.
OpenCV's trackers take integer boxes, fail on boxes under ~2 px and on boxes reaching outside
the image, so the box handed to OpenCV is rounded, grown to at least ``min_side`` pixels and
moved inside the frame; results are mapped back to the size and offset the user drew.

Scores: OpenCV reports only success or failure, no confidence. A successful step has
``score=None`` ("no confidence available"); when OpenCV says it lost the target the engine
returns the last good box with ``score=0.0`` and ``lost=True`` instead of raising, so one bad
frame never stops a tracking run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from costcore.boxes import Box
from costcore.engines.base import TrackerEngine, TrackResult
from costcore.engines.errors import EngineError

#: OpenCV constructor names per engine; the main namespace first, then cv2.legacy
_CONSTRUCTORS = {"csrt": "TrackerCSRT_create", "kcf": "TrackerKCF_create"}


def find_tracker_constructor(kind: str) -> Callable[[], Any]:
    """OpenCV's constructor for ``kind`` ("csrt" or "kcf"), wherever this OpenCV build has it.

    OpenCV >= 4.5.1 has ``cv2.TrackerCSRT_create``; older contrib builds (and some newer ones)
    keep the trackers in ``cv2.legacy``. Only opencv-contrib ships either.
    """
    attribute = _CONSTRUCTORS.get(kind)
    if attribute is None:
        raise EngineError(f"unknown OpenCV tracker {kind!r}; available: {', '.join(_CONSTRUCTORS)}")
    for namespace in (cv2, getattr(cv2, "legacy", None)):
        constructor = getattr(namespace, attribute, None) if namespace is not None else None
        if constructor is not None:
            return constructor
    raise EngineError(
        f"OpenCV {cv2.__version__} has no {attribute}: install opencv-contrib-python-headless"
    )


def _to_bgr(frame: np.ndarray) -> np.ndarray:
    """RGB (or grayscale) uint8 frame -> contiguous BGR uint8 for OpenCV."""
    array = np.asarray(frame)
    if array.dtype != np.uint8:
        raise EngineError(f"frames must be uint8 images, got dtype {array.dtype}")
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.ndim == 3 and array.shape[2] == 3:
        return cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    raise EngineError(f"frames must be (H, W, 3) RGB images, got shape {array.shape}")


def opencv_box(box: Box, width: int, height: int, min_side: int) -> tuple[int, int, int, int]:
    """The integer box OpenCV can track for ``box``: same centre, >= ``min_side``, in the image."""
    side_w = min(max(round(box.w), min_side), width)
    side_h = min(max(round(box.h), min_side), height)
    cx, cy = box.center
    x = min(max(round(cx - side_w / 2.0), 0), width - side_w)
    y = min(max(round(cy - side_h / 2.0), 0), height - side_h)
    return int(x), int(y), int(side_w), int(side_h)


class OpenCVEngine(TrackerEngine):
    """One OpenCV single-object tracker ("csrt" or "kcf") behind the engine interface."""

    yields_score_map = False

    def __init__(self, kind: str, min_side: int = 4) -> None:
        self.name = kind
        self.min_side = max(int(min_side), 2)
        self._constructor = find_tracker_constructor(kind)
        self._tracker: Any = None
        self._last_box: Box | None = None
        # how the user's box relates to the tracked integer box: centre offset, size ratios
        self._offset = (0.0, 0.0)
        self._ratio = (1.0, 1.0)

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        """Start on ``box``; ``text`` is ignored (OpenCV trackers are visual only)."""
        box = Box(*(float(v) for v in box))
        if not box.is_valid():
            raise EngineError(f"cannot track an empty or non-finite box {tuple(box)}")
        bgr = _to_bgr(frame)
        height, width = bgr.shape[:2]
        if not box.clipped(width, height).is_valid():
            raise EngineError(f"box {tuple(box)} lies outside the {width}x{height} frame")
        rect = opencv_box(box, width, height, self.min_side)
        tracker = self._constructor()
        try:
            tracker.init(bgr, rect)
        except cv2.error as error:
            raise EngineError(f"{self.name} could not start on box {rect}: {error}") from error
        rect_box = Box(*map(float, rect))
        (bx, by), (rx, ry) = box.center, rect_box.center
        self._offset = (bx - rx, by - ry)
        self._ratio = (box.w / rect_box.w, box.h / rect_box.h)
        self._tracker = tracker
        self._last_box = box

    def step(self, frame: np.ndarray) -> TrackResult:
        if self._tracker is None or self._last_box is None:
            raise EngineError(f"{self.name}: call initialize() before step()")
        bgr = _to_bgr(frame)
        started = time.perf_counter()
        try:
            ok, rect = self._tracker.update(bgr)
        except cv2.error:  # e.g. the target left the image: treat like a reported failure
            ok, rect = False, None
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        box = self._from_opencv(rect) if ok else None
        if box is None:
            return TrackResult(
                self._last_box, 0.0, self.name, timings_ms={"track": elapsed_ms}, lost=True
            )
        self._last_box = box
        return TrackResult(box, None, self.name, timings_ms={"track": elapsed_ms})

    def _from_opencv(self, rect: Any) -> Box | None:
        """Map OpenCV's box back to the user's size and offset; ``None`` when it is unusable."""
        x, y, w, h = (float(v) for v in rect)
        if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
            return None
        width, height = w * self._ratio[0], h * self._ratio[1]
        cx = x + w / 2.0 + self._offset[0]
        cy = y + h / 2.0 + self._offset[1]
        return Box(cx - width / 2.0, cy - height / 2.0, width, height)


def create_csrt_engine(device: str = "auto", min_side: int = 4) -> OpenCVEngine:
    """Registry factory for "csrt"; runs on the CPU whatever ``device`` asks."""
    return OpenCVEngine("csrt", min_side=min_side)


def create_kcf_engine(device: str = "auto", min_side: int = 4) -> OpenCVEngine:
    """Registry factory for "kcf"; runs on the CPU whatever ``device`` asks."""
    return OpenCVEngine("kcf", min_side=min_side)
