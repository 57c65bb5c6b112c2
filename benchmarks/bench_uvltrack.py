"""Size and tracking speed of the real UVLTrack network (random weights, released shapes).

Builds UVLTrack-B (or ``--preset large``) at the released size with random weights: the MAE
ViT, BERT-base's configuration cut to the layers before the fusion blocks (``BertConfig()``, no
download; a throw-away vocabulary for the tokenizer: every description is padded to 40 tokens,
so the words do not change the cost) and the modality-adaptive head. Then runs the real engine
(:class:`costcore.engines.uvltrack.tracker.UVLTrackTracker`) on synthetic frames, batch 1: the
grounding of a sentence once (NL mode), the initialisation, a warm-up, then a timed loop;
and counts the floating-point operations of one tracked frame, which no other load changes.
Compare with the authors (RTX 3090): UVLTrack-B about 60 FPS, UVLTrack-L about 34 FPS
(``tracking/profile_model.py``, network forward only).

    python benchmarks/bench_uvltrack.py --frames 20 --threads 2
    python benchmarks/bench_uvltrack.py --device cuda --frames 200 --warmup 20
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
from costcore.engines.run_report import (  # noqa: E402
    MIB,
    cuda_peak_bytes,
    peak_rss_bytes,
    reset_cuda_peak,
)
from costcore.engines.uvltrack.config import UVLTrackConfig  # noqa: E402
from costcore.engines.uvltrack.network import UVLTrackNet  # noqa: E402
from costcore.engines.uvltrack.tracker import UVLTrackTracker  # noqa: E402
from costcore.model.linguistic_branch import load_tokenizer  # noqa: E402
from costcore.model.testing import write_tiny_vocab  # noqa: E402
from costcore.torch_device import resolve_device  # noqa: E402

STAGES = ("crop", "network", "prediction", "total")
TOWERS = ("conv_cls", "conv_offset", "conv_bbox", "conv_bbox_grounding")
SENTENCE = "a small red car driving on the road"


def build(preset: str) -> UVLTrackNet:
    from transformers import BertConfig, BertModel

    config = UVLTrackConfig.from_dict({"preset": preset})
    text = BertConfig() if preset == "base" else BertConfig(
        hidden_size=1024, num_attention_heads=16, intermediate_size=4096
    )  # fmt: skip
    text.num_hidden_layers = config.text_layers
    text._attn_implementation = "eager"
    return UVLTrackNet(config, BertModel(text)).eval()


def print_parameters(network: UVLTrackNet) -> None:
    def count(module: torch.nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    head = network.box_head
    groups = [
        ("ViT (patches, positions, blocks)", count(network.backbone.vit)),
        (f"BERT (embeddings + {network.config.text_layers} layers, pooler)",
         count(network.backbone.bert)),
        ("head: 4 conv towers", sum(count(getattr(head, name)) for name in TOWERS)),
        ("head: prompter", count(head.prompter)),
    ]  # fmt: skip
    print("Parameters (M):")
    for name, value in groups:
        print(f"  {name:44s} {value / 1e6:8.2f}")
    print(f"  {'total':44s} {count(network) / 1e6:8.2f}")


def count_flops(work) -> int:  # noqa: ANN001
    """Floating-point operations of one call, by torch's own counter (machine-independent)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        work()
    return int(counter.get_total_flops())


def run(network: UVLTrackNet, args: argparse.Namespace, tokenizer) -> None:  # noqa: ANN001
    width, height = (int(v) for v in args.frame_size.lower().split("x"))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(4)]
    device = resolve_device(args.device)
    tracker = UVLTrackTracker(network, tokenizer, device, "random weights")
    text = "" if args.mode == "bbox" else SENTENCE
    box = Box(width / 2 - 20, height / 2 - 15, 40, 30)
    reset_cuda_peak(tracker.device)
    grounding = []
    for _ in range(3 if args.mode == "nl" else 0):  # the first call warms up
        grounding.append(tracker.ground(images[0], SENTENCE).timings_ms["grounding"])
    tracker.initialize(images[0], box, text)
    for index in range(args.warmup):
        tracker.step(images[index % 4])
    flops = count_flops(lambda: tracker.step(images[0]))
    began = time.perf_counter()
    tracker.initialize(images[0], box, text)  # timed once warm
    init_ms = (time.perf_counter() - began) * 1000.0
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    start = time.perf_counter()
    for index in range(args.frames):
        result = tracker.step(images[index % 4])
        for stage in STAGES:
            per_stage[stage].append(result.timings_ms[stage])
    elapsed = time.perf_counter() - start
    threads = torch.get_num_threads()
    print(f"\nUVLTrack-{args.preset[0].upper()} ({args.mode.upper()}) on {tracker.device}, fp32, "
          f"batch 1, {threads} threads, {args.frames} frames of {width}x{height}:")  # fmt: skip
    wall_ms = elapsed * 1000 / args.frames
    print(f"  FPS {args.frames / elapsed:7.2f}   (wall {wall_ms:8.1f} ms/frame)")
    print(f"  compute: {flops / 1e9:.1f} GFLOP per tracked frame (torch's flop counter; "
          "a multiply-add is 2)")  # fmt: skip
    print(f"  {'stage':11s} {'median':>8s} {'min':>8s}  ms/frame (median resists other load)")
    for stage in STAGES:
        values = per_stage[stage]
        print(f"  {stage:11s} {statistics.median(values):8.1f} {min(values):8.1f}")
    print(f"  initialisation (template, context, prompts{', BERT' if text else ''}): "
          f"{init_ms:.1f} ms once")  # fmt: skip
    if grounding:
        print(f"  grounding a sentence (NL mode): {min(grounding[1:]):.1f} ms once (min of 2)")
    rss = peak_rss_bytes()
    if rss is not None:
        print(f"  peak memory: {rss / MIB:.0f} MiB CPU RSS (process)")
    cuda = cuda_peak_bytes(tracker.device)
    if cuda is not None:
        print(f"  peak memory: {cuda / MIB:.0f} MiB CUDA allocated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=("base", "large"), default="base")
    parser.add_argument("--mode", choices=("bbox", "nlbbox", "nl"), default="nl")
    parser.add_argument("--frames", type=int, default=20, help="timed frames")
    parser.add_argument("--warmup", type=int, default=3, help="untimed frames first")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--frame-size", default="1280x720", help="WxH of the synthetic frames")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    network = build(args.preset)
    print_parameters(network)
    with tempfile.TemporaryDirectory() as scratch:
        tokenizer = load_tokenizer(write_tiny_vocab(scratch))
    run(network, args, tokenizer)


if __name__ == "__main__":
    main()
