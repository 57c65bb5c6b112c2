"""Checkpoints of third-party trackers (All-in-One, VLT_TT, ...): find, read safely, load strictly.

``weights`` is either the authors' checkpoint file (a pickled dict, as their training saves it)
or a folder holding one such file plus an optional ``config.json`` for a non-default network
(our tests' tiny ones) and other files the engine needs (e.g. a tokenizer). Files are read with
:func:`costcore.model.transt_checkpoint.read_transt_state_dict`, the project's safe loader
(``torch.load(weights_only=True)``, then an allow-list unpickler whose unknown classes become
inert placeholders); nothing in a checkpoint is executed. Loading is strict: every missing,
unexpected or wrongly shaped tensor is named. Every failure is a :class:`CheckpointError`
(a ``FormatError`` and a ``WeightsError``) naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from costcore.engines.errors import CheckpointError, EngineError
from costcore.errors import ConfigError, FormatError
from costcore.fileio import check_regular_file
from costcore.frozen_config import path_name_problem, read_json_object

if TYPE_CHECKING:
    import torch
    from torch import nn

    from costcore.model.transt_checkpoint import CheckpointReport

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".tar", ".ckpt")
CONFIG_NAME = "config.json"


@dataclass(frozen=True)
class CheckpointLocation:
    """The checkpoint file, its folder, and the folder's config (``{}`` when there is none)."""

    file: Path
    folder: Path | None
    config: dict[str, Any]
    config_path: Path | None


def locate_checkpoint(weights: str | PathLike[str], engine: str) -> CheckpointLocation:
    """Resolve ``weights`` (a checkpoint file, or a folder with one and ``config.json``).

    The config is read with :func:`~costcore.frozen_config.read_json_object` (bounded size,
    nesting and numbers); the file it names must be a plain name inside the folder.
    """
    path = Path(weights)
    if not _exists(path):
        raise CheckpointError(path, f"{engine} weights not found (a checkpoint file or folder)")
    if not path.is_dir():
        try:
            check_regular_file(path)
        except OSError as error:
            raise CheckpointError(path, f"cannot read the weights ({error.strerror})") from None
        return CheckpointLocation(path, None, {}, None)
    config_path = path / CONFIG_NAME
    config: dict[str, Any] = {}
    if _exists(config_path):
        config = _read_config(config_path)
    named = config.get("weights")
    if named is not None:
        file = path / folder_entry(named, config_path, "weights")
        if not file.is_file():
            raise CheckpointError(file, f"checkpoint named in {config_path.name} not found")
    else:
        files = sorted(
            child
            for child in path.iterdir()
            if child.is_file() and child.name.lower().endswith(CHECKPOINT_SUFFIXES)
        )
        if len(files) != 1:
            found = ", ".join(child.name for child in files) or "none"
            raise CheckpointError(
                path, f"expected one {engine} checkpoint file in the folder, found {found}"
            )
        file = files[0]
    return CheckpointLocation(file, path, config, config_path if config else None)


def folder_entry(value: object, config_path: Path, field: str) -> str:
    """``value`` when it can name a file or folder inside the checkpoint folder (a relative
    path of valid names); otherwise a CheckpointError naming the config and the field."""
    problem = path_name_problem(value) if isinstance(value, str) else "must be a file name"
    if problem is None and (Path(value).is_absolute() or ".." in Path(value).parts):
        problem = "must name something inside the checkpoint folder"
    if problem is not None:
        raise CheckpointError(config_path, f"field {field!r}: {problem}")
    return value  # type: ignore[return-value]


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. a name longer than the file system allows
        return False


def _read_config(path: Path) -> dict[str, Any]:
    try:
        return read_json_object(path, "checkpoint config")
    except ConfigError as error:
        raise CheckpointError(error.path, error.message) from None


def config_values(
    location: CheckpointLocation, override: object, engine: str, meta_keys: tuple[str, ...]
) -> tuple[dict[str, Any], Path | None]:
    """The folder's config with ``override`` (a dict or a JSON file) on top, without the
    ``meta_keys`` (file names and such), and the file the values came from (None when they
    were given as a dict only), for errors."""
    values = dict(location.config)
    where = location.config_path
    if override is not None:
        if isinstance(override, (str, PathLike)):
            where = Path(override)
            extra = _read_config(where)
        elif isinstance(override, dict):
            extra = override
        else:
            raise EngineError(f"{engine}: config must be a dict or a JSON file")
        values.update(extra)
    return {k: v for k, v in values.items() if k not in meta_keys}, where


def config_error(error: ConfigError, engine: str) -> EngineError:
    """A config problem as the engines report it: a CheckpointError naming the file, or an
    EngineError for values given in code."""
    if error.path is None:
        return EngineError(f"{engine}: {error}")
    return CheckpointError(error.path, error.message)


def read_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], CheckpointReport]:
    """The state dict inside a checkpoint (``net``/``state_dict``/``model`` or bare), safely."""
    from costcore.model.transt_checkpoint import read_transt_state_dict

    try:
        return read_transt_state_dict(path)
    except FormatError as error:
        raise CheckpointError(error.path, error.message) from error


def load_strict(
    model: nn.Module,
    path: Path,
    weights: dict[str, torch.Tensor],
    what: str,
    optional: tuple[str, ...] = (),
    device: str | torch.device = "cpu",
) -> None:
    """Copy ``weights`` into ``model``; any key or shape difference is a CheckpointError.

    ``optional`` names non-learned buffers that some library versions save and others do not
    (e.g. BERT's ``position_ids``): accepted when present, never required. A model built on
    the ``meta`` device (no memory, no random initialisation) is checked first, then
    materialised on ``device`` and filled; it must keep all its state in ``state_dict``.
    """
    from costcore.model.state_dicts import check_state_dict, copy_into

    expected = model.state_dict()
    found = {key: value for key, value in weights.items() if key not in optional}
    try:
        check_state_dict(path, expected, found, what)
    except FormatError as error:
        raise CheckpointError(error.path, error.message) from error
    if any(tensor.is_meta for tensor in expected.values()):
        unsaved = {name for name, _ in model.named_buffers()} - set(expected)
        if unsaved:
            raise ValueError(f"cannot materialise a model with unsaved buffers: {sorted(unsaved)}")
        model.to_empty(device=device)
        expected = model.state_dict()
    copy_into(expected, found)


def rename_keys(weights: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """Keys containing ``old`` with it replaced by ``new`` (other keys unchanged)."""
    return {key.replace(old, new) if old in key else key: value for key, value in weights.items()}


def checkpoint_summary(report: CheckpointReport, network: str = "", note: str = "") -> str:
    """The engine's one-line ``summary`` of what it loaded: the file, ``network`` (its shape,
    when the file does not say it), the number of values and the checksum's start, then
    ``note`` (what the engine cannot do without a missing part)."""
    parts = [f"{report.parameter_count / 1e6:.2f} M values", f"sha256 {report.sha256[:12]}"]
    if network:
        parts.insert(0, network)
    return f"{report.path.name}: {', '.join(parts)}" + (f"; {note}" if note else "")
