"""UVLTrack's online tracker (the authors' ``lib/test/tracker/uvltrack.py``) in its three modes.

- BBOX (a box, no sentence): the reference token is the ViT's visual token; the words are
  hidden from the image.
- NLBBOX (a box and a sentence): the reference is the mean of the visual and text tokens.
- NL (a sentence only): :meth:`UVLTrackTracker.ground` finds the box on the first frame (the
  whole frame letterboxed to 256 px, no template), then tracking runs as NLBBOX from that box
  - exactly the authors' NL mode, which grounds and then tracks with both references.

Initialisation crops the template (factor 2, 128 px) and the context (factor 4, 256 px) from
the first frame and builds the three contrastive prompts from them. Each frame: the search
region (factor 4, 256 px) around the previous box, the network, the score map times the
contrastive target probability times a Hann window (``np.hanning``, zero at the border), the
box at the best cell mapped back to the frame and clipped so 10 px stay inside. The best frame
since the last renewal is remembered; every ``update_interval`` frames, when its score passed
``update_threshold``, the prompts are rebuilt from that frame's features and box.

Arithmetic is kept in the authors' types (float32 tensors, the window product in float64,
Python floats for the box), so the boxes equal theirs.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from costcore.boxes import Box
from costcore.crops.ostrack import sample_target
from costcore.engines.base import (
    GroundingResult,
    TrackerEngine,
    TrackResult,
    check_initial_box,
    check_rgb_frame,
)
from costcore.engines.bert_text import bert_token_ids
from costcore.engines.engine_device import synchronize
from costcore.engines.errors import EngineError
from costcore.engines.ostrack_inference import ImageNetNormaliser, box_in_frame
from costcore.engines.uvltrack.config import UVLTrackConfig
from costcore.engines.uvltrack.crops import (
    box_in_crop,
    cells_under_box,
    grounded_box,
    letterbox,
)
from costcore.engines.uvltrack.network import (
    REFERENCE_BOTH,
    REFERENCE_BOX,
    BackboneOutput,
    TextFeatures,
    UVLTrackNet,
)

#: how the target may be given: "auto" uses the sentence when there is one
MODES = ("auto", "bbox", "nlbbox")


class UVLTrackTracker(TrackerEngine):
    """UVLTrack behind the engine interface; ``step`` returns the 16 x 16 score map."""

    name = "uvltrack"
    yields_score_map = True
    can_ground = True

    def __init__(
        self,
        network: UVLTrackNet,
        tokenizer: Any | None,
        device: torch.device,
        summary: str = "",
        mode: str = "auto",
    ) -> None:
        if mode not in MODES:
            raise EngineError(f"uvltrack: mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.network = network.to(device).eval()
        self.config: UVLTrackConfig = network.config
        self.tokenizer = tokenizer
        self.mode = mode
        self._device = device
        self.summary = summary
        side = self.config.search_feature_size
        # float64, as the authors' numpy window makes the product
        self._window = torch.from_numpy(np.outer(np.hanning(side), np.hanning(side)).flatten())
        self._normalise = ImageNetNormaliser(device)
        self._state: list[float] | None = None
        self._template: torch.Tensor | None = None
        self._template_mask: torch.Tensor | None = None
        self._text: TextFeatures | None = None
        self._prompts: torch.Tensor | None = None
        self._flag = REFERENCE_BOX
        self._frame_id = 0
        self._best: tuple[torch.Tensor, BackboneOutput] | None = None
        self._best_score: torch.Tensor | float = 0
        self._pending_timings: dict[str, float] = {}

    @property
    def device(self) -> str:
        return str(self._device)

    # --- engine interface ----------------------------------------------------------------------
    def ground(self, frame: np.ndarray, text: str) -> GroundingResult:
        """The box the sentence describes in ``frame``; the tracking state is not touched."""
        frame = check_rgb_frame(frame)
        text = self.language_text(text)
        if not text.strip():
            raise EngineError("uvltrack: finding the target needs a sentence")
        start = time.perf_counter()
        height, width = frame.shape[:2]
        with torch.inference_mode():
            image = self._normalise(letterbox(frame, self.config.search_size))
            words = self._encode(text)
            _, head = self.network.ground(image, words)
            scores = head.scores * head.target_probability
            best = int(torch.argmax(scores, dim=-1)[0])
            box = grounded_box(head.boxes[0, best], width, height)
            score = float(scores[0, best])
        elapsed = (time.perf_counter() - start) * 1000.0
        return GroundingResult(Box(*box), score, {"grounding": elapsed})

    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        frame = check_rgb_frame(frame)
        box = check_initial_box(self.name, box, frame)
        use_text = bool(text.strip()) and self.mode != "bbox"
        if self.mode == "nlbbox" and not use_text:
            raise EngineError("uvltrack: mode 'nlbbox' needs a sentence")
        cfg = self.config
        start = time.perf_counter()
        self._state = None  # no half-set state if this fails
        timings: dict[str, float] = {}
        with torch.inference_mode():
            begin = time.perf_counter()
            self._text = self._encode(text if use_text else None)
            if use_text:
                timings["language"] = (time.perf_counter() - begin) * 1000.0
            self._flag = REFERENCE_BOTH if use_text else REFERENCE_BOX
            z_patch, z_crop = sample_target(frame, box, cfg.template_factor, cfg.template_size)
            self._template = self._normalise(z_patch)
            z_box = box_in_crop(box.w, box.h, z_crop.side)
            self._template_mask = cells_under_box(z_box, cfg.template_feature_size)
            self._template_mask = self._template_mask.to(self._device)
            x_patch, x_crop = sample_target(frame, box, cfg.search_factor, cfg.search_size)
            x_box = box_in_crop(box.w, box.h, x_crop.side)
            context_mask = cells_under_box(x_box, cfg.search_feature_size).to(self._device)
            self._prompts = self.network.prompts(
                self._template,
                self._normalise(x_patch),
                self._text,
                self._template_mask,
                context_mask,
                self._flag,
            )
        self._frame_id = 0
        self._best, self._best_score = None, 0
        self._state = list(box)
        timings["template"] = (time.perf_counter() - start) * 1000.0
        self._pending_timings = timings

    def step(self, frame: np.ndarray) -> TrackResult:
        if self._state is None or self._prompts is None:
            raise EngineError("uvltrack: call initialize() before step()")
        frame = check_rgb_frame(frame)
        height, width = frame.shape[:2]
        cfg = self.config
        self._frame_id += 1
        timings: dict[str, float] = {}
        start = time.perf_counter()
        patch, crop = sample_target(frame, self._state, cfg.search_factor, cfg.search_size)
        timings["crop"] = (time.perf_counter() - start) * 1000.0
        with torch.inference_mode():
            begin = time.perf_counter()
            search = self._normalise(patch)
            features, head = self.network(
                self._template, search, self._text, self._prompts, self._flag
            )
            synchronize(self._device)
            timings["network"] = (time.perf_counter() - begin) * 1000.0
            begin = time.perf_counter()
            boxes = head.boxes.view(-1, 4).cpu()
            scores = head.scores.view(-1).cpu()
            target = head.target_probability.view(-1).cpu() if cfg.contrastive_score else 1
            best = int(torch.argmax(scores.double() * self._window * target))
            box_net = boxes[best]
            confidence = scores * target
            score = confidence[best]
            self._state = box_in_frame(box_net, self._state, crop, height, width)
            if cfg.contrastive_score:
                self._remember_best(score, box_net, features)
            timings["prediction"] = (time.perf_counter() - begin) * 1000.0
        timings["total"] = (time.perf_counter() - start) * 1000.0
        timings.update(self._pending_timings)
        self._pending_timings = {}
        side = cfg.search_feature_size
        score_map = torch.as_tensor(confidence).reshape(side, side).numpy().astype(np.float32)
        return TrackResult(
            box=Box(*self._state),
            score=float(score),
            engine=self.name,
            score_map=score_map,
            search_region=crop.region,
            timings_ms=timings,
        )

    # --- helpers -------------------------------------------------------------------------------
    def _remember_best(
        self, score: torch.Tensor, box: torch.Tensor, features: BackboneOutput
    ) -> None:
        """Keep the best frame; every ``update_interval`` frames renew the prompts from it."""
        cfg = self.config
        if score > self._best_score:
            self._best, self._best_score = (box, features), score
        if self._frame_id % cfg.update_interval or not self._best_score > cfg.update_threshold:
            return
        best_box, best_features = self._best
        cx, cy, w, h = best_box.reshape(1, 4).unbind(-1)
        context_box = torch.stack([cx - 0.5 * w, cy - 0.5 * h, w, h], dim=-1)
        context_mask = cells_under_box(context_box, cfg.search_feature_size).to(self._device)
        self._prompts = self.network.box_head.prompts(
            best_features, self._template_mask, context_mask
        )
        self._best_score = 0

    def _encode(self, text: str | None) -> TextFeatures:
        """The description through BERT's first layers; without one, all-padding tokens (the
        authors' BBOX mode feeds zeros, which the image never attends to)."""
        limit = self.config.max_text_tokens
        if text is None:
            ids = torch.zeros([1, limit], dtype=torch.long, device=self._device)
            mask = torch.zeros([1, limit], dtype=torch.long, device=self._device)
            return self.network.backbone.encode_text(ids, mask)
        if self.tokenizer is None:
            raise EngineError(
                "uvltrack: a sentence needs BERT's tokenizer; pass text_model=<folder with "
                "vocab.txt> or put one in the weights folder's 'bert' subfolder"
            )
        ids, mask = bert_token_ids(self.tokenizer, text, limit, self._device)
        return self.network.backbone.encode_text(ids, mask)
