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
    checkpoint_summary,
    config_error,
    config_values,
    load_strict,
    locate_checkpoint,
    read_checkpoint,
)
from costcore.engines.engine_device import engine_device
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
    return network.eval(), checkpoint_summary(report, f"ViT {cfg.embed_dim}x{cfg.depth}")


def create_allinone_engine(
    weights: str | PathLike[str], device: str = "auto", config: object = None
) -> AllInOneTracker:
    """Registry factory for ``"allinone"``: ``weights`` is a checkpoint file or folder."""
    resolved = engine_device("All-in-One", device)
    network, summary = load_allinone(weights, config, str(resolved))
    return AllInOneTracker(network, resolved, summary)
