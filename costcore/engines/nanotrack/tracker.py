"""NanoTrack behind the engine interface: crop, network, decision, per frame.

``initialize`` cuts the template around the box and computes everything the template
decides (its features and the head's template side) once; ``step`` cuts the search square,
runs the backbone and the head on it, and lets the rules (:mod:`~.rules`: the authors' by
default, OpenCV's on request) pick the next box. Each step returns the box, the chosen cell's
raw foreground probability as the score, the S x S probability map (S = 16 for V1/V2, 15 for
V3) and the search square it covers, in frame coordinates.

**Threads.** The network is ~150 small operations on 16 x 16 to 128 x 128 maps: a second
intra-op thread buys little on a quiet machine, and on a busy one (the app decodes frames
and draws while it tracks; other jobs share the CPU) torch's OpenMP threads wait for each
other and a frame can take ten times longer (BENCHMARKS.md, NanoTrack). So the engine runs
its own work with ``threads`` intra-op threads (default 1) and restores the caller's
setting afterwards (torch keeps the count per calling thread here, and the switch costs
about 0.3 us), so other engines and other threads keep theirs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from costcore.boxes import Box
from costcore.engines.base import TrackerEngine, TrackResult, check_rgb_frame
from costcore.engines.errors import EngineError
from costcore.engines.nanotrack.config import NanoTrackConfig
from costcore.engines.nanotrack.crop import cut_square
from costcore.engines.nanotrack.inference import PreparedNanoTrack
from costcore.engines.nanotrack.network import NanoTrackNet
from costcore.engines.nanotrack.rules import TargetState, rules_for


class NanoTracker(TrackerEngine):
    """NanoTrack V1/V2/V3 as an engine; ``step`` returns the score map over the search square."""

    name = "nanotrack"
    yields_score_map = True

    def __init__(
        self,
        network: NanoTrackNet,
        config: NanoTrackConfig,
        device: torch.device | str = "cpu",
        summary: str = "",
        compile: bool = True,
        threads: int | None = 1,
    ) -> None:
        if config.version != network.version:
            raise EngineError(
                f"nanotrack: the config is for V{config.version}, the network is V{network.version}"
            )
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
        ):
            raise EngineError(f"nanotrack: threads must be a positive integer, got {threads!r}")
        #: intra-op threads for this engine's work (None: whatever torch is set to)
        self.threads = threads
        self._device = torch.device(device)
        self.config = config
        self.summary = summary
        self.rules = rules_for(config)
        network = network.to(self._device).eval()
        with self._threads():
            self.network = PreparedNanoTrack(
                network,
                rgb_input=self.rules.rgb_input,
                compile=compile,
                crop_sizes=(config.exemplar_size, config.instance_size),
            )
        size = config.instance_size
        self._patch = np.empty((size, size, 3), np.uint8)
        self._search = torch.empty(
            (1, 3, size, size), device=self._device, memory_format=torch.channels_last
        )
        self._state: TargetState | None = None
        self._pending_timings: dict[str, float] = {}

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def version(self) -> int:
        return self.config.version

    # --- engine interface ----------------------------------------------------------------------
    def initialize(self, frame: np.ndarray, box: Box, text: str = "") -> None:
        """Start on ``box`` (``text`` is ignored: NanoTrack is visual only)."""
        frame = check_rgb_frame(frame)
        box = Box(*(float(v) for v in box))
        if not box.is_valid():
            raise EngineError(f"nanotrack: the initial box must have a positive size, got {box}")
        inside = box.clipped(frame.shape[1], frame.shape[0])
        if inside.w <= 0 or inside.h <= 0:
            raise EngineError(f"nanotrack: the initial box {box} lies outside the frame")
        started = time.perf_counter()
        self._state = None  # no half-set state if this fails
        state, window = self.rules.start(frame, tuple(box))
        size = self.config.exemplar_size
        patch = cut_square(frame, window, size, self.rules.fill_for(frame))
        with torch.inference_mode(), self._threads():
            template = self._as_tensor(patch)
            self.network.set_template(template)
        self._state = state
        self._pending_timings = {"template": (time.perf_counter() - started) * 1000.0}

    def step(self, frame: np.ndarray) -> TrackResult:
        if self._state is None:
            raise EngineError("nanotrack: call initialize() before step()")
        frame = check_rgb_frame(frame)
        height, width = frame.shape[:2]
        timings: dict[str, float] = {}
        started = time.perf_counter()
        plan = self.rules.plan(self._state)
        patch = cut_square(
            frame, plan.window, self.config.instance_size, self.rules.fill_for(frame), self._patch
        )
        timings["crop"] = (time.perf_counter() - started) * 1000.0
        with torch.inference_mode(), self._threads():
            begun = time.perf_counter()
            self._search.copy_(torch.from_numpy(patch).permute(2, 0, 1).unsqueeze(0))
            probabilities, distances = self.network.track(self._search)
            score_map = probabilities.cpu().numpy()
            ltrb = distances.cpu().numpy()
            timings["network"] = (time.perf_counter() - begun) * 1000.0
        begun = time.perf_counter()
        scores = score_map.reshape(-1)
        decision = self.rules.decide(self._state, plan, scores, ltrb, (width, height))
        self._state = decision.state
        timings["prediction"] = (time.perf_counter() - begun) * 1000.0
        timings["total"] = (time.perf_counter() - started) * 1000.0
        timings.update(self._pending_timings)
        self._pending_timings = {}
        return TrackResult(
            box=Box(*(float(v) for v in decision.state.box)),
            score=float(scores[decision.best]),
            engine=self.name,
            score_map=np.ascontiguousarray(score_map, dtype=np.float32),
            search_region=plan.window.region,
            timings_ms=timings,
        )

    # --- helpers -------------------------------------------------------------------------------
    @contextmanager
    def _threads(self) -> Iterator[None]:
        """Run the block with :attr:`threads` intra-op threads, then restore the caller's."""
        previous = torch.get_num_threads()
        if self.threads is None or self.threads == previous:
            yield
            return
        torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def _as_tensor(self, patch: np.ndarray) -> torch.Tensor:
        """uint8 (H, W, 3) -> float32 (1, 3, H, W) on the device; no normalisation (0..255)."""
        pixels = torch.from_numpy(np.ascontiguousarray(patch)).to(self._device)
        return pixels.permute(2, 0, 1).unsqueeze(0).float()
