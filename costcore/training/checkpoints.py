"""A training run's folder: step checkpoints that resume exactly and load as trackers.

```
RUN_DIR/run.json                       model + training config, data folders (read by --resume)
RUN_DIR/log.csv                        one row per log_every optimizer steps
RUN_DIR/train.log                      plain-text events (start, checkpoints, interruptions)
RUN_DIR/checkpoints/step-00001000/     a COST checkpoint folder (config.json,
                                       model.safetensors, text_encoder/) plus
    training_state.pt                  optimizer + scheduler state, step, epoch
    training_state.json                the same facts for people; written last (= complete)
RUN_DIR/final/                         the finished model: give this to track / the app
```

Every ``step-*`` folder is itself a checkpoint ``python -m costcore track --weights`` loads.
``training_state.pt`` holds only tensors, numbers, strings, lists and dicts (the optimizer's
and scheduler's state dicts) and is read with ``torch.load(weights_only=True)``: resuming
never unpickles arbitrary objects. A checkpoint is assembled in a hidden staging folder and
renamed into place, so an interrupted save never leaves a half checkpoint that resume picks.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import torch

from costcore.errors import FormatError
from costcore.fileio import (
    atomic_write_text,
    check_regular_file,
    move_folder_into_place,
    remove_stale_temporaries,
    temporary_sibling,
)
from costcore.frozen_config import read_json_object
from costcore.model.checkpoint import save_checkpoint
from costcore.model.cost import COSTModel

RUN_FILE = "run.json"
LOG_FILE = "log.csv"
EVENTS_FILE = "train.log"
CHECKPOINTS_DIR = "checkpoints"
FINAL_DIR = "final"
STATE_FILE = "training_state.pt"
STATE_INFO_FILE = "training_state.json"
_STEP_FOLDER = re.compile(r"^step-(\d+)$")


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def save_training_checkpoint(
    run_dir: str | Path,
    model: COSTModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    *,
    step: int,
    epoch: int,
    reason: str,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``RUN_DIR/checkpoints/step-<step>`` (replacing one of the same step)."""
    folder = Path(run_dir) / CHECKPOINTS_DIR / checkpoint_name(step)
    remove_stale_temporaries(folder)  # what a killed save of this step left
    staging = temporary_sibling(folder, "partial")
    try:
        save_checkpoint(model, staging)
        state = {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": int(step),
            "epoch": int(epoch),
        }
        torch.save(state, staging / STATE_FILE)
        info = {
            "step": int(step),
            "epoch": int(epoch),
            "reason": reason,
            "saved": time.strftime("%Y-%m-%d %H:%M:%S"),
            "lr": [float(g["lr"]) for g in optimizer.param_groups],
            **(extra or {}),
        }
        atomic_write_text(staging / STATE_INFO_FILE, json.dumps(info, indent=2) + "\n")
        move_folder_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def list_checkpoints(run_dir: str | Path) -> list[tuple[int, Path]]:
    """Complete step checkpoints of a run, oldest first."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _STEP_FOLDER.match(child.name)
        if match and (child / STATE_INFO_FILE).is_file() and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    checkpoints = list_checkpoints(run_dir)
    return checkpoints[-1][1] if checkpoints else None


def prune_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the ``keep`` newest step checkpoints (``keep`` 0 keeps all)."""
    if keep <= 0:
        return
    for _, folder in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(folder, ignore_errors=True)


def load_training_state(folder: str | Path) -> dict[str, Any]:
    """The optimizer/scheduler state of a step checkpoint (``weights_only``: no code runs)."""
    path = Path(folder) / STATE_FILE
    try:
        check_regular_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # OSError, EOFError, and weights_only's UnpicklingError
        raise FormatError(path, f"cannot read the training state ({error})") from error
    if not isinstance(state, dict) or not {"optimizer", "scheduler", "step", "epoch"} <= set(state):
        raise FormatError(path, "not a training state (optimizer, scheduler, step, epoch)")
    return state


def write_run_file(run_dir: str | Path, data: dict[str, Any]) -> None:
    atomic_write_text(Path(run_dir) / RUN_FILE, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_run_file(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / RUN_FILE
    if not path.exists():
        raise FormatError(path, "no run here to resume (run.json is missing)")
    data = read_json_object(path, "run description")
    if not isinstance(data, dict) or not {"model", "training", "data"} <= set(data):
        raise FormatError(path, "run.json needs model, training and data")
    return data
