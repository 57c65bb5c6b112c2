"""The training loop: pairs in, checkpoints out, resumable to the step.

One optimizer step = ``accumulate`` forward/backward passes of ``batch_size`` pairs in each
process (DistributedDataParallel averages the gradients of the processes; the passes before
the last one skip the gradient all-reduce), gradient clipping, AdamW, and at the end of every
epoch the step decay and a checkpoint. bf16 autocast on CUDA; the losses are computed in
float32. The contrastive loss's negatives are the other pairs of the same forward pass (in
the same process), so ``batch_size`` - not the effective batch - sets how many it sees.

Resuming is exact: the model comes back from model.safetensors, the optimizer and scheduler
from training_state.pt, and everything random is a function of the step counter - the pairs
of step s are samples with fixed ids (see :mod:`costcore.training.data`) and the torch
generator (dropout) is reseeded from (seed, step, rank) before every step - so a resumed run
computes the same losses and parameters as one that was never interrupted.

Stopping: SIGTERM or a first Ctrl-C (main thread) asks the loop to stop after the current
step; all processes agree on it, rank 0 saves a checkpoint and :meth:`Trainer.fit` returns
with ``interrupted``. A ``KeyboardInterrupt`` raised anyway (a second Ctrl-C, or a loop not in
the main thread) still saves the last completed step - unless it arrived during the parameter
update itself, where the state would be torn - and is re-raised.
"""

from __future__ import annotations

import contextlib
import csv
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from costcore import __version__
from costcore.errors import ConfigError, CostcoreError, FormatError
from costcore.model.checkpoint import load_checkpoint, save_checkpoint
from costcore.model.config import COSTConfig
from costcore.model.cost import COSTModel
from costcore.training import checkpoints as ckpt
from costcore.training.config import TrainingConfig
from costcore.training.data import (
    PairDataset,
    StepBatchSampler,
    collate_pairs,
    fork_safe_opencv,
    init_data_worker,
)
from costcore.training.distributed import (
    DistributedContext,
    any_process,
    barrier,
    init_distributed,
    mean_over_processes,
    shutdown,
)
from costcore.training.losses import LOSS_NAMES, LossWeights, cost_losses
from costcore.training.optim import (
    build_optimizer,
    build_scheduler,
    freeze_backbone,
    set_train_mode,
)
from costcore.training.sequences import load_training_sequences

#: (step, total_steps, latest losses) after every optimizer step (rank 0 only)
ProgressCallback = Callable[[int, int, dict[str, float]], None]
#: training fields a resumed run may change (the others would change what is computed)
RESUME_OVERRIDABLE = ("epochs", "num_workers", "log_every", "keep_checkpoints")
LOG_COLUMNS = ("step", "epoch", "lr", "backbone_lr", *LOSS_NAMES, "pairs_per_s", "seconds")


class TrainingError(CostcoreError):
    """A run cannot start or continue (a run folder in the way, nothing to resume...)."""


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    total_steps: int
    interrupted: bool = False
    checkpoint: Path | None = None  # the newest step checkpoint saved
    final: Path | None = None  # RUN_DIR/final once training completed
    history: list[dict[str, float]] = field(default_factory=list)  # logged rows (rank 0)


def build_model(
    config: COSTConfig, seed: int = 0, init_visual: str | Path | None = None
) -> COSTModel:
    """A fresh model (the same weights for the same seed), optionally with TransT weights."""
    torch.manual_seed(seed)
    model = COSTModel.from_config(config)
    if init_visual is not None:
        from costcore.model.transt_checkpoint import load_transt_weights

        load_transt_weights(model, init_visual)
    return model


