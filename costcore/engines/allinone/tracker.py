"""All-in-One's online tracker (the authors' ``lib/test/tracker/ostrack.py``), per frame:

crop the search region around the previous box (:func:`sample_target`, factor 4, 256 px),
normalise (``/255``, ImageNet mean and std), run the network against the template cropped once
from the first frame (factor 2, 128 px), multiply the centre score map by OSTrack's Hann window
(no blending), take the box at its maximum, map it back to the frame from the previous centre
and clip it so at least 10 px stay inside the image. No template update, no score threshold.

The description only decides whether the language token is [CLS] or [PAD] (see
:mod:`costcore.engines.allinone.network`), and it is read once, at initialisation.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from costcore.boxes import Box
from costcore.crops.ostrack import hann2d_centered, sample_target
from costcore.engines.allinone.config import AllInOneConfig
from costcore.engines.allinone.network import AllInOneNet
from costcore.engines.base import TrackerEngine, TrackResult, check_initial_box, check_rgb_frame
from costcore.engines.engine_device import synchronize
from costcore.engines.errors import EngineError
from costcore.engines.ostrack_inference import ImageNetNormaliser, box_in_frame


class AllInOneTracker(TrackerEngine):
    """All-in-One behind the engine interface; ``step`` returns the centre score map."""

    name = "allinone"
    yields_score_map = True

    def __init__(self, network: AllInOneNet, device: torch.device, summary: str = "") -> None:
        self.network = network.to(device).eval()
        self.config: AllInOneConfig = network.config
        self._device = device
        self.summary = summary
        side = self.config.search_feature_size
        self._window = hann2d_centered(side).to(device)
        self._normalise = ImageNetNormaliser(device)
        self._state: list[float] | None = None
        self._z_tokens: torch.Tensor | None = None
        self._language: torch.Tensor | None = None
        self._box_mask_z: torch.Tensor | None = None
        self._pending_timings: dict[str, float] = {}

    @property
    def device(self) -> str:
        return str(self._device)

    # --- engine interface ----------------------------------------------------------------------
    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        frame = check_rgb_frame(frame)
        box = check_initial_box(self.name, box, frame)
        cfg = self.config
        start = time.perf_counter()
        self._state = self._z_tokens = None  # no half-set state if this fails
        patch, crop = sample_target(frame, box, cfg.template_factor, cfg.template_size)
        with torch.inference_mode():
            self._language = self.network.language_vector(bool(text.strip()), self._device)
            template = self._normalise(patch)
            self._z_tokens = self.network.template_tokens(template, self._language)
            self._box_mask_z = self._template_mask(list(box), crop.resize_factor)
        self._state = list(box)
        self._pending_timings = {"template": (time.perf_counter() - start) * 1000.0}

    def step(self, frame: np.ndarray) -> TrackResult:
        if self._state is None or self._z_tokens is None:
            raise EngineError("allinone: call initialize() before step()")
        frame = check_rgb_frame(frame)
        height, width = frame.shape[:2]
        cfg = self.config
        timings: dict[str, float] = {}
        start = time.perf_counter()
        patch, crop = sample_target(frame, self._state, cfg.search_factor, cfg.search_size)
        timings["crop"] = (time.perf_counter() - start) * 1000.0
        with torch.inference_mode():
            begin = time.perf_counter()
            search = self._normalise(patch)
            score_map, size_map, offset_map = self.network(
                self._z_tokens, search, self._language, self._box_mask_z
            )
            synchronize(self._device)
            timings["network"] = (time.perf_counter() - begin) * 1000.0
            begin = time.perf_counter()
            response = self._window * score_map
            boxes, best = self.network.box_head.box_at_max(response, size_map, offset_map)
            box = boxes.view(-1, 4).mean(dim=0)
            self._state = box_in_frame(box, self._state, crop, height, width)
            scores = score_map[0, 0].float().cpu().numpy()
            best_index = int(best[0])
        timings["prediction"] = (time.perf_counter() - begin) * 1000.0
        timings["total"] = (time.perf_counter() - start) * 1000.0
        timings.update(self._pending_timings)
        self._pending_timings = {}
        return TrackResult(
            box=Box(*self._state),
            score=float(scores.reshape(-1)[best_index]),
            engine=self.name,
            score_map=scores.astype(np.float32),
            search_region=crop.region,
            timings_ms=timings,
        )

    # --- helpers -------------------------------------------------------------------------------
    def _template_mask(self, box: list[float], resize_factor: float) -> torch.Tensor | None:
        """Which template tokens rank the search tokens in candidate elimination."""
        cfg = self.config
        side = cfg.template_feature_size
        mode = cfg.ce_template_range
        if not cfg.ce_loc or mode == "ALL":
            return None
        if mode in ("CTR_POINT", "CTR_REC"):
            slices = {
                "CTR_POINT": {8: slice(3, 4), 12: slice(5, 6), 7: slice(3, 4), 14: slice(6, 7)},
                "CTR_REC": {8: slice(3, 5), 12: slice(5, 7), 7: slice(3, 4)},
            }[mode]
            if side not in slices:
                raise EngineError(
                    f"allinone: {mode} is undefined for a {side} x {side} template map"
                )
            mask = torch.zeros([1, side, side], device=self._device)
            mask[:, slices[side], slices[side]] = 1
            return mask.flatten(1).to(torch.bool)
        # GT_BOX: the template tokens under the initial box
        size = cfg.template_size
        crop_size = torch.Tensor([size, size])
        box_in = torch.tensor(box)
        center = box_in[0:2] + 0.5 * box_in[2:4]
        out_center = (crop_size - 1) / 2 + (center - center) * resize_factor
        out_wh = box_in[2:4] * resize_factor
        normalised = torch.cat((out_center - 0.5 * out_wh, out_wh)) / crop_size[0]
        x0, y0, w, h = (normalised * size).tolist()
        mask = torch.zeros([1, size, size])
        mask[0, int(y0) : int(y0 + h - 1), int(x0) : int(x0 + w - 1)] = 1
        mask = F.interpolate(
            mask.unsqueeze(1), scale_factor=1.0 / cfg.patch_size, mode="bilinear",
            align_corners=False,
        )  # fmt: skip
        return mask.flatten(1).to(torch.bool).to(self._device)
