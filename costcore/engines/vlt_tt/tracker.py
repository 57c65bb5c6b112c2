"""VLT_TT's online tracker (SOTS' ``SiamTracker`` for VLT_TT and its ``SiamInference``).

Initialisation: the template is a pysot crop of side ``round(sqrt((w + p)(h + p)))``,
``p = (w + h) / 2``, resized to 128 px; the description (if any) goes through BERT once; without
one, visual tokens are pooled from the template under the initial box. Each frame: a crop of
side ``ceil(sqrt((w + 3p)(h + 3p)))`` resized to 256 px, the network, softmax scores, optionally
a scale/ratio change penalty (``penalty_k``), the Hann window blended with ``window_influence``,
the best token's box mapped back by the crop side, the size smoothed with ``lr`` (times penalty
and score when ``penalty_k`` is set), then the centre kept in the image and the size in
[10, image size]. The reported box is ``(max(0, cx - w/2), max(0, cy - h/2), w, h)``.

Arithmetic is kept in the authors' types (float32 network outputs, float64 numpy state), so
the boxes equal theirs.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from costcore.boxes import Box
from costcore.crops.pysot import pysot_crop
from costcore.engines.base import TrackerEngine, TrackResult, check_initial_box, check_rgb_frame
from costcore.engines.bert_text import bert_token_ids
from costcore.engines.errors import EngineError
from costcore.engines.vlt_tt.config import VLTTTConfig
from costcore.engines.vlt_tt.network import VLTTTNet

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
MIN_SIZE = 10


def _change(r: Any) -> Any:
    return np.maximum(r, 1.0 / r)


def _sz(w: Any, h: Any) -> Any:
    pad = (w + h) * 0.5
    return np.sqrt((w + pad) * (h + pad))


class VLTTTTracker(TrackerEngine):
    """VLT_TT behind the engine interface; ``step`` returns the 32 x 32 score map."""

    name = "vlt_tt"
    yields_score_map = True

    def __init__(
        self,
        network: VLTTTNet,
        tokenizer: Any | None,
        device: torch.device,
        summary: str = "",
    ) -> None:
        self.network = network.to(device).eval()
        self.config: VLTTTConfig = network.config
        self.tokenizer = tokenizer
        self._device = device
        self.summary = summary
        size = self.config.score_size
        self._window = np.outer(np.hanning(size), np.hanning(size)).flatten()
        self._pos: np.ndarray | None = None
        self._size = np.zeros(2)
        self._template: tuple[torch.Tensor, torch.Tensor] | None = None
        self._tokens: list[torch.Tensor] | None = None
        self._pending_timings: dict[str, float] = {}

    @property
    def device(self) -> str:
        return str(self._device)

    # --- engine interface ----------------------------------------------------------------------
    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        frame = check_rgb_frame(frame)
        box = check_initial_box(self.name, box)  # SOTS does not ask it to overlap the frame
        cfg = self.config
        start = time.perf_counter()
        self._template = None  # a failed initialisation leaves no half-set state to track
        self._im_h, self._im_w = frame.shape[:2]
        self._pos = np.array([box.x + box.w / 2, box.y + box.h / 2])
        self._size = np.array([box.w, box.h])
        context = cfg.context_amount * sum(self._size)
        wc_z, hc_z = self._size[0] + context, self._size[1] + context
        s_z = round(np.sqrt(wc_z * hc_z))
        self._fill = np.mean(frame, axis=(0, 1))
        patch, _ = pysot_crop(frame, self._pos, cfg.template_size, s_z, self._fill)
        self._scale_z = cfg.template_size / s_z
        # the initial box in the template crop (x1, y1, x2, y2), for the visual tokens
        w, h = self._size[0] * self._scale_z, self._size[1] * self._scale_z
        cx = cy = cfg.template_size // 2
        box_in_crop = np.array(
            [cx - w * 0.5, cy - h * 0.5, cx + w * 0.5, cy + h * 0.5], dtype=np.float32
        )
        body = self.network.body
        cand = cfg.cand
        with torch.inference_mode():
            template = self._to_tensor(patch)
            ids = self._token_ids(text)
            timings: dict[str, float] = {}
            if ids is None:
                self._tokens = None
            else:
                begin = time.perf_counter()
                self._tokens = body.text_tokens(*ids)
                timings["language"] = (time.perf_counter() - begin) * 1000.0
            features, pooled = body(template, cand[0], cand[2], self._tokens, box_in_crop)
            if self._tokens is None:
                self._tokens = pooled  # visual tokens modulate the search region too
            self._template = (features, self.network.positions(features))
        timings["template"] = (time.perf_counter() - start) * 1000.0
        self._pending_timings = timings

    def step(self, frame: np.ndarray) -> TrackResult:
        if self._template is None or self._pos is None:
            raise EngineError("vlt_tt: call initialize() before step()")
        frame = check_rgb_frame(frame)
        cfg = self.config
        start = time.perf_counter()
        context = (4 - 1) * cfg.context_amount * sum(self._size)  # SOTS' fixed factor 4
        hc_x, wc_x = self._size[1] + context, self._size[0] + context
        s_x = math.ceil(math.sqrt(wc_x * hc_x))
        patch, crop = pysot_crop(frame, self._pos, cfg.search_size, s_x, self._fill)
        timings = {"crop": (time.perf_counter() - start) * 1000.0}
        begin = time.perf_counter()
        with torch.inference_mode():
            search = self._to_tensor(patch)
            features, _ = self.network.body(search, cfg.cand[1], cfg.cand[3], self._tokens)
            src_z, pos_z = self._template
            logits, boxes = self.network.predict(
                src_z, pos_z, features, self.network.positions(features)
            )
            score = torch.softmax(logits[0].view(-1, 2), dim=1)[:, 0].cpu().numpy()
            pred_bbox = boxes[0].permute(1, 0).contiguous().cpu().numpy()  # (4, HW)
        timings["network"] = (time.perf_counter() - begin) * 1000.0
        raw_score = score
        if cfg.penalty_k != 0:
            score = score * self._penalty(pred_bbox * s_x)
        win = cfg.window_influence
        pscore = score * (1 - win) + self._window * win
        best = int(np.argmax(pscore))
        bbox = pred_bbox[:, best] * s_x
        cx = bbox[0] + self._pos[0] - s_x / 2
        cy = bbox[1] + self._pos[1] - s_x / 2
        width, height = bbox[2], bbox[3]
        if cfg.penalty_k != 0:
            s_c = _change(
                _sz(width, height)
                / _sz(self._size[0] * self._scale_z, self._size[1] * self._scale_z)
            )
            r_c = _change((self._size[0] / self._size[1]) / (width / height))
            penalty = np.exp(-(r_c * s_c - 1) * cfg.penalty_k)
            lr = penalty * np.max(pscore) * cfg.lr
            width = lr * width + (1 - lr) * self._size[0]
            height = lr * height + (1 - lr) * self._size[1]
        else:
            width = cfg.lr * width + (1 - cfg.lr) * self._size[0]
            height = cfg.lr * height + (1 - cfg.lr) * self._size[1]
        self._pos = np.array([cx, cy])
        self._size = np.array([width, height])
        self._pos[0] = max(0, min(self._im_w, self._pos[0]))
        self._pos[1] = max(0, min(self._im_h, self._pos[1]))
        self._size[0] = max(MIN_SIZE, min(self._im_w, self._size[0]))
        self._size[1] = max(MIN_SIZE, min(self._im_h, self._size[1]))
        timings["total"] = (time.perf_counter() - start) * 1000.0
        timings.update(self._pending_timings)
        self._pending_timings = {}
        pos, size = self._pos, self._size
        side = cfg.score_size
        return TrackResult(
            box=Box(
                float(max(0.0, pos[0] - size[0] / 2)),
                float(max(0.0, pos[1] - size[1] / 2)),
                float(size[0]),
                float(size[1]),
            ),
            score=float(pscore[best]),
            engine=self.name,
            score_map=raw_score.reshape(side, side).astype(np.float32),
            search_region=crop.region,
            timings_ms=timings,
        )

    # --- helpers -------------------------------------------------------------------------------
    def _penalty(self, pred_bbox: np.ndarray) -> np.ndarray:
        """Scale and aspect-change penalty of every candidate (SOTS' ``cal_penalty``)."""
        widths, heights = pred_bbox[2, :], pred_bbox[3, :]
        target = _sz(self._size[0] * self._scale_z, self._size[1] * self._scale_z)
        s_c = _change(_sz(widths, heights) / target)
        r_c = _change((self._size[0] / self._size[1]) / (widths / heights))
        return np.exp(-(r_c * s_c - 1) * self.config.penalty_k)

    def _token_ids(self, text: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``[CLS] + word pieces + [SEP]`` zero-padded to ``max_text_tokens``, and the mask;
        None without a description (the tracker then uses visual tokens)."""
        if not text.strip():
            return None
        if self.tokenizer is None:
            raise EngineError(
                "vlt_tt: a description needs BERT's tokenizer; pass text_model=<folder with "
                "vocab.txt> or put one in the weights folder's 'bert' subfolder"
            )
        return bert_token_ids(self.tokenizer, text, self.config.max_text_tokens, self._device)

    def _to_tensor(self, patch: np.ndarray) -> torch.Tensor:
        """uint8 HxWx3 -> ``(x * (1/255)).clamp(0, 1)``, ImageNet-normalised, (1, 3, H, W).

        The CHW tensor is a transposed view of the HWC pixels, as in SOTS: its memory layout
        (channels last) decides which convolution kernels run, so it is kept."""
        tensor = torch.from_numpy(np.transpose(patch.copy(), (2, 0, 1))).float()
        tensor = tensor.float().mul(1.0 / 255.0).clamp(0.0, 1.0)
        mean = torch.as_tensor(IMAGENET_MEAN, dtype=tensor.dtype).view(-1, 1, 1)
        std = torch.as_tensor(IMAGENET_STD, dtype=tensor.dtype).view(-1, 1, 1)
        tensor = tensor.clone().sub_(mean).div_(std)
        return tensor.unsqueeze(0).to(self._device)