def resolve_autocast(setting: str, device: torch.device) -> torch.dtype | None:
    if setting == "bf16" or (setting == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


class Trainer:
    """Trains COST (or TransT) into ``run_dir``; see the module docstring.

    A new run needs ``data_dirs`` and ``model_config``; ``resume=True`` reads both from
    ``run_dir/run.json`` (``data_dirs`` may point elsewhere, ``training_overrides`` may change
    only :data:`RESUME_OVERRIDABLE` fields) and continues from the newest checkpoint.
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        data_dirs: Sequence[str | Path] | None = None,
        model_config: COSTConfig | None = None,
        training: TrainingConfig | None = None,
        init_visual: str | Path | None = None,
        resume: bool = False,
        training_overrides: dict[str, Any] | None = None,
        device: str = "auto",
        progress: ProgressCallback | None = None,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        self.run_dir = Path(run_dir)
        self.data_dirs = [Path(d) for d in data_dirs] if data_dirs else None
        self.model_config = model_config
        self.training = training or TrainingConfig()
        self.init_visual = Path(init_visual) if init_visual is not None else None
        self.resume = resume
        self.training_overrides = dict(training_overrides or {})
        self.device_request = device
        self.progress = progress
        self.announce = announce
        self._stop_signal: int | None = None
        self._updating = False
        # set by fit(): what is being trained (for progress callbacks and inspection)
        self.model: COSTModel | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: torch.optim.lr_scheduler.LRScheduler | None = None

    # --- control -------------------------------------------------------------------------------
    def request_stop(self, signum: int | None = None) -> None:
        """Stop after the current optimizer step and save (thread- and signal-safe)."""
        self._stop_signal = signum if signum is not None else -1

    @property
    def stop_requested(self) -> bool:
        return self._stop_signal is not None

    # --- the run -------------------------------------------------------------------------------
    def fit(self) -> TrainResult:
        context = init_distributed(self.device_request)
        try:
            with self._stop_on_signals():
                return self._fit(context)
        finally:
            shutdown(context)

    def _fit(self, context: DistributedContext) -> TrainResult:
        self.context = context
        start_checkpoint = self._prepare_run()
        training = self.training
        total = training.total_steps
        sequences, report = load_training_sequences(
            self.data_dirs,
            need_language=not self.model_config.visual_only,
            without_language=training.without_language,
        )
        model, start_step = self._load_model(start_checkpoint)
        model.to(context.device)
        freeze_backbone(model, training.trainable_backbone_layers)
        optimizer = build_optimizer(model, training)
        scheduler = build_scheduler(optimizer, training)
        if start_checkpoint is not None:
            self._load_state(start_checkpoint, optimizer, scheduler)
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self._event(
            f"{'resuming at step ' + str(start_step) if start_step else 'starting'}: "
            f"{report.describe()}, {total} steps ({training.epochs} epochs x "
            f"{training.steps_per_epoch}), {training.effective_batch(context.world_size)} pairs "
            f"per step ({context.world_size} process(es) x {training.accumulate} x "
            f"{training.batch_size}), device {context.device}"
        )
        for folder, why in report.skipped or []:
            self._event(f"skipped {folder}: {why}")
        result = TrainResult(self.run_dir, start_step, total, checkpoint=start_checkpoint)
        if start_step >= total:
            self._finish(model, result)
            return result

        net: torch.nn.Module = model
        if context.enabled:
            net = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[context.device.index] if context.device.type == "cuda" else None
            )
        dataset = PairDataset(sequences, self.model_config, training)
        sampler = StepBatchSampler(
            start_step, total, training.batch_size, training.accumulate,
            context.rank, context.world_size,
        )  # fmt: skip
        loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=training.num_workers,
            collate_fn=collate_pairs,
            pin_memory=context.device.type == "cuda",
            worker_init_fn=init_data_worker if training.num_workers else None,
        )
        with fork_safe_opencv():
            batches = iter(loader)  # forks the data workers
            try:
                self._loop(net, model, optimizer, scheduler, batches, start_step, result)
            finally:
                del batches  # shuts the data workers down
        return result

    def _loop(
        self,
        net: torch.nn.Module,
        model: COSTModel,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        batches: Iterator[dict[str, Any]],
        step: int,
        result: TrainResult,
    ) -> None:
        context, training = self.context, self.training
        total, per_epoch = training.total_steps, training.steps_per_epoch
        weights = LossWeights(
            training.coa_weight, training.ce_weight, training.l1_weight, training.giou_weight,
            training.background_weight, self.model_config.coa_temperature,
        )  # fmt: skip
        autocast_dtype = resolve_autocast(training.autocast, context.device)
        trainable = [p for p in model.parameters() if p.requires_grad]
        log = _LogWindow(self.run_dir / ckpt.LOG_FILE if context.is_main else None, step)
        set_train_mode(net)
        saved_step = result.step if result.checkpoint is not None else -1
        try:
            while step < total:
                self._seed_step(step)
                optimizer.zero_grad(set_to_none=True)
                for micro in range(training.accumulate):
                    batch = next(batches)
                    last = micro == training.accumulate - 1
                    sync = (
                        contextlib.nullcontext() if last or not context.enabled else net.no_sync()
                    )
                    with sync:
                        losses = self._forward(net, model, batch, weights, autocast_dtype)
                        (losses["total"] / training.accumulate).backward()
                    log.add(losses, len(batch["texts"]))
                if training.grad_clip_norm:
                    torch.nn.utils.clip_grad_norm_(trainable, training.grad_clip_norm)
                self._updating = True
                optimizer.step()
                step += 1
                epoch_end = step % per_epoch == 0
                if epoch_end:
                    scheduler.step()
                self._updating = False
                result.step = step

                if step % training.log_every == 0 or epoch_end or step == total:
                    row = log.flush(step, per_epoch, optimizer, context)
                    if context.is_main:
                        result.history.append(row)
                if self.progress is not None and context.is_main:
                    self.progress(step, total, log.latest)
                if epoch_end:
                    result.checkpoint = self._save(model, optimizer, scheduler, step, "epoch end")
                    saved_step = step
                    self._event(_epoch_line(step // per_epoch, training.epochs, log.latest))
                if any_process(self.stop_requested, context) and step < total:
                    if saved_step != step:
                        result.checkpoint = self._save(model, optimizer, scheduler, step, "stop")
                        saved_step = step
                    result.interrupted = True
                    self._event(f"stopped at step {step}; resume with --resume")
                    return
        except KeyboardInterrupt:
            if self._updating:
                self._event(f"interrupted during the update of step {step + 1}; not saved")
            elif saved_step != step and context.is_main:
                self._save(model, optimizer, scheduler, step, "interrupt", collective=False)
                self._event(f"interrupted; saved step {step}; resume with --resume")
            raise
        self._finish(model, result, optimizer, scheduler, saved_step)

    def _forward(
        self,
        net: torch.nn.Module,
        model: COSTModel,
        batch: dict[str, Any],
        weights: LossWeights,
        autocast_dtype: torch.dtype | None,
    ) -> dict[str, torch.Tensor]:
        device = self.context.device
        template = batch["template"].to(device, non_blocking=True)
        search = batch["search"].to(device, non_blocking=True)
        texts = None if model.visual_only else batch["texts"]
        with torch.autocast(
            device_type=device.type, dtype=autocast_dtype or torch.bfloat16,
            enabled=autocast_dtype is not None,
        ):  # fmt: skip
            output = net(template, search, texts)
        return cost_losses(output, batch["boxes"], batch["texts"], batch["has_language"], weights)

    def _seed_step(self, step: int) -> None:
        """Dropout's randomness as a function of (seed, step, rank): resume replays it."""
        state = np.random.SeedSequence([self.training.seed, step, self.context.rank])
        torch.manual_seed(int(state.generate_state(1, dtype=np.uint64)[0] >> 1))

    # --- setup ---------------------------------------------------------------------------------
    def _prepare_run(self) -> Path | None:
        """Check the folder, settle the configs, write run.json; the checkpoint to resume."""
        run_file = self.run_dir / ckpt.RUN_FILE
        if not self.resume:
            taken = run_file.exists() or bool(ckpt.list_checkpoints(self.run_dir))
            barrier(self.context)  # every process looks before rank 0 writes run.json
            if taken:
                raise TrainingError(
                    f"{self.run_dir} already holds a training run; pass --resume to continue "
                    "it, or choose another --out folder"
                )
            if self.data_dirs is None or self.model_config is None:
                raise TrainingError("a new run needs data folders and a model config")
            if self.context.is_main:
                self.run_dir.mkdir(parents=True, exist_ok=True)
                ckpt.write_run_file(self.run_dir, self._run_description())
            barrier(self.context)
            return None
        description = ckpt.read_run_file(self.run_dir)
        try:
            self.model_config = COSTConfig.from_dict(description["model"], run_file)
        except ConfigError as error:
            raise error.within("model") from None
        if not isinstance(description["training"], dict):
            raise ConfigError(run_file, "must be a JSON object", "training", what="run.json")
        refused = sorted(set(self.training_overrides) - set(RESUME_OVERRIDABLE))
        if refused:
            raise TrainingError(
                f"a resumed run cannot change {', '.join(refused)} (only "
                f"{', '.join(RESUME_OVERRIDABLE)}); start a new run instead"
            )
        training = {**description["training"], **self.training_overrides}
        try:
            self.training = TrainingConfig.from_dict(training, run_file)
        except ConfigError as error:
            raise error.within("training") from None
        if self.data_dirs is None:
            self.data_dirs = [Path(d) for d in description["data"]]
        if self.init_visual is None and description.get("init_visual"):
            self.init_visual = Path(description["init_visual"])
        if self.training_overrides and self.context.is_main:
            ckpt.write_run_file(self.run_dir, self._run_description())
        return ckpt.latest_checkpoint(self.run_dir)

    def _run_description(self) -> dict[str, Any]:
        return {
            "model": self.model_config.to_dict(),
            "training": self.training.to_dict(),
            "data": [str(d.absolute()) for d in self.data_dirs],
            "init_visual": str(self.init_visual.absolute()) if self.init_visual else None,
            "world_size": self.context.world_size,
            "costcore": __version__,
        }

    def _load_model(self, checkpoint: Path | None) -> tuple[COSTModel, int]:
        if checkpoint is None:
            return build_model(self.model_config, self.training.seed, self.init_visual), 0
        model = load_checkpoint(checkpoint, "cpu")
        step = int(ckpt.load_training_state(checkpoint)["step"])
        return model, step

    def _load_state(
        self,
        checkpoint: Path,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
    ) -> None:
        state = ckpt.load_training_state(checkpoint)
        saved_groups = state["optimizer"].get("param_groups", [])
        saved = [g.get("param_names") for g in saved_groups]
        current = [g.get("param_names") for g in optimizer.param_groups]
        if saved != current:
            raise FormatError(
                checkpoint / ckpt.STATE_FILE,
                "the optimizer state does not match the model's trainable parameters",
            )
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])

    # --- saving --------------------------------------------------------------------------------
    def _save(
        self,
        model: COSTModel,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        step: int,
        reason: str,
        collective: bool = True,
    ) -> Path:
        """Rank 0 writes the step checkpoint; the others wait for it (``collective``)."""
        folder = self.run_dir / ckpt.CHECKPOINTS_DIR / ckpt.checkpoint_name(step)
        if self.context.is_main:
            ckpt.save_training_checkpoint(
                self.run_dir, model, optimizer, scheduler, step=step,
                epoch=step // self.training.steps_per_epoch, reason=reason,
                extra={"world_size": self.context.world_size},
            )  # fmt: skip
            ckpt.prune_checkpoints(self.run_dir, self.training.keep_checkpoints)
            self._event(f"saved {folder} ({reason})")
        if collective:
            barrier(self.context)
        return folder

    def _finish(
        self,
        model: COSTModel,
        result: TrainResult,
        optimizer: torch.optim.Optimizer | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        saved_step: int | None = None,
    ) -> None:
        """Training complete: the last step checkpoint (if missing) and RUN_DIR/final."""
        if optimizer is not None and saved_step != result.step:
            result.checkpoint = self._save(model, optimizer, scheduler, result.step, "end")
        final = self.run_dir / ckpt.FINAL_DIR
        if self.context.is_main:
            save_checkpoint(model, final, overwrite=True)
            self._event(f"finished: {final} (track with --engine cost --weights {final})")
        barrier(self.context)
        result.final = final

    def _event(self, message: str) -> None:
        if not self.context.is_main:
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        if self.run_dir.is_dir():
            with open(self.run_dir / ckpt.EVENTS_FILE, "a", encoding="utf-8") as handle:
                handle.write(f"{stamp} {message}\n")
        if self.announce is not None:
            self.announce(message)

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """SIGTERM / first Ctrl-C: stop after this step. Second Ctrl-C: KeyboardInterrupt."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: object) -> None:
            if signum == signal.SIGINT and self.stop_requested:
                raise KeyboardInterrupt
            self.request_stop(signum)
            context = getattr(self, "context", None)
            if self.announce is not None and context is not None and context.is_main:
                self.announce("stopping after this step (Ctrl-C again to abort at once)")

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)


class _LogWindow:
    """Loss averages between log rows, throughput, and log.csv (rank 0)."""

    def __init__(self, path: Path | None, start_step: int) -> None:
        self.path = path
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.pairs = 0
        self.started = time.perf_counter()
        self.window_start = self.started
        self.latest: dict[str, float] = {}
        if path is not None:
            _truncate_log(path, start_step)

    def add(self, losses: dict[str, torch.Tensor], pairs: int) -> None:
        for name, value in losses.items():
            detached = value.detach().float()
            self.sums[name] = self.sums[name] + detached if name in self.sums else detached
        self.count += 1
        self.pairs += pairs

    def flush(
        self,
        step: int,
        steps_per_epoch: int,
        optimizer: torch.optim.Optimizer,
        context: DistributedContext,
    ) -> dict[str, float]:
        names = [n for n in LOSS_NAMES if n in self.sums]
        values = [float(self.sums[n].item()) / max(self.count, 1) for n in names]
        now = time.perf_counter()
        rate = self.pairs * context.world_size / max(now - self.window_start, 1e-9)
        values = mean_over_processes(values, context)
        lrs = {g.get("name", str(i)): float(g["lr"]) for i, g in enumerate(optimizer.param_groups)}
        row: dict[str, float] = {
            "step": step,
            "epoch": round(step / steps_per_epoch, 4),
            "lr": lrs.get("main", next(iter(lrs.values()))),
            "backbone_lr": lrs.get("backbone", float("nan")),
            **dict(zip(names, values, strict=True)),
            "pairs_per_s": round(rate, 3),
            "seconds": round(now - self.started, 3),
        }
        self.latest = row
        self.sums, self.count, self.pairs, self.window_start = {}, 0, 0, now
        if self.path is not None:
            new = not self.path.exists()
            with open(self.path, "a", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, LOG_COLUMNS, restval="", lineterminator="\n")
                if new:
                    writer.writeheader()
                writer.writerow({k: _csv_value(row.get(k, "")) for k in LOG_COLUMNS})
        return row


def _csv_value(value: object) -> object:
    return f"{value:.6g}" if isinstance(value, float) else value


def _truncate_log(path: Path, start_step: int) -> None:
    """Drop rows logged after the checkpoint a run resumes from (they are computed again)."""
    if not path.exists():
        return
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = [row for row in rows if row.get("step", "").isdigit() and int(row["step"]) <= start_step]
    if len(kept) == len(rows):
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, LOG_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: row.get(k, "") for k in LOG_COLUMNS} for row in kept)


def _epoch_line(epoch: int, epochs: int, row: dict[str, float]) -> str:
    losses = ", ".join(f"{n} {row[n]:.4f}" for n in LOSS_NAMES if n in row)
    return f"epoch {epoch}/{epochs}: {losses}, {row.get('pairs_per_s', 0):.1f} pairs/s"


def read_log(run_dir: str | Path) -> list[dict[str, float]]:
    """log.csv as a list of rows of numbers."""
    with open(Path(run_dir) / ckpt.LOG_FILE, encoding="utf-8", newline="") as handle:
        return [
            {key: float(value) for key, value in row.items() if value not in ("", None)}
            for row in csv.DictReader(handle)
        ]


def train(run_dir: str | Path, **kwargs: Any) -> TrainResult:
    """``Trainer(run_dir, **kwargs).fit()``."""
    return Trainer(run_dir, **kwargs).fit()
