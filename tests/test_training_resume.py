"""The training loop: exact resume after SIGTERM or Ctrl-C, frozen BatchNorm, run folders."""

from __future__ import annotations

import argparse
import copy
import signal
from pathlib import Path

import pytest
import torch

from costcore.cli import train as train_cli
from costcore.errors import CostcoreError, FormatError
from costcore.model import load_checkpoint
from costcore.training import (
    Trainer,
    TrainingError,
    build_model,
    list_checkpoints,
    load_training_state,
    read_log,
)
from costcore.training.synthetic import write_synthetic_dataset
from costcore.training.testing import (
    tiny_training_config,
    tiny_training_model_config,
    write_config_file,
)

TOTAL = 6


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("resume")
    write_synthetic_dataset(root / "data", 4, seed=3, frames=12)
    model_config = tiny_training_model_config(root / "vocab", dropout=0.1)  # dropout: RNG
    training = tiny_training_config(
        epochs=2, steps_per_epoch=3, batch_size=2, accumulate=2, log_every=1,
        trainable_backbone_layers=["layer2", "layer3"], grad_clip_norm=0.1, lr=1e-3,
        backbone_lr=1e-4, text_encoder_lr=1e-4, lr_drop_epochs=1, lr_gamma=0.5,
    )  # fmt: skip
    yield {"root": root, "model": model_config, "training": training}
    torch.set_num_threads(threads)


def _trainer(setup, run_dir: Path, **kwargs) -> Trainer:
    if kwargs.get("resume"):
        return Trainer(run_dir, device="cpu", **kwargs)
    return Trainer(
        run_dir, data_dirs=[setup["root"] / "data"], model_config=setup["model"],
        training=setup["training"], device="cpu", **kwargs,
    )  # fmt: skip


def _snapshot(trainer: Trainer) -> dict[str, object]:
    return {
        "params": {k: v.detach().clone() for k, v in trainer.model.state_dict().items()},
        "optimizer": copy.deepcopy(trainer.optimizer.state_dict()),
    }


@pytest.fixture(scope="module")
def reference(setup):
    """An uninterrupted run, with snapshots after steps 2 and 3."""
    snapshots: dict[int, dict[str, object]] = {}
    run_dir = setup["root"] / "reference"

    def progress(step: int, total: int, losses: dict[str, float]) -> None:
        if step in (2, 3):
            snapshots[step] = _snapshot(trainer)

    trainer = _trainer(setup, run_dir, progress=progress)
    result = trainer.fit()
    assert result.step == TOTAL and not result.interrupted and result.final is not None
    return {"run_dir": run_dir, "snapshots": snapshots, "result": result}


def _assert_same_optimizer_state(a: dict, b: dict) -> None:
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for index, state in a["state"].items():
        for name, value in state.items():
            assert torch.equal(value, b["state"][index][name]), (index, name)


def test_resume_after_sigterm_and_ctrl_c_is_exact(setup, reference, tmp_path: Path) -> None:
    run_dir = tmp_path / "interrupted"
    resumed_at: dict[int, dict[str, object]] = {}

    def stop_at_two(step: int, total: int, losses: dict[str, float]) -> None:
        if step == 2:
            signal.raise_signal(signal.SIGTERM)  # the handler asks the loop to stop

    first = _trainer(setup, run_dir, progress=stop_at_two)
    result = first.fit()
    assert result.interrupted and result.step == 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    assert [step for step, _ in list_checkpoints(run_dir)] == [2]
    saved = load_training_state(run_dir / "checkpoints" / "step-00000002")
    assert saved["step"] == 2 and saved["epoch"] == 0
    _assert_same_optimizer_state(saved["optimizer"], reference["snapshots"][2]["optimizer"])

    def ctrl_c_at_four(step: int, total: int, losses: dict[str, float]) -> None:
        if step == 3:
            resumed_at[3] = _snapshot(second)
        if step == 4:
            raise KeyboardInterrupt

    second = _trainer(setup, run_dir, resume=True, progress=ctrl_c_at_four)
    with pytest.raises(KeyboardInterrupt):
        second.fit()
    # the first step after resuming is the reference's step 3, bit for bit
    for key, value in reference["snapshots"][3]["params"].items():
        assert torch.equal(value, resumed_at[3]["params"][key]), key
    _assert_same_optimizer_state(resumed_at[3]["optimizer"], reference["snapshots"][3]["optimizer"])
    assert [step for step, _ in list_checkpoints(run_dir)] == [2, 3, 4]

    third = _trainer(setup, run_dir, resume=True).fit()
    assert third.step == TOTAL and not third.interrupted

    reference_log, log = read_log(reference["run_dir"]), read_log(run_dir)
    names = ("step", "epoch", "lr", "backbone_lr", "total", "ce", "l1", "giou", "coa")
    assert [[row[n] for n in names] for row in log] == [
        [row[n] for n in names] for row in reference_log
    ]
    assert [row["lr"] for row in log] == [1e-3] * 2 + [5e-4] * 3 + [2.5e-4]  # step decay
    final, expected = (
        load_checkpoint(run_dir / "final"),
        load_checkpoint(reference["run_dir"] / "final"),
    )
    for key, value in expected.state_dict().items():
        assert torch.equal(value, final.state_dict()[key]), key
    last = f"step-{TOTAL:08d}"
    a = load_training_state(run_dir / "checkpoints" / last)
    b = load_training_state(reference["run_dir"] / "checkpoints" / last)
    _assert_same_optimizer_state(a["optimizer"], b["optimizer"])
    assert a["scheduler"] == b["scheduler"]


