"""Synthetic annotated videos for tests and benchmarks: coloured shapes over textures.

Each video is one small coloured shape (circle, square, triangle) moving in a straight line
(with a little wobble) over a muted, textured background, with a grey distractor shape, and a
sentence that says what it is and where it goes: "small red circle moving right". Videos are
written in the VL-SOT500 layout with :func:`costcore.formats.write_vlsot500`, so training
reads them through the same readers and frame sources as real data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from costcore.formats import write_vlsot500
from costcore.video.base import FrameSource

COLOURS = {
    "red": (230, 30, 30),
    "green": (30, 200, 40),
    "blue": (40, 60, 235),
    "yellow": (240, 220, 30),
    "white": (250, 250, 250),
    "black": (10, 10, 10),
}
SHAPES = ("circle", "square", "triangle")
DIRECTIONS = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}
#: words of the sentences, for building a matching tokenizer vocabulary in tests
SYNTHETIC_WORDS = ("small", "moving", *COLOURS, *SHAPES, *DIRECTIONS)


@dataclass(frozen=True)
class SyntheticVideo:
    """How one video looks; :func:`render_video` turns it into frames and boxes."""

    colour: str
    shape: str
    direction: str
    frames: int = 40
    width: int = 160
    height: int = 120
    size: int = 18
    speed: float = 2.0
    seed: int = 0
    absent_frames: tuple[int, ...] = ()  # 0-based frames where the target is hidden

    @property
    def sentence(self) -> str:
        return f"small {self.colour} {self.shape} moving {self.direction}"


class ArrayFrameSource(FrameSource):
    """Frames held in memory (what the writer encodes)."""

    def __init__(self, frames: Sequence[np.ndarray], fps: float = 30.0) -> None:
        self._frames = list(frames)
        self._fps = fps
        self.path = Path("synthetic")

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    @property
    def frame_size(self) -> tuple[int, int]:
        height, width = self._frames[0].shape[:2]
        return width, height

    @property
    def fps(self) -> float:
        return self._fps

    def frame(self, index: int) -> np.ndarray:
        return self._frames[index]


def textured_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth low-saturation blobs + stripes + grain: texture without strong colour."""
    coarse = rng.uniform(70, 170, (max(2, height // 16), max(2, width // 16), 1))
    tint = rng.uniform(0.85, 1.15, (1, 1, 3))
    smooth = cv2.resize(coarse * tint, (width, height), interpolation=cv2.INTER_CUBIC)
    if smooth.ndim == 2:
        smooth = smooth[..., None]
    yy, xx = np.mgrid[0:height, 0:width]
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 14)
    stripes = 12 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    grain = rng.normal(0, 6, (height, width, 1))
    image = smooth + stripes[..., None] + grain
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_shape(
    image: np.ndarray, shape: str, box: tuple[float, float, float, float], colour
) -> None:
    """Draw ``shape`` filling ``box`` (x, y, w, h) in ``colour`` (RGB), anti-aliased."""
    x, y, w, h = box
    shift = 4  # sub-pixel precision of cv2 drawing
    scale = 1 << shift

    def p(px: float, py: float) -> tuple[int, int]:
        return (round(px * scale), round(py * scale))

    colour = tuple(int(c) for c in colour)
    if shape == "circle":
        cv2.ellipse(
            image, p(x + w / 2, y + h / 2), p(w / 2, h / 2), 0, 0, 360, colour, -1,
            cv2.LINE_AA, shift,
        )  # fmt: skip
    elif shape == "square":
        cv2.rectangle(image, p(x, y), p(x + w - 1, y + h - 1), colour, -1, cv2.LINE_AA, shift)
    elif shape == "triangle":
        points = np.array([p(x + w / 2, y), p(x + w, y + h), p(x, y + h)], dtype=np.int32)
        cv2.fillPoly(image, [points], colour, cv2.LINE_AA, shift)
    else:
        raise ValueError(f"unknown shape {shape!r}")


def render_video(video: SyntheticVideo) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Frames (RGB uint8), boxes ``(N, 4)`` and absent flags ``(N,)`` of ``video``."""
    rng = np.random.default_rng(video.seed)
    w, h, n = video.width, video.height, video.frames
    background = textured_background(w, h, rng)
    dx, dy = DIRECTIONS[video.direction]
    travel = video.speed * (n - 1)
    margin = 4.0
    size = float(video.size)

    def start(axis_step: int, extent: int) -> float:
        low, high = margin, extent - size - margin
        if axis_step > 0:
            high -= travel
        elif axis_step < 0:
            low += travel
        return float(rng.uniform(low, max(low, high)))

    x0, y0 = start(dx, w), start(dy, h)
    phase, wobble = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 2.0)
    distractor = np.array([rng.uniform(0, w - size), rng.uniform(0, h - size)])
    distractor_velocity = rng.uniform(-1.5, 1.5, 2)
    distractor_shape = SHAPES[int(rng.integers(len(SHAPES)))]
    frames, boxes = [], []
    absent = np.zeros(n, dtype=bool)
    absent[list(video.absent_frames)] = True
    for t in range(n):
        along = video.speed * t
        across = wobble * np.sin(phase + t / 4.0)
        x = x0 + dx * along + (across if dy else 0.0)
        y = y0 + dy * along + (across if dx else 0.0)
        x = float(np.clip(x, 0, w - size))
        y = float(np.clip(y, 0, h - size))
        frame = background.copy()
        position = distractor + distractor_velocity * t
        position = np.abs(np.mod(position, 2 * np.array([w - size, h - size])))
        position = np.minimum(position, 2 * np.array([w - size, h - size]) - position)
        draw_shape(frame, distractor_shape, (*position, size, size), (128, 128, 128))
        if not absent[t]:
            draw_shape(frame, video.shape, (x, y, size, size), COLOURS[video.colour])
        frames.append(frame)
        boxes.append((x, y, size, size))
    return frames, np.array(boxes, dtype=np.float64), absent


def write_synthetic_video(folder: str | Path, video: SyntheticVideo) -> Path:
    """Render ``video`` and write it as a VL-SOT500 folder (float boxes, exact positions)."""
    frames, boxes, absent = render_video(video)
    return write_vlsot500(
        folder,
        frames=ArrayFrameSource(frames),
        boxes=boxes,
        absent=absent,
        language=video.sentence,
        attributes=[0] * 17,
        float_boxes=True,
    )


def synthetic_videos(count: int, seed: int = 0, **options: object) -> list[SyntheticVideo]:
    """``count`` videos cycling through colours, shapes and directions (distinct sentences
    for the first len(COLOURS) x len(SHAPES) videos)."""
    colours, directions = list(COLOURS), list(DIRECTIONS)
    videos = []
    for index in range(count):
        videos.append(
            SyntheticVideo(
                colour=colours[index % len(colours)],
                shape=SHAPES[(index // len(colours) + index) % len(SHAPES)],
                direction=directions[index % len(directions)],
                seed=seed * 1000 + index,
                **options,
            )
        )
    return videos


def write_synthetic_dataset(
    root: str | Path, count: int, seed: int = 0, **options: object
) -> list[Path]:
    """``count`` synthetic VL-SOT500 videos in ``root`` (a dataset root); their folders."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    return [
        write_synthetic_video(root / f"synthetic_{index:03d}", video)
        for index, video in enumerate(synthetic_videos(count, seed, **options))
    ]
