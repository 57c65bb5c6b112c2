"""What a torch engine's factory says when its packages or its device are missing."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from costcore.engines import EngineError  # noqa: E402
from costcore.engines.engine_device import engine_device  # noqa: E402


def test_a_device_there_is_comes_back_as_a_torch_device() -> None:
    assert engine_device("All-in-One", "cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert engine_device("All-in-One", "auto").type == expected


def test_a_device_there_is_not_is_one_engine_error_naming_the_request() -> None:
    with pytest.raises(EngineError, match="device 'tpu:0'"):
        engine_device("All-in-One", "tpu:0")
    if not torch.cuda.is_available():
        with pytest.raises(EngineError, match="device 'cuda:1': CUDA was requested"):
            engine_device("UVLTrack", "cuda:1")


def test_a_missing_package_is_named_with_the_engine() -> None:
    with pytest.raises(EngineError) as caught:
        engine_device("VLT_TT", "cpu", ("torch", "no_such_package_here"))
    message = str(caught.value)
    assert message.startswith("the VLT_TT engine needs torch and no_such_package_here")
    assert "no_such_package_here" in message.split("(", 1)[1]
