"""Helpers for the batch-run tests: tiny synthetic OTB sequences and a fake engine.

The fake engine is importable by worker processes (``EngineSpec(factory=FAKE_FACTORY)``), so
it must stay free of torch: what it does is steered by the sequence's language, which reaches
the worker with the job -- ``"explode"`` raises, ``"crash"`` kills the worker process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np

from costcore.boxes import Box
from costcore.engines.base import TrackerEngine, TrackResult

FAKE_FACTORY = "tests.batch_fakes:create_fake_engine"


def make_otb_sequence(
    root: Path,
    name: str,
    frames: int = 12,
    *,
    absent_first: int = 0,
    language: str | None = None,
    groundtruth: str | None = None,
    corrupt_frame: int | None = None,
) -> Path:
    """An OTB folder ``root/name``: a bright square drifting right over noise, 64x48 JPEGs."""
    folder = root / name
    (folder / "img").mkdir(parents=True)
    rng = np.random.default_rng(len(name))
    background = rng.integers(0, 80, (48, 64, 3), dtype=np.uint8)
    lines = []
    for index in range(frames):
        image = background.copy()
        x, y = 8 + index, 16
        image[y : y + 12, x : x + 12] = (40, 220, 250)
        path = folder / "img" / f"{index + 1:04d}.jpg"
        cv2.imwrite(str(path), image)
        if index == corrupt_frame:
            path.write_bytes(b"not a jpeg at all")
        lines.append("0,0,0,0" if index < absent_first else f"{x},{y},12,12")
    text = groundtruth if groundtruth is not None else "\n".join(lines) + "\n"
    (folder / "groundtruth_rect.txt").write_text(text)
    if language is not None:
        (folder / "language.txt").write_text(language + "\n")
    return folder


class FakeEngine(TrackerEngine):
    """Returns the initial box shifted one pixel right per frame (like the synthetic target)."""

    name = "fake"

    def __init__(self, device: str = "auto", delay: float = 0.0) -> None:
        self._device = device
        self.delay = delay
        self.box = Box(0, 0, 1, 1)
        self.text = ""
        self.initialized: list[tuple[Box, str, tuple[int, ...]]] = []

    @property
    def device(self) -> str:
        return self._device

    def describe(self) -> str:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "unset")
        return f"fake on {self._device} CUDA_VISIBLE_DEVICES={visible}"

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        self.box, self.text = Box(*box), text
        self.initialized.append((self.box, text, frame.shape))

    def step(self, frame: np.ndarray) -> TrackResult:
        if self.text == "explode":
            raise RuntimeError("the fake engine exploded")
        if self.text == "crash":
            os._exit(3)
        if self.delay:
            time.sleep(self.delay)
        self.box = Box(self.box.x + 1, self.box.y, self.box.w, self.box.h)
        return TrackResult(self.box, 1.0, self.name)


#: the engines built in this process, so in-process tests can look at what they were given
CREATED: list[FakeEngine] = []


def create_fake_engine(device: str = "auto", delay: float = 0.0) -> FakeEngine:
    engine = FakeEngine(device, delay)
    CREATED.append(engine)
    return engine