def test_batchnorm_and_stem_stay_frozen(setup, reference) -> None:
    initial = build_model(setup["model"], setup["training"].seed).state_dict()
    trained = load_checkpoint(reference["run_dir"] / "final").state_dict()
    frozen = [
        k for k in initial if k.startswith("backbone.") and (".bn" in k or "downsample.1" in k)
    ]
    frozen += [
        k for k in initial if k.startswith(("backbone.0.body.conv1", "backbone.0.body.layer1"))
    ]
    assert any("running_mean" in k for k in frozen) and any("layer1" in k for k in frozen)
    for key in frozen:
        assert torch.equal(initial[key], trained[key]), key
    for key in ("backbone.0.body.layer2.0.conv1.weight", "input_proj.weight"):
        assert not torch.equal(initial[key], trained[key]), key


def test_runs_refuse_to_overwrite_and_resume_can_extend(setup, reference, tmp_path) -> None:
    with pytest.raises(TrainingError, match="already holds a training run"):
        _trainer(setup, reference["run_dir"]).fit()
    with pytest.raises(TrainingError, match="cannot change batch_size"):
        Trainer(
            reference["run_dir"], resume=True, training_overrides={"batch_size": 4}, device="cpu"
        ).fit()
    with pytest.raises(FormatError, match="run.json"):
        Trainer(tmp_path / "nothing", resume=True, device="cpu").fit()

    # a finished run resumed as is: nothing to do
    done = Trainer(reference["run_dir"], resume=True, device="cpu").fit()
    assert done.step == TOTAL and done.final is not None and not done.history
    # more epochs: continues from the last checkpoint
    extended = Trainer(
        reference["run_dir"], resume=True, training_overrides={"epochs": 3}, device="cpu"
    ).fit()
    assert extended.step == 9 and [row["step"] for row in extended.history] == [7, 8, 9]


def test_training_state_is_never_unpickled(reference, tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    folder = tmp_path / "step-00000001"
    folder.mkdir()
    torch.save({"optimizer": Payload(), "scheduler": {}, "step": 1, "epoch": 0},
               folder / "training_state.pt")  # fmt: skip
    with pytest.raises(FormatError, match="cannot read the training state"):
        load_training_state(folder)


def test_cli_new_run_and_resume_rules(setup, tmp_path: Path, capsys) -> None:
    config = write_config_file(
        tmp_path / "config.json", setup["model"],
        tiny_training_config(epochs=1, steps_per_epoch=2, batch_size=2, log_every=1),
    )  # fmt: skip

    def run(*argv: str) -> int:
        parser = argparse.ArgumentParser()
        train_cli.register(parser.add_subparsers())
        args = parser.parse_args(["train", *argv])
        return args.handler(args)

    out = tmp_path / "run"
    data = str(setup["root"] / "data")
    assert run("--data", data, "--out", str(out), "--config", str(config), "--device", "cpu") == 0
    assert "final checkpoint" in capsys.readouterr().out
    with pytest.raises(CostcoreError, match="--batch-size cannot change"):
        run("--out", str(out), "--resume", "--batch-size", "4")
    assert run("--out", str(out), "--resume", "--epochs", "2", "--device", "cpu") == 0
    assert [step for step, _ in list_checkpoints(out)] == [2, 4]
    assert [row["step"] for row in read_log(out)] == [1, 2, 3, 4]


def test_python_m_costcore_train_dispatch(tmp_path: Path, capsys) -> None:
    import costcore.cli

    code = costcore.cli.main(["train", "--out", str(tmp_path / "missing"), "--resume"])
    assert code == 2
    assert "no run here to resume" in capsys.readouterr().err
