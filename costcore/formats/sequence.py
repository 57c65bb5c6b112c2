"""The in-memory form of one annotated sequence, whatever layout it was read from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costcore.language import LanguageAttributes


@dataclass
class Sequence:
    """One single-object tracking sequence as read from disk.

    ``boxes`` keeps what the file said even for absent frames (LaSOT leaves stale boxes there),
    ``absent`` says which frames have no visible target; writers emit ``0,0,0,0`` for those.
    ``frames`` are the image files in frame order (frame i of the sequence is ``frames[i]``).
    """

    name: str
    root: Path
    layout: str  # "vlsot500", "lasot", "tnl2k", "otb", "uav123", "got10k"
    frames: list[Path]
    boxes: np.ndarray  # (N, 4) float64, x, y, w, h
    absent: np.ndarray  # (N,) bool
    language: str = ""
    attributes: list[int] | None = None  # the 17 VL-SOT500 attributes when the layout has them
    relative_speed: np.ndarray | None = None  # (N,) when the layout has relative_speed.txt
    #: VLT's four attribute words, from ``language_attributes.txt`` when the folder has one
    language_attributes: LanguageAttributes | None = None
    extra: dict[str, object] = field(default_factory=dict)  # layout-specific leftovers

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.absent = np.asarray(self.absent, dtype=bool).reshape(-1)

    @property
    def frame_count(self) -> int:
        return len(self.frames)
