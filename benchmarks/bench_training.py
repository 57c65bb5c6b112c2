"""Training throughput of COST at the paper's sizes: template/search pairs per second.

    python benchmarks/bench_training.py [--steps 5] [--batch 2] [--device auto]
        [--autocast auto|bf16|none] [--accumulate 1] [--workers 2] [--tiny]

Builds the paper-size COST (TransT-R50 visual branch, BERT-base sizes from ``BertConfig()``
with random weights - no download - and a throw-away vocabulary; every description is padded
to 40 tokens, so BERT's cost does not depend on the words), writes a few synthetic 640x360
VL-SOT500 videos, and runs the real training loop (:class:`costcore.training.Trainer`: data
workers, crops, forward, losses, backward, AdamW) for ``--warmup`` + ``--steps`` optimizer
steps, timing the last ``--steps``. The run is abandoned before any checkpoint is written.
Also times the data pipeline alone, to show whether loading keeps up. The paper trains with
batch 14 (on GPUs); ``--tiny`` swaps in the test-sized model.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from costcore.model import COSTConfig, count_parameters  # noqa: E402
from costcore.model.testing import write_tiny_vocab  # noqa: E402
from costcore.torch_device import resolve_device  # noqa: E402
from costcore.training import (  # noqa: E402
    PairDataset,
    StepBatchSampler,
    Trainer,
    TrainingConfig,
    collate_pairs,
    load_training_sequences,
)
from costcore.training.data import fork_safe_opencv, init_data_worker  # noqa: E402
from costcore.training.synthetic import write_synthetic_dataset  # noqa: E402
from costcore.training.testing import tiny_training_model_config  # noqa: E402


class _Finished(Exception):
    """Raised from the progress callback to leave the loop before it saves anything."""


def paper_config(vocab_dir: Path) -> COSTConfig:
    from transformers import BertConfig

    return COSTConfig(
        text_encoder=None,
        text_encoder_config=BertConfig().to_dict(),
        tokenizer=str(write_tiny_vocab(vocab_dir)),
    )


def time_training(
    run_dir: Path, data: Path, config: COSTConfig, training: TrainingConfig, device: str,
    warmup: int,
) -> tuple[float, int]:  # fmt: skip
    """Seconds of the timed steps, and how many steps were timed."""
    marks: dict[int, float] = {}
    total = training.total_steps

    def progress(step: int, total_steps: int, losses: dict[str, float]) -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        marks[step] = time.perf_counter()
        print(f"  step {step}/{total_steps}", file=sys.stderr, flush=True)
        if step == total:
            raise _Finished

    trainer = Trainer(
        run_dir, data_dirs=[data], model_config=config, training=training, device=device,
        progress=progress,
    )  # fmt: skip
    with contextlib.suppress(_Finished):
        trainer.fit()
    counts = count_parameters(trainer.model)
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    print(f"parameters: {counts['total'] / 1e6:.1f} M, trainable {trainable / 1e6:.1f} M")
    return marks[total] - marks[warmup], total - warmup


def time_data(data: Path, config: COSTConfig, training: TrainingConfig, batches: int) -> float:
    """Pairs per second of the data pipeline alone (loader workers, crops, augmentation)."""
    sequences, _ = load_training_sequences([data])
    dataset = PairDataset(sequences, config, training)
    sampler = StepBatchSampler(0, batches, training.batch_size)
    loader = torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate_pairs,
        num_workers=training.num_workers, worker_init_fn=init_data_worker,
    )  # fmt: skip
    with fork_safe_opencv():
        iterator = iter(loader)
        next(iterator)  # worker start-up
        start = time.perf_counter()
        count = sum(1 for _ in iterator)
        return count * training.batch_size / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="timed optimizer steps")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--batch", type=int, default=None, help="pairs per pass (CPU 2, GPU 14)")
    parser.add_argument("--accumulate", type=int, default=1, help="passes per step")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--autocast", default="auto", choices=("auto", "bf16", "none"))
    parser.add_argument("--workers", type=int, default=2, help="data loader workers")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--tiny", action="store_true", help="the test-sized model instead")
    args = parser.parse_args()

    device = str(resolve_device(args.device))
    if args.threads:
        torch.set_num_threads(args.threads)
    batch = args.batch or (14 if device.startswith("cuda") else 2)
    with tempfile.TemporaryDirectory(prefix="bench_training_") as folder:
        root = Path(folder)
        size = {"width": 320, "height": 240} if args.tiny else {"width": 640, "height": 360}
        write_synthetic_dataset(root / "data", 4, seed=0, frames=30, size=28, **size)
        config = tiny_training_model_config(root) if args.tiny else paper_config(root)
        training = TrainingConfig(
            epochs=1, steps_per_epoch=args.warmup + args.steps, batch_size=batch,
            accumulate=args.accumulate, num_workers=args.workers, autocast=args.autocast,
            log_every=10**6,
        )  # fmt: skip
        print(
            f"COST {'tiny' if args.tiny else 'paper-size'} ({config.template_size}/"
            f"{config.search_size} px crops), device {device}, autocast {args.autocast}, "
            f"batch {batch} x accumulate {args.accumulate}, {args.workers} workers, "
            f"{torch.get_num_threads()} CPU threads"
        )
        seconds, steps = time_training(
            root / "run", root / "data", config, training, device, args.warmup
        )
        pairs = steps * batch * args.accumulate
        print(
            f"training: {pairs / seconds:.2f} pairs/s ({seconds / steps:.2f} s per step of "
            f"{batch * args.accumulate} pairs, {steps} steps timed)"
        )
        data_rate = time_data(root / "data", config, training, batches=max(4, steps))
        print(f"data pipeline alone: {data_rate:.1f} pairs/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
