"""All-in-One (github.com/983632847/All-in-One, ACM MM 2023) as a tracking engine.

Registered as ``"allinone"``. Weights: the authors' released checkpoint (``OSTrack_ep0300.pth.tar``,
a pickled dict with the weights under ``"net"``), read by the project's safe loader and loaded
strictly with the authors' key names; or a folder holding such a file and a ``config.json``
(:class:`AllInOneConfig` fields) for any other network size. The ``config`` option (a dict or
a JSON file) overrides the folder's values. Only torch is needed (no timm, no transformers).
"""

from __future__ import annotations

from os import PathLike

from costcore.engines.allinone.config import AllInOneConfig
from costcore.engines.allinone.tracker import AllInOneTracker
from costcore.engines.checkpoint_files import (
    CheckpointLocation,
    config_error,
    config_values,
    load_strict,
    locate_checkpoint,
    read_checkpoint,
)
from costcore.engines.errors import EngineError
from costcore.errors import ConfigError

__all__ = ["AllInOneConfig", "AllInOneTracker", "create_allinone_engine", "load_allinone"]


def _config(location: CheckpointLocation, override: object) -> AllInOneConfig:
    values, where = config_values(location, override, "allinone", ("engine", "weights"))
    try:
        return AllInOneConfig.from_dict(values, where)
    except ConfigError as error:
        raise config_error(error, "allinone") from None


def load_allinone(weights: str | PathLike[str], config: object = None, device: str = "cpu"):
    """The network with the checkpoint's weights, in eval mode, and a one-line summary."""
    import torch

    from costcore.engines.allinone.network import AllInOneNet

    location = locate_checkpoint(weights, "All-in-One")
    cfg = _config(location, config)
    state, report = read_checkpoint(location.file)
    with torch.device("meta"):  # every tensor comes from the checkpoint: no random init
        network = AllInOneNet(cfg)
    load_strict(
        network,
        location.file,
        state,
        "the All-in-One network",
        AllInOneNet.OPTIONAL_BUFFERS,
        device=torch.device(device),
    )
    network = network.eval()
    summary = (
        f"{report.path.name}: ViT {cfg.embed_dim}x{cfg.depth}, "
        f"{report.parameter_count / 1e6:.2f} M values, sha256 {report.sha256[:12]}"
    )
    return network, summary


def create_allinone_engine(
    weights: str | PathLike[str], device: str = "auto", config: object = None
) -> AllInOneTracker:
    """Registry factory for ``"allinone"``: ``weights`` is a checkpoint file or folder."""
    try:
        import torch  # noqa: F401

        from costcore.torch_device import resolve_device
    except ImportError as error:
        raise EngineError(f"the All-in-One engine needs torch ({error})") from error
    try:
        resolved = resolve_device(device)
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"device {device!r}: {error}") from error
    network, summary = load_allinone(weights, config, str(resolved))
    return AllInOneTracker(network, resolved, summary)
