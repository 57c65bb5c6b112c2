"""How NanoTrack turns the network's maps into the next box: the authors' rules and OpenCV's.

**The authors** (``nanotrack/tracker/nano_tracker.py``, pysot's SiamBAN tracker, float64):

1. Start: centre ``(x + w / 2, y + h / 2)`` (what their ``bin/test.py`` hands the tracker),
   size ``(w, h)``; the template is a ``round(s_z)`` square, ``s_z = sqrt((w + p)(h + p))``
   with context ``p = 0.5 (w + h)``, resized to 127 px; padding with the first frame's mean.
2. Each frame: the search square is ``round(s_z * 255 / 127)`` pixels around the previous
   centre, resized to 255 px (``scale_z = 127 / s_z``, unrounded, maps crop pixels back).
3. Score: softmax of the two class channels, channel 1. Boxes: cell ``(i, j)`` sits at
   ``(16 (j - S // 2), 16 (i - S // 2))`` crop pixels from the centre and predicts the
   distances to the box's four edges.
4. Penalties: scale change ``s_c`` (of ``sqrt((w + p)(h + p))``) and aspect-ratio change
   ``r_c``, each as ``max(r, 1 / r)``; ``penalty = exp(-(r_c s_c - 1) k)``; the choice is the
   maximum of ``penalty * score * (1 - influence) + hann * influence`` (an outer product of
   ``np.hanning(S)``).
5. Update: the chosen box's centre moves the target (no smoothing); its size is blended with
   ``lr = penalty * score * LR``; centre clipped to the frame, sides to ``[10, frame side]``.

**Decoding from the crop actually cut** (``decode="crop"``, not the default): the authors
add the network's offsets to the tracked centre at the nominal scale ``127 / s_z``, as if the
search square were centred on it. It is not: its first pixel is rounded (step 2), so its
centre ``left + side / 2`` (the convention of the boxes and of ``cv2.resize``: pixel ``i``
spans ``[i, i + 1)``) lies up to one pixel up-left of the tracked centre, half a pixel on
average, and its scale is ``255 / side`` for the rounded side. The authors' boxes inherit
that: half a pixel down-right on average, plus up to half a pixel of jitter per frame, which
matters for 10-30 px targets. ``decode="crop"`` maps the network's output back through the
square actually cut (its centre and its scale) and changes nothing else. Measured in
BENCHMARKS.md (NanoTrack, accuracy): +0.011 (V2) and +0.014 (V3) mean AUC on the four sample
sequences, where a post-hoc shift of the authors' boxes would need about -0.5 px to gain as
much and brings nothing once the decoding is right.

**OpenCV's TrackerNano** (OpenCV 5.1, ``cv2.TrackerNano``, float32), an independent C++
port with its own choices, kept here so tests can hold us to it box for box:

- the centre starts at ``x + w * 0.5``; the template side is truncated, not rounded; the
  search side is ``int(s_z * 255 / 127)``;
- the square's first pixel is ``int(centre) - (side + 1) // 2``; padding is the *current*
  frame's mean, rounded;
- the crop goes to the network as RGB (``blobFromImage(swapRB=true)`` on OpenCV's BGR
  frames), where the authors' network was trained on BGR;
- the Hann window is OpenCV's ``createHanningWindow`` (square root of the outer product);
- penalty k 0.055, influence 0.455, lr 0.37 whatever the weights (``OPENCV_TRACKER_NANO``).

(OpenCV 4.x's ``tracker_nano.cpp`` also truncated ``w + h`` to an integer, cut a 2 s_z search
square (C integer division of 255 by 127) and divided the scale penalty by the size of the
target's *position*; OpenCV 5.1's boxes show none of these, and these rules reproduce them.)

Both report the chosen cell's *raw* softmax score as the frame's score: a probability
comparable from frame to frame and across sequences, which the window and penalty terms (how
far and how much the box moved) are not. The score map is the raw softmax map.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from costcore.engines.nanotrack.config import STRIDE, NanoTrackConfig
from costcore.engines.nanotrack.crop import (
    SquareWindow,
    authors_fill,
    authors_window,
    opencv_fill,
    opencv_window,
)


@dataclass(frozen=True)
class TargetState:
    """The target's centre and size in frame pixels (what both trackers carry over)."""

    cx: float
    cy: float
    w: float
    h: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.cx - self.w / 2, self.cy - self.h / 2, self.w, self.h)


