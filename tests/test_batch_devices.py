"""Which device each batch worker gets: pure logic, tested without a GPU."""

from __future__ import annotations

import argparse
import types

import pytest

from costcore.batch import devices
from costcore.batch.devices import (
    DeviceError,
    assign_devices,
    check_cuda_devices,
    gpu_devices,
    isolate_cuda_device,
    parse_device_list,
)


def test_one_worker_per_gpu_by_default() -> None:
    assert assign_devices(None, gpu_devices(2)) == ["cuda:0", "cuda:1"]
    assert assign_devices(None, gpu_devices(4)) == [f"cuda:{i}" for i in range(4)]


def test_more_workers_than_gpus_go_round_robin() -> None:
    assert assign_devices(5, ["cuda:0", "cuda:1"]) == ["cuda:0", "cuda:1"] * 2 + ["cuda:0"]
    assert assign_devices(1, ["cuda:3", "cuda:1"]) == ["cuda:3"]


def test_without_a_device_list_every_worker_gets_the_default() -> None:
    assert assign_devices(None, None) == ["auto"]
    assert assign_devices(3, None, default="cpu") == ["cpu"] * 3
    with pytest.raises(DeviceError):
        assign_devices(0, None)
    with pytest.raises(DeviceError):
        assign_devices(2, [])
    with pytest.raises(DeviceError):
        gpu_devices(0)


def test_parse_device_list() -> None:
    assert parse_device_list("cuda:0, cuda:1") == ["cuda:0", "cuda:1"]
    assert parse_device_list("0,2") == ["cuda:0", "cuda:2"]
    assert parse_device_list("cpu,cuda") == ["cpu", "cuda"]
    for bad in ("gpu0", "cuda:x", ",", "cuda:0;cuda:1"):
        with pytest.raises(DeviceError):
            parse_device_list(bad)


def test_missing_gpus_are_named() -> None:
    check_cuda_devices(["cuda:0", "cuda:1"], 2)
    with pytest.raises(DeviceError, match=r"cuda:2, cuda:3 requested, but .* only 2"):
        check_cuda_devices(gpu_devices(4), 2)
    with pytest.raises(DeviceError, match="no CUDA device"):
        check_cuda_devices(["cuda"], 0)

    def must_not_be_called() -> int:
        raise AssertionError("CPU runs must not ask torch for GPUs")

    check_cuda_devices(["cpu", "auto"], must_not_be_called)


def test_isolation_makes_the_workers_gpu_its_only_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(__import__("sys").modules, "torch", raising=False)
    environ: dict[str, str] = {}
    assert isolate_cuda_device("cuda:1", environ) == "cuda:0"
    assert environ == {"CUDA_VISIBLE_DEVICES": "1"}
    # through the parent's own list (a cluster scheduler gave us GPUs 4, 5 and 6)
    environ = {"CUDA_VISIBLE_DEVICES": "4, 5,6"}
    assert isolate_cuda_device("cuda:2", environ) == "cuda:0"
    assert environ["CUDA_VISIBLE_DEVICES"] == "6"
    with pytest.raises(DeviceError, match="lists 1"):
        isolate_cuda_device("cuda:1", {"CUDA_VISIBLE_DEVICES": "GPU-abc"})
    with pytest.raises(DeviceError, match="lists 0"):
        isolate_cuda_device("cuda:0", {"CUDA_VISIBLE_DEVICES": ""})
    for device in ("cpu", "auto", "cuda"):
        environ = {}
        assert isolate_cuda_device(device, environ) == device and environ == {}


def test_isolation_leaves_an_initialised_cuda_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_torch = types.SimpleNamespace(cuda=types.SimpleNamespace(is_initialized=lambda: True))
    monkeypatch.setitem(__import__("sys").modules, "torch", fake_torch)
    environ: dict[str, str] = {}
    assert isolate_cuda_device("cuda:1", environ) == "cuda:1"  # still names the right GPU
    assert environ == {}


def _cli_args(*argv: str) -> argparse.Namespace:
    from costcore.cli import run

    parser = argparse.ArgumentParser()
    run.register(parser.add_subparsers())
    return parser.parse_args(["run", "--dataset", "d", "--results", "r", *argv])


def test_cli_device_options_with_a_fake_gpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    from costcore.cli.run import worker_devices

    monkeypatch.setattr(devices, "torch_cuda_count", lambda: 2)
    assert worker_devices(_cli_args("--gpus", "2")) == ["cuda:0", "cuda:1"]
    assert worker_devices(_cli_args("--gpus", "2", "--workers", "4")) == ["cuda:0", "cuda:1"] * 2
    assert worker_devices(_cli_args("--devices", "cuda:1,cuda:0")) == ["cuda:1", "cuda:0"]
    assert worker_devices(_cli_args("--workers", "3", "--device", "cpu")) == ["cpu"] * 3
    assert worker_devices(_cli_args()) == ["auto"]
    with pytest.raises(DeviceError, match="cuda:2"):
        worker_devices(_cli_args("--gpus", "3"))
    with pytest.raises(SystemExit):  # one way of choosing devices at a time
        _cli_args("--gpus", "2", "--device", "cpu")
    with pytest.raises(SystemExit):
        _cli_args("--devices", "gpu:0")
