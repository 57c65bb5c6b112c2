"""The online COST / TransT tracker: initialise once, then one forward pass per frame.

At ``initialize`` the template crop (factor 2, 128 px) is encoded and the description goes
through BERT once; both are cached for the whole video (no template update, as in the paper).
Each ``track`` crops the search region (factor 4, 256 px) around the previous box, runs the
visual branch, the visual-linguistic fusion and the head, picks the best candidate under a
Hann-window prior, maps its box back to the frame and keeps its centre in the image and its
size in [min_size, image size] (TransT's ``_bbox_clip``). The numbers (factors, sizes, window
influence, minimum size, precision) are a :class:`~costcore.engines.cost.params.COSTTrackerParams`.

Exactly as TransT's tracker (``pytracking/tracker/transt``), whose weights we load:

- crops are cut in whole pixels by :func:`costcore.crops.pysot.pysot_crop` (TransT's
  ``get_subwindow``: first pixel ``floor(c - (side + 1) / 2 + 0.5)``, cv2.resize, padding with
  the first frame's mean colour truncated to uint8), while the head's box is mapped back from
  the unrounded origin ``c - side / 2`` (:meth:`SearchCrop.to_frame`), as TransT does;
- the returned box is the state itself, *not* clipped to the image: near a border it may
  extend past it. Callers that show or export boxes clip them (the assist jobs do).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from costcore.boxes import Box
from costcore.crops.pysot import pysot_crop
from costcore.crops.transt import SearchCrop
from costcore.engines.base import TrackerEngine, TrackResult
from costcore.engines.cost.params import COSTTrackerParams
from costcore.engines.cost.postprocess import choose_candidate, clip_state
from costcore.engines.engine_device import synchronize
from costcore.model.cost import COSTModel, TemplateState
from costcore.model.linguistic_branch import LanguageState
from costcore.torch_device import resolve_device

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class COSTTracker(TrackerEngine):
    """COST (or TransT for a visual-only model) behind the engine interface.

    ``params`` default to TransT's with the network's crop sizes
    (:meth:`COSTTrackerParams.for_model`); their sizes must be the network's. ``track``
    (alias ``step``) returns a :class:`TrackResult` with the raw score map over the search
    region and per-stage timings in ms: crop, visual (backbone + feature fusion + visual-token
    convs), fusion (the visual-linguistic transformer), prediction (head, softmax, window,
    box), total; the first result after ``initialize`` also carries template and language
    (computed once).
    """

    yields_score_map = True

    def __init__(
        self,
        model: COSTModel,
        device: str | torch.device = "auto",
        params: COSTTrackerParams | None = None,
    ) -> None:
        config = model.config
        params = params or COSTTrackerParams.for_model(config)
        for name in ("template_size", "search_size"):
            if getattr(params, name) != getattr(config, name):
                raise ValueError(
                    f"the tracker's {name} ({getattr(params, name)}) must be the network's "
                    f"({getattr(config, name)})"
                )
        self._device = resolve_device(device)
        self.model = model.to(self._device).eval()
        self.params = params
        self.name = "transt" if model.visual_only else "cost"
        self.config = config
        self._template: TemplateState | None = None
        self._language: LanguageState | None = None
        self._fill = np.zeros(3)  # the first frame's mean colour (float64)
        self._state = (0.0, 0.0, 0.0, 0.0)  # cx, cy, w, h (TransT's clipped state)
        self.init_timings_ms: dict[str, float] = {}
        self._pending_timings: dict[str, float] = {}

    @classmethod
    def from_weights(
        cls,
        weights: str | Path,
        device: str | torch.device = "auto",
        params: COSTTrackerParams | None = None,
    ) -> COSTTracker:
        """A tracker over a COST checkpoint folder or a TransT ``.pth`` file (safe loading)."""
        from costcore.model.checkpoint import load_model

        resolved = resolve_device(device)
        model, _ = load_model(weights, resolved)
        return cls(model, resolved, params)

    @property
    def autocast(self) -> str | None:
        return self.params.autocast

    # --- engine interface ----------------------------------------------------------------------
    @property
    def device(self) -> str:
        return str(self._device)

    def describe(self) -> str:
        precision = f", {self.autocast}" if self.autocast else ""
        return f"{self.name} ({self.device}{precision})"

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        frame = _check_frame(frame)
        box = Box(*map(float, box))
        if not box.is_valid():
            raise ValueError(f"the initial box must have a positive size, got {box}")
        # TransT pads every crop of the video with the first frame's mean colour
        self._fill = frame.mean(axis=(0, 1))
        self._state = (*box.center, box.w, box.h)
        params = self.params
        crop = SearchCrop.around(box, params.template_factor, params.template_size)
        timings: dict[str, float] = {}
        with self._inference():
            with self._timer(timings, "template"):
                self._template = self.model.encode_template(
                    self._to_tensor(self._cut(frame, crop)[0])
                )
            if self.model.visual_only:
                self._language = None  # TransT: no language, nothing to time
            else:
                with self._timer(timings, "language"):
                    self._language = self.model.encode_language([text])
        self.init_timings_ms = dict(timings)
        self._pending_timings = dict(timings)

    def step(self, frame: np.ndarray) -> TrackResult:
        return self.track(frame)

    # --- tracking ------------------------------------------------------------------------------
    def track(self, frame: np.ndarray) -> TrackResult:
        if self._template is None:
            raise RuntimeError("call initialize() before track()")
        frame = _check_frame(frame)
        height, width = frame.shape[:2]
        params = self.params
        cx, cy, w, h = self._state
        timings: dict[str, float] = {}
        start = time.perf_counter()
        crop = SearchCrop.around(
            Box(cx - w / 2, cy - h / 2, w, h), params.search_factor, params.search_size
        )
        with self._inference():
            with self._timer(timings, "crop"):
                patch, region = self._cut(frame, crop)
                search = self._to_tensor(patch)
            with self._timer(timings, "visual"):
                tokens = self.model.visual(search, self._template)
            with self._timer(timings, "fusion"):
                tokens = self.model.fuse(tokens, self._language)
            with self._timer(timings, "prediction"):
                logits, boxes = self.model.predict(tokens)
                scores = logits[0].float().softmax(dim=-1)[:, 0].cpu().numpy()
                boxes_np = boxes[0].float().cpu().numpy()
                best = choose_candidate(scores, params.window_influence)
                frame_box = crop.to_frame(*boxes_np[best].tolist())
                self._state = clip_state(*frame_box, width, height, params.min_size)
        timings["total"] = (time.perf_counter() - start) * 1000.0
        timings.update(self._pending_timings)
        self._pending_timings = {}
        side = self.model.score_map_size
        cx, cy, w, h = self._state
        return TrackResult(
            box=Box(cx - w / 2, cy - h / 2, w, h),  # unclipped, as TransT reports it
            score=float(scores[best]),
            engine=self.name,
            score_map=scores.reshape(side, side).astype(np.float32),
            search_region=region,
            timings_ms=timings,
        )

    # --- helpers -------------------------------------------------------------------------------
    def _cut(self, frame: np.ndarray, crop: SearchCrop) -> tuple[np.ndarray, Box]:
        """The crop's pixels as TransT cuts them (whole pixels, resized, mean-colour padding)
        and the frame square they come from (what the score map covers)."""
        side = int(crop.side)
        patch, cut = pysot_crop(frame, (crop.cx, crop.cy), crop.output_size, side, self._fill)
        return patch, cut.region

    def _to_tensor(self, crop: np.ndarray) -> torch.Tensor:
        """uint8 HxWx3 -> float (1, 3, H, W) in [0, 1] on the device (converted after upload)."""
        tensor = torch.from_numpy(np.ascontiguousarray(crop)).to(self._device)
        return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255.0)

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        with torch.inference_mode():
            if self.autocast is None:
                yield
            else:
                dtype = AUTOCAST_DTYPES[self.autocast]
                with torch.autocast(device_type=self._device.type, dtype=dtype):
                    yield

    @contextlib.contextmanager
    def _timer(self, timings: dict[str, float], stage: str) -> Iterator[None]:
        """Wall time of a stage; CUDA is synchronised so queued kernels are counted."""
        synchronize(self._device)
        start = time.perf_counter()
        yield
        synchronize(self._device)
        timings[stage] = (time.perf_counter() - start) * 1000.0


def _check_frame(frame: np.ndarray) -> np.ndarray:
    """An RGB uint8 ``(H, W, 3)`` frame (a contiguous view; never a copy when not needed)."""
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", None)
        raise ValueError(f"expected an RGB frame of shape (H, W, 3), got {shape}")
    if frame.dtype != np.uint8:
        raise ValueError(f"expected a uint8 frame, got {frame.dtype}")
    return np.ascontiguousarray(frame)
