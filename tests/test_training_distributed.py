"""Two processes through torchrun on CPU (gloo): DistributedDataParallel, rank 0 writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from costcore.model import load_checkpoint
from costcore.training import list_checkpoints, read_log
from costcore.training.synthetic import write_synthetic_dataset
from costcore.training.testing import (
    tiny_training_config,
    tiny_training_model_config,
    write_config_file,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_torchrun_two_processes_write_one_checkpoint(tmp_path: Path) -> None:
    write_synthetic_dataset(tmp_path / "data", 4, seed=2, frames=12)
    config = write_config_file(
        tmp_path / "config.json",
        tiny_training_model_config(tmp_path / "vocab"),
        tiny_training_config(epochs=1, steps_per_epoch=3, batch_size=2, log_every=1, num_workers=1),
    )
    run_dir = tmp_path / "run"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "costcore", "train", "--data", str(tmp_path / "data"), "--out", str(run_dir),
        "--config", str(config), "--device", "cpu",
    ]  # fmt: skip
    process = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]

    # rank 0 alone wrote: one checkpoint per save, one log row per step, one line per event
    assert [step for step, _ in list_checkpoints(run_dir)] == [3]
    leftovers = [p.name for p in (run_dir / "checkpoints").iterdir() if p.name.startswith(".")]
    assert not leftovers
    assert [row["step"] for row in read_log(run_dir)] == [1, 2, 3]
    events = (run_dir / "train.log").read_text()
    assert events.count("starting:") == 1 and "4 pairs per step (2 process(es)" in events
    assert events.count("saved") == 1
    assert json.loads((run_dir / "run.json").read_text())["world_size"] == 2
    assert process.stdout.count("final checkpoint") == 1

    model = load_checkpoint(run_dir / "final")
    assert all(torch.isfinite(p).all() for p in model.parameters())
