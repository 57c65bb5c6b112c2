"""Parameter counts and tracking speed of COST and of TransT (COST without the language branch).

Builds the paper-size models with random weights (BERT-base sizes from ``BertConfig()``; no
download, a throw-away vocabulary for the tokenizer: every description is padded to 40 tokens,
so the cost of BERT does not depend on the words), then runs the real tracker on synthetic
frames: warm-up, then a timed loop. Compare with the paper (RTX 3090): COST 36 FPS, TransT
42 FPS, language 20 ms once; per frame visual 23.1 ms, fusion 7.1 ms, head 0.5 ms.

    python benchmarks/bench_model.py --frames 50 --device cuda --autocast bf16
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from costcore.boxes import Box  # noqa: E402
from costcore.engines.cost import COSTTracker, COSTTrackerParams  # noqa: E402
from costcore.model import COSTConfig, COSTModel, count_parameters  # noqa: E402
from costcore.model.cost import PAPER_PARAMETERS_M  # noqa: E402
from costcore.model.testing import write_tiny_vocab  # noqa: E402

STAGES = ("crop", "visual", "fusion", "prediction", "total")


def build_cost(vocab_dir: Path) -> COSTModel:
    from transformers import BertConfig

    config = COSTConfig(
        text_encoder=None,
        text_encoder_config=BertConfig().to_dict(),
        tokenizer=str(write_tiny_vocab(vocab_dir)),
    )
    return COSTModel.from_config(config).eval()


def print_parameters(model: COSTModel) -> None:
    counts = count_parameters(model)
    print("Parameters (M), default config, BERT-base sizes:")
    for name, value in counts.items():
        if not name.startswith("paper_") and name != "total":
            print(f"  {name:24s} {value / 1e6:9.3f}")
    paper = PAPER_PARAMETERS_M
    rows = [
        ("visual (TransT + 5x5 convs)", counts["paper_visual"], paper["visual"]),
        ("language (BERT, no pooler)", counts["paper_language"], paper["language"]),
        ("fusion (VLT + CoA)", counts["paper_fusion"], paper["fusion"]),
        ("total", counts["total"], paper["total"]),
    ]
    print(f"  {'group':30s} {'ours':>9s} {'paper':>9s}")
    for name, ours, theirs in rows:
        print(f"  {name:30s} {ours / 1e6:9.2f} {theirs:9.1f}")


def benchmark(
    label: str,
    model: COSTModel,
    device: str,
    autocast: str | None,
    frames: int,
    warmup: int,
    frame_size: tuple[int, int],
) -> None:
    width, height = frame_size
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(4)]
    params = COSTTrackerParams.for_model(model.config, autocast=autocast)
    tracker = COSTTracker(model, device=device, params=params)
    box = Box(width / 2 - 20, height / 2 - 15, 40, 30)
    on_cuda = tracker.device.startswith("cuda")
    if on_cuda:
        torch.cuda.reset_peak_memory_stats()
    tracker.initialize(images[0], box, "a small red car driving on the road")
    for index in range(warmup):
        tracker.track(images[index % 4])
    tracker.initialize(images[0], box, "a small red car driving on the road")  # timed init
    init = dict(tracker.init_timings_ms)
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    start = time.perf_counter()
    for index in range(frames):
        result = tracker.track(images[index % 4])
        for stage in STAGES:
            per_stage[stage].append(result.timings_ms[stage])
    elapsed = time.perf_counter() - start
    precision = autocast or "fp32"
    print(f"\n{label} on {tracker.device} ({precision}), {frames} frames of {width}x{height}:")
    print(f"  FPS {frames / elapsed:7.2f}   (wall {elapsed * 1000 / frames:8.1f} ms/frame)")
    print(f"  {'stage':11s} {'median':>8s} {'min':>8s}  ms/frame (median resists other load)")
    for stage in STAGES:
        values = per_stage[stage]
        print(f"  {stage:11s} {statistics.median(values):8.1f} {min(values):8.1f}")
    for stage, value in init.items():
        print(f"  {stage:11s} {value:8.1f} ms once, at initialisation")
    if on_cuda:
        print(f"  peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:8.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=20, help="timed frames per model")
    parser.add_argument("--warmup", type=int, default=3, help="untimed frames first")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--autocast", choices=("none", "bf16", "fp16"), default="none")
    parser.add_argument("--frame-size", default="1280x720", help="WxH of the synthetic frames")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    parser.add_argument("--skip-cost", action="store_true", help="only the visual-only model")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    autocast = None if args.autocast == "none" else args.autocast
    frame_size = tuple(int(v) for v in args.frame_size.lower().split("x"))
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as scratch:
        cost = build_cost(Path(scratch))
        print_parameters(cost)
        if not args.skip_cost:
            benchmark("COST", cost, args.device, autocast, args.frames, args.warmup, frame_size)
        del cost
    transt = COSTModel(COSTConfig.transt()).eval()
    label = "TransT (COST w/o LB)"
    benchmark(label, transt, args.device, autocast, args.frames, args.warmup, frame_size)


if __name__ == "__main__":
    main()
