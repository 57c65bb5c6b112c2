"""``python -m costcore train``: train COST on annotated folders into a checkpoint folder.

    python -m costcore train --data DIR [DIR ...] --out RUN_DIR [--init-visual transt.pth]
        [--text-encoder NAME_OR_PATH] [--config FILE] [--resume]

DIR is a sequence folder or a dataset root in any supported layout (VL-SOT500, LaSOT, TNL2K,
OTB, UAV123, GOT-10k). The finished model is RUN_DIR/final, which ``python -m costcore track
--engine cost --weights RUN_DIR/final`` and the app load; RUN_DIR/checkpoints holds the step
checkpoints ``--resume`` continues from, RUN_DIR/log.csv the losses. Several GPUs:

    torchrun --nproc_per_node 4 -m costcore train --data ... --out RUN_DIR

SIGTERM or Ctrl-C stops after the current step and saves; ``--resume`` continues exactly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from costcore.errors import CostcoreError

_DEVICES = ("auto", "cpu", "cuda")
#: options that map onto TrainingConfig fields
_TRAINING_OPTIONS = {
    "epochs": "epochs",
    "steps_per_epoch": "steps_per_epoch",
    "batch_size": "batch_size",
    "accumulate": "accumulate",
    "workers": "num_workers",
    "seed": "seed",
}


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return number


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return number


def _device(value: str) -> str:
    if value in _DEVICES or (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {value!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", nargs="+", type=Path, metavar="DIR",
        help="sequence folders or dataset roots (optional with --resume: the run's own)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, metavar="RUN_DIR", help="run folder")
    parser.add_argument(
        "--init-visual", type=Path, metavar="PTH",
        help="TransT checkpoint (transt.pth) for the visual branch and head",
    )  # fmt: skip
    parser.add_argument(
        "--text-encoder", metavar="NAME_OR_PATH",
        help="text encoder to start from: a Hugging Face name or a local folder "
        "(default: the config's, bert-base-uncased)",
    )  # fmt: skip
    parser.add_argument(
        "--config", type=Path, metavar="FILE",
        help='JSON {"model": {COSTConfig fields}, "training": {TrainingConfig fields}}',
    )  # fmt: skip
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in RUN_DIR from its last checkpoint"
    )
    parser.add_argument("--device", type=_device, default="auto", help="auto, cpu or cuda")
    parser.add_argument("--epochs", type=_positive, help="number of epochs (may extend a resume)")
    parser.add_argument("--steps-per-epoch", type=_positive, metavar="N", help="optimizer steps")
    parser.add_argument("--batch-size", type=_positive, metavar="N", help="pairs per pass")
    parser.add_argument(
        "--accumulate", type=_positive, metavar="N", help="passes per optimizer step"
    )
    parser.add_argument("--workers", type=_non_negative, metavar="N", help="data workers")
    parser.add_argument("--seed", type=int, help="random seed of the run")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train COST (or TransT) on annotated folders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(handler=run_train)


def _is_main_process() -> bool:
    return os.environ.get("RANK", "0") == "0"


def _quiet_transformers() -> None:
    """No per-checkpoint "Writing model shards" bars from save_pretrained in the run's output."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass


def run_train(args: argparse.Namespace) -> int:
    """Train; 0 when finished, 130 when stopped early (a checkpoint was saved)."""
    from costcore.cli.progress import ProgressBar
    from costcore.training.config import TrainingConfig, model_config, read_config_file
    from costcore.training.trainer import RESUME_OVERRIDABLE, Trainer

    options = {
        field: getattr(args, option)
        for option, field in _TRAINING_OPTIONS.items()
        if getattr(args, option) is not None
    }
    main_process = _is_main_process()
    _quiet_transformers()

    def announce(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    bar = ProgressBar("train") if main_process else None

    def progress(step: int, total: int, losses: dict[str, float]) -> None:
        if bar is not None:
            bar(step, total)

    if args.resume:
        given = [
            name
            for name, value in (
                ("--config", args.config),
                ("--text-encoder", args.text_encoder),
                ("--init-visual", args.init_visual),
            )
            if value is not None
        ]
        given += [f"--{k.replace('_', '-')}" for k in options if k not in RESUME_OVERRIDABLE]
        if given:
            raise CostcoreError(
                f"{', '.join(given)} cannot change a run being resumed (its run.json decides)"
            )
        trainer = Trainer(
            args.out,
            data_dirs=args.data,
            resume=True,
            training_overrides=options,
            device=args.device,
            progress=progress,
            announce=announce,
        )
    else:
        if not args.data:
            raise CostcoreError("--data DIR [DIR ...] is required for a new run")
        overrides, training = ({}, TrainingConfig())
        if args.config is not None:
            overrides, training = read_config_file(args.config)
        try:
            training = TrainingConfig.from_dict({**training.to_dict(), **options})
            config = model_config(overrides, args.text_encoder)
        except (TypeError, ValueError) as error:
            raise CostcoreError(f"invalid training options: {error}") from error
        trainer = Trainer(
            args.out,
            data_dirs=args.data,
            model_config=config,
            training=training,
            init_visual=args.init_visual,
            device=args.device,
            progress=progress,
            announce=announce,
        )
    result = trainer.fit()
    if not main_process:
        return 130 if result.interrupted else 0
    if result.interrupted:
        print(f"stopped at step {result.step}/{result.total_steps}; checkpoint {result.checkpoint}")
        print(f"continue with: python -m costcore train --out {args.out} --resume")
        return 130
    print(f"trained {result.step} steps; final checkpoint: {result.final}")
    print(f"track with: python -m costcore track --engine cost --weights {result.final} ...")
    return 0
