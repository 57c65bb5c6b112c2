"""Proposals on the real sequences in ../shared (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from costcore.attributes import average_relative_speed, propose_attributes, relative_speed
from costcore.video.base import FrameSource


class JpegFolder(FrameSource):
    """Just enough of a frame source over ``img/*.jpg`` for these tests."""

    def __init__(self, folder: Path) -> None:
        self.path = folder
        self.files = sorted(folder.glob("*.jpg"))
        height, width = cv2.imread(str(self.files[0])).shape[:2]
        self._size = (width, height)

    @property
    def frame_count(self) -> int:
        return len(self.files)

    @property
    def frame_size(self) -> tuple[int, int]:
        return self._size

    @property
    def fps(self) -> float:
        return 30.0

    def frame(self, index: int) -> np.ndarray:
        return cv2.cvtColor(cv2.imread(str(self.files[index])), cv2.COLOR_BGR2RGB)


def _codes(proposals) -> dict[str, int]:
    return {p.code: p.value for p in proposals}


def test_airplane_1_box_rules(airplane_1: Path):
    boxes = np.loadtxt(airplane_1 / "groundtruth.txt", delimiter=",", ndmin=2)
    values = _codes(propose_attributes(boxes, None, (640, 360), len(boxes)))
    # 2788 frames; grows from 41x16 to about 400 px wide; slow
    assert values == {"FO": 0, "OV": 0, "FM": 0, "SV": 1, "ARV": 0, "LEN": 2}
    speed = relative_speed(boxes, None)
    assert speed[0] == 0 and np.isfinite(speed).all() and (speed >= 0).all()
    assert 0 < average_relative_speed(boxes, None) < 0.1


def test_skiing_with_frames(skiing: Path):
    frames = JpegFolder(skiing / "img")
    boxes = np.loadtxt(skiing / "groundtruth_rect.txt", delimiter=",", ndmin=2)
    assert len(boxes) == frames.frame_count == 81
    proposals = propose_attributes(boxes, None, frames.frame_size, 81, frames)
    values = _codes(proposals)
    # OTB tags Skiing with IV and SV; the skier flips, changing the box's aspect ratio
    assert values["IV"] == 1 and values["SV"] == 1 and values["ARV"] == 1
    assert values["LEN"] == 0 and values["MB"] == 0
    bri = next(p for p in proposals if p.code == "BRI")
    assert bri.kind == "exact" and bri.value == 2  # snow: b is about 133