@dataclass(frozen=True)
class SearchPlan:
    """Where to cut this frame's search square and how its pixels map back to the frame:
    the network's offsets are added to ``centre`` (frame pixels) after dividing by
    ``scale_z`` (crop pixels per frame pixel)."""

    window: SquareWindow
    scale_z: float
    centre: tuple[float, float]


@dataclass(frozen=True)
class Decision:
    """The update's outcome: the new state and which cell of the score map was chosen."""

    state: TargetState
    best: int


def _change(ratio: np.ndarray) -> np.ndarray:
    return np.maximum(ratio, 1.0 / ratio)


def _padded_size(w: np.ndarray | float, h: np.ndarray | float) -> np.ndarray | float:
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


class AuthorsRules:
    """The authors' NanoTracker arithmetic (see the module docstring)."""

    #: the authors' network was trained on BGR crops: the engine's RGB crops are permuted
    rgb_input = True

    def __init__(self, config: NanoTrackConfig) -> None:
        self.config = config
        size = config.output_size
        hanning = np.hanning(size)
        self.window = np.outer(hanning, hanning).reshape(-1)
        offsets = (np.arange(size) - size // 2) * STRIDE
        grid_x, grid_y = np.meshgrid(offsets, offsets)
        self.points = np.stack((grid_x.reshape(-1), grid_y.reshape(-1))).astype(np.float32)
        self.fill: tuple[int, int, int] = (0, 0, 0)

    def start(self, frame: np.ndarray, box: tuple[float, ...]) -> tuple[TargetState, SquareWindow]:
        x, y, w, h = (np.float64(v) for v in box)  # numpy scalars, as their np.array state
        state = TargetState(x + w / 2, y + h / 2, w, h)
        self.fill = authors_fill(frame)
        side = round(float(self._context_side(state)))
        return state, authors_window((state.cx, state.cy), side)

    def _context_side(self, state: TargetState) -> float:
        context = self.config.context_amount * (state.w + state.h)
        return np.sqrt((state.w + context) * (state.h + context))

    def fill_for(self, frame: np.ndarray) -> tuple[int, int, int]:
        return self.fill

    def plan(self, state: TargetState) -> SearchPlan:
        cfg = self.config
        s_z = self._context_side(state)
        s_x = s_z * (cfg.instance_size / cfg.exemplar_size)
        window = authors_window((state.cx, state.cy), round(float(s_x)))
        if cfg.decode == "crop":  # from the square actually cut (see the module docstring)
            centre = (window.left + window.side / 2, window.top + window.side / 2)
            return SearchPlan(window, cfg.instance_size / window.side, centre)
        return SearchPlan(window, cfg.exemplar_size / s_z, (state.cx, state.cy))

    def decide(
        self,
        state: TargetState,
        plan: SearchPlan,
        score: np.ndarray,
        distances: np.ndarray,
        frame_size: tuple[int, int],
    ) -> Decision:
        """``score`` (N,) foreground probabilities; ``distances`` (4, N) float32 l, t, r, b."""
        cfg = self.config
        scale_z = plan.scale_z
        x1 = self.points[0] - distances[0]
        y1 = self.points[1] - distances[1]
        x2 = self.points[0] + distances[2]
        y2 = self.points[1] + distances[3]
        cx, cy = (x1 + x2) * 0.5, (y1 + y2) * 0.5
        pw, ph = x2 - x1, y2 - y1
        s_c = _change(_padded_size(pw, ph) / _padded_size(state.w * scale_z, state.h * scale_z))
        r_c = _change((state.w / state.h) / (pw / ph))
        penalty = np.exp(-(r_c * s_c - 1) * cfg.penalty_k)
        pscore = penalty * score * (1 - cfg.window_influence) + self.window * cfg.window_influence
        best = int(np.argmax(pscore))
        lr = float(penalty[best] * score[best] * cfg.lr)
        new_cx = cx[best] / scale_z + plan.centre[0]
        new_cy = cy[best] / scale_z + plan.centre[1]
        width = state.w * (1 - lr) + pw[best] / scale_z * lr
        height = state.h * (1 - lr) + ph[best] / scale_z * lr
        frame_w, frame_h = frame_size
        new_state = TargetState(
            np.float64(max(0.0, min(new_cx, frame_w))),
            np.float64(max(0.0, min(new_cy, frame_h))),
            np.float64(max(cfg.min_size, min(width, frame_w))),
            np.float64(max(cfg.min_size, min(height, frame_h))),
        )
        return Decision(new_state, best)


class OpenCVRules:
    """OpenCV's TrackerNano arithmetic, in float32 as its C++ (see the module docstring)."""

    #: OpenCV hands the network RGB (it swaps its BGR frames); the engine's frames are RGB
    rgb_input = False

    def __init__(self, config: NanoTrackConfig) -> None:
        self.config = config
        size = config.output_size
        self.window = cv2.createHanningWindow((size, size), cv2.CV_32F).reshape(-1)
        offsets = (np.arange(size, dtype=np.float32) - size // 2) * STRIDE
        offsets += config.instance_size // 2
        grid_x, grid_y = np.meshgrid(offsets, offsets)
        self.grid = np.stack((grid_x.reshape(-1), grid_y.reshape(-1))).astype(np.float32)

    def start(self, frame: np.ndarray, box: tuple[float, ...]) -> tuple[TargetState, SquareWindow]:
        x, y, w, h = (np.float32(v) for v in box)
        state = TargetState(x + w * np.float32(0.5), y + h * np.float32(0.5), w, h)
        total = w + h
        context = np.float32(self.config.context_amount)
        side = np.sqrt((w + context * total) * (h + context * total))
        return state, opencv_window((state.cx, state.cy), int(side))

    def fill_for(self, frame: np.ndarray) -> tuple[int, int, int]:
        return opencv_fill(frame)

    def plan(self, state: TargetState) -> SearchPlan:
        cfg = self.config
        total = state.w + state.h
        context = np.float32(cfg.context_amount)
        s_z = np.sqrt((state.w + context * total) * (state.h + context * total))
        scale_z = np.float32(cfg.exemplar_size) / s_z
        s_x = s_z * np.float32(cfg.instance_size / cfg.exemplar_size)
        return SearchPlan(
            opencv_window((state.cx, state.cy), int(s_x)), scale_z, (state.cx, state.cy)
        )

    def decide(
        self,
        state: TargetState,
        plan: SearchPlan,
        score: np.ndarray,
        distances: np.ndarray,
        frame_size: tuple[int, int],
    ) -> Decision:
        cfg = self.config
        f32 = np.float32
        scale_z = f32(plan.scale_z)
        score = score.astype(np.float32, copy=False)
        x1 = self.grid[0] - distances[0]
        y1 = self.grid[1] - distances[1]
        x2 = self.grid[0] + distances[2]
        y2 = self.grid[1] + distances[3]
        pw, ph = x2 - x1, y2 - y1
        scaled_w, scaled_h = state.w * scale_z, state.h * scale_z
        s_c = _change(_padded_size(pw, ph) / _padded_size(scaled_w, scaled_h))
        r_c = _change(f32(scaled_w / scaled_h) / (pw / ph))
        penalty = np.exp((r_c * s_c - f32(1)) * f32(cfg.penalty_k) * f32(-1))
        influence = f32(cfg.window_influence)
        pscore = penalty * score * (f32(1) - influence) + self.window * influence
        best = int(np.argmax(pscore))
        half = f32(cfg.instance_size // 2)
        pred_w = (x2[best] - x1[best]) / scale_z
        pred_h = (y2[best] - y1[best]) / scale_z
        diff_x = ((x1[best] + x2[best]) / f32(2) - half) / scale_z
        diff_y = ((y1[best] + y2[best]) / f32(2) - half) / scale_z
        old_w, old_h = scaled_w / scale_z, scaled_h / scale_z
        lr = penalty[best] * score[best] * f32(cfg.lr)
        width = pred_w * lr + (f32(1) - lr) * old_w
        height = pred_h * lr + (f32(1) - lr) * old_h
        frame_w, frame_h = f32(frame_size[0]), f32(frame_size[1])
        min_size = f32(cfg.min_size)
        new_state = TargetState(
            max(f32(0), min(frame_w, state.cx + diff_x)),
            max(f32(0), min(frame_h, state.cy + diff_y)),
            max(min_size, min(frame_w, width)),
            max(min_size, min(frame_h, height)),
        )
        return Decision(new_state, best)


def rules_for(config: NanoTrackConfig) -> AuthorsRules | OpenCVRules:
    return AuthorsRules(config) if config.rules == "authors" else OpenCVRules(config)
