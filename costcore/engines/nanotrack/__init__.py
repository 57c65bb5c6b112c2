"""NanoTrack (github.com/HonglinChu/SiamTrackers, NanoTrack/, Apache-2.0) as a tracking engine.

Registered as ``"nanotrack"``. A Siamese tracker with a MobileNetV3-small backbone and an
anchor-free head, 0.3-0.6 M parameters, real-time on a CPU, with a score and a score map per
frame. Weights: one of the authors' released ``.pth`` files (``nanotrackv2.pth``,
``nanotrackv3.pth``, ``nanotrackv1.pth``); the version is read from the tensors, and the
tracker takes that version's settings from the authors' configs. Without weights the engine
takes the best entry installed in the per-user cache (``python -m costcore weights download
nanotrack-v3``) and says which in ``describe()``. A folder holding such a file
and a ``config.json`` (:class:`NanoTrackConfig` fields) works too; the ``config`` option
(a dict or a JSON file) overrides them, e.g. ``OPENCV_TRACKER_NANO`` for OpenCV's rules.

The ``.pth`` files are read by the project's allow-list loader: they hold numpy scalars and
an optimizer state beside the weights, nothing in them is executed, and every tensor must
fit the network (strict check, errors name the file).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from costcore.engines.checkpoint_files import (
    CheckpointLocation,
    config_error,
    config_values,
    load_strict,
    locate_checkpoint,
    read_checkpoint,
)
from costcore.engines.errors import CheckpointError, EngineError
from costcore.engines.nanotrack.config import OPENCV_TRACKER_NANO, NanoTrackConfig
from costcore.errors import ConfigError

__all__ = [
    "OPENCV_TRACKER_NANO",
    "NanoTrackConfig",
    "create_nanotrack_engine",
    "detect_version",
    "installed_weights",
    "load_nanotrack",
]

#: a tensor of each version's head, most specific first (V3's head has V2's tensors too)
_HEAD_MARKERS = {
    3: "ban_head.corr_dw_reg.conv_kernel.0.weight",
    2: "ban_head.corr_pw_reg.conv_kernel.0.weight",
    1: "ban_head.corr_pw.CA_layer.fc1.weight",
}
#: the AdjustLayer's width per version
_ADJUST_WIDTH = {1: 64, 2: 64, 3: 96}
_ADJUST_KEY = "neck.downsample.0.weight"

WEIGHTS_HINT = "a NanoTrack .pth (e.g. nanotrackv3.pth), or a folder with one and config.json"


def detect_version(state: dict, path: Path) -> int:
    """NanoTrack's version from the tensors: the adjust layer's width (V3: 96) and the head's
    layout (V1 correlates once, V2 once per task, V3 adds depth-wise correlations)."""
    versions = [version for version, key in _HEAD_MARKERS.items() if key in state]
    adjust = state.get(_ADJUST_KEY)
    if not versions:
        sample = ", ".join(sorted(state)[:3])
        raise CheckpointError(
            path,
            "not a NanoTrack checkpoint: no NanoTrack V1/V2/V3 head tensors (ban_head.*) "
            f"among its {len(state)} tensors ({sample}, ...)",
        )
    version = versions[0]
    if adjust is not None and adjust.shape[0] != _ADJUST_WIDTH[version]:
        raise CheckpointError(
            path,
            f"inconsistent NanoTrack checkpoint: a V{version} head with a "
            f"{adjust.shape[0]}-channel adjust layer (V{version} has {_ADJUST_WIDTH[version]})",
        )
    return version


def _config(location: CheckpointLocation, override: object, version: int) -> NanoTrackConfig:
    values, where = config_values(location, override, "nanotrack", ("engine", "weights"))
    try:
        return NanoTrackConfig.from_dict(values, where, version)
    except ConfigError as error:
        raise config_error(error, "nanotrack") from None


def load_nanotrack(weights: str | PathLike[str], config: object = None, device: str = "cpu"):
    """The network with the checkpoint's weights (eval mode), its config, a one-line summary."""
    import torch

    from costcore.engines.nanotrack.network import NanoTrackNet

    location = locate_checkpoint(weights, "NanoTrack")
    state, report = read_checkpoint(location.file)
    version = detect_version(state, location.file)
    cfg = _config(location, config, version)
    with torch.device("meta"):  # every tensor comes from the checkpoint: no random init
        network = NanoTrackNet(version)
    load_strict(
        network,
        location.file,
        state,
        f"the NanoTrack V{version} network",
        NanoTrackNet.OPTIONAL_BUFFERS,
        device=torch.device(device),
    )
    summary = (
        f"{report.path.name}: NanoTrack V{version}, {report.parameter_count / 1e6:.2f} M values, "
        f"sha256 {report.sha256[:12]}"
    )
    return network.eval(), cfg, summary


def installed_weights() -> tuple[Path, str]:
    """The best NanoTrack weights in the per-user cache (V3, else V2, else V1), each file
    checked against its published SHA-256 (hashed once, then known by its stamp), and the
    catalogue entry's name; an :class:`EngineError` saying how to get them when none is."""
    from costcore.engines.registry import not_installed_message
    from costcore.weights import WeightsStatus, entries_for_engine, entry_status, first_installed

    found = first_installed("nanotrack")
    if found is not None:
        entry, path = found
        return path, entry.name
    problems = []
    for entry in entries_for_engine("nanotrack"):
        status = entry_status(entry)
        if status is not WeightsStatus.MISSING:
            problems.append(f"{entry.name} is {status.value}")
    detail = f" ({'; '.join(problems)})" if problems else ""
    raise EngineError(not_installed_message("nanotrack") + detail)


def create_nanotrack_engine(
    weights: str | PathLike[str] | None = None,
    device: str = "auto",
    config: object = None,
    threads: int | None = 1,
):
    """Registry factory for ``"nanotrack"``: ``weights`` is a NanoTrack ``.pth`` or a folder;
    None takes the best installed entry of the weights cache (:func:`installed_weights`).
    ``threads``: intra-op threads for the engine's own work (None: torch's setting); see
    :mod:`costcore.engines.nanotrack.tracker`."""
    cached = None
    if not weights:
        weights, cached = installed_weights()
    try:
        import torch  # noqa: F401

        from costcore.torch_device import resolve_device
    except ImportError as error:
        raise EngineError(f"the NanoTrack engine needs torch ({error})") from error
    from costcore.engines.nanotrack.tracker import NanoTracker

    try:
        resolved = resolve_device(device)
    except (ValueError, RuntimeError) as error:
        raise EngineError(f"device {device!r}: {error}") from error
    network, cfg, summary = load_nanotrack(weights, config, str(resolved))
    if cached is not None:
        summary += f" (weights cache: {cached})"
    return NanoTracker(network, cfg, resolved, summary, threads=threads)
