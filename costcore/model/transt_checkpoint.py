"""Load a public TransT checkpoint (``transt.pth``) without executing anything it contains.

A ``transt.pth`` is a pickled dict: the weights under ``"net"`` plus entries such as
``constructor``, ``net_type``, ``settings`` and ``stats`` that reference TransT's own classes.
Checkpoints are untrusted files, and unpickling can call any importable function, so:

1. ``torch.load(weights_only=True)`` first (torch's restricted unpickler);
2. if it refuses unknown globals, an allow-list unpickler: ``find_class`` returns the real
   object only for tensor-rebuild functions, ``OrderedDict``, ``torch.Size`` and dtypes, and an
   inert placeholder class for everything else. A placeholder accepts any constructor arguments
   and any ``BUILD`` state and does nothing with them, so ``REDUCE`` of ``os.system`` (which is
   a placeholder by then) only creates an empty object. TorchScript archives are refused
   (``torch.load`` would hand them to ``torch.jit.load``).

The weights then load into the visual branch with a strict check: every missing, unexpected
or wrongly shaped tensor is reported by name in a :class:`FormatError` naming the file. Any
other failure (corrupt or truncated file, not a checkpoint) is a FormatError as well.
"""

from __future__ import annotations

import collections
import hashlib
import io
import pickle
import types
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from costcore.errors import FormatError
from costcore.fileio import read_regular_file
from costcore.model.config import COSTConfig
from costcore.model.cost import COSTModel
from costcore.model.state_dicts import check_state_dict, copy_into

#: top-level entries that may hold the weights, in the order they are tried
WEIGHT_ENTRIES = ("net", "state_dict", "model")


@dataclass(frozen=True)
class CheckpointReport:
    """What was read from a checkpoint file, for logs and the app's status line."""

    path: Path
    sha256: str
    tensor_count: int
    parameter_count: int  # elements in all tensors (BatchNorm counters included)
    loader: str  # "weights_only" or "allow-list"
    other_entries: tuple[str, ...] = ()  # top-level entries besides the weights (ignored)
    placeholders: tuple[str, ...] = ()  # "module.Class" names replaced by inert placeholders

    def describe(self) -> str:
        return (
            f"{self.path.name}: {self.tensor_count} tensors, "
            f"{self.parameter_count / 1e6:.2f} M values, sha256 {self.sha256[:12]}"
        )


# --- the allow-list unpickler ----------------------------------------------------------------


class InertPlaceholder:
    """Stands in for a refused class or function: takes any arguments, does nothing."""

    _qualified_name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> InertPlaceholder:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass  # BUILD: the state is dropped, never applied

    def __repr__(self) -> str:
        return f"<placeholder for {self._qualified_name}>"


def _allowed_global(module: str, name: str) -> Any | None:
    """The real object for the few globals a state dict needs; ``None`` for anything else."""
    if (module, name) == ("collections", "OrderedDict"):
        return collections.OrderedDict
    if module == "torch._utils" and name in (
        "_rebuild_tensor",
        "_rebuild_tensor_v2",
        "_rebuild_parameter",
        "_rebuild_parameter_with_state",
    ):
        import torch._utils as torch_utils

        return getattr(torch_utils, name)
    if module == "torch" and name == "Size":
        return torch.Size
    if module == "torch":
        value = vars(torch).get(name)  # no getattr: torch's lazy __getattr__ would import
        if isinstance(value, torch.dtype):
            return value
    return None


class AllowListUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose globals come from the allow-list or become placeholders.

    ``placeholders`` collects the refused names; subclasses made by :func:`allow_list_module`
    share one set per load (torch.load builds the unpickler itself).
    """

    placeholders: set[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not hasattr(type(self), "placeholders"):
            self.placeholders = set()

    def find_class(self, module: str, name: str) -> Any:
        allowed = _allowed_global(module, name)
        if allowed is not None:
            return allowed
        qualified = f"{module}.{name}"
        self.placeholders.add(qualified)
        return type(
            name.replace(".", "_") or "Placeholder",
            (InertPlaceholder,),
            {"_qualified_name": qualified, "__module__": __name__},
        )


def allow_list_module(placeholders: set[str]) -> types.ModuleType:
    """A ``pickle_module`` for torch.load (it needs ``Unpickler``, ``load`` and a name)."""

    class Unpickler(AllowListUnpickler):
        pass

    Unpickler.placeholders = placeholders

    def load(file: Any, **kwargs: Any) -> Any:
        return Unpickler(file, **kwargs).load()

    module = types.ModuleType("costcore_allow_list_pickle")
    module.Unpickler = Unpickler  # type: ignore[attr-defined]
    module.load = load  # type: ignore[attr-defined]
    return module


# --- reading ----------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_torchscript(data: bytes) -> bool:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return False
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return any(name.rsplit("/", 1)[-1] == "constants.pkl" for name in archive.namelist())


def safe_torch_load(path: str | Path) -> tuple[Any, str, tuple[str, ...]]:
    """Unpickle a torch file safely: ``(object, loader used, placeholder names)``."""
    path = Path(path)
    try:
        data = read_regular_file(path)
    except OSError as error:
        raise FormatError(path, f"cannot read checkpoint ({error.strerror or error})") from error
    try:
        if _is_torchscript(data):
            raise FormatError(path, "this is a TorchScript archive, not a checkpoint")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            return loaded, "weights_only", ()
        except pickle.UnpicklingError:
            pass  # unknown globals (TransT's classes): retry with placeholders for them
        placeholders: set[str] = set()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = torch.load(
                io.BytesIO(data),
                map_location="cpu",
                weights_only=False,
                pickle_module=allow_list_module(placeholders),
            )
        return loaded, "allow-list", tuple(sorted(placeholders))
    except FormatError:
        raise
    except Exception as error:  # corrupt, truncated or foreign files fail in many ways
        raise FormatError(
            path, f"not a readable checkpoint ({type(error).__name__}: {error})"
        ) from error


def _weights_of(path: Path, loaded: Any) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """Find the state dict inside the unpickled object; the other entries are listed."""
    if not isinstance(loaded, dict):
        raise FormatError(path, f"expected a dict of weights, found {type(loaded).__name__}")
    weights: Any = loaded
    for entry in WEIGHT_ENTRIES:
        if isinstance(loaded.get(entry), dict):
            weights = loaded[entry]
            break
    others = tuple(sorted(str(key) for key in loaded if loaded.get(key) is not weights))
    if not weights:
        raise FormatError(path, "the checkpoint holds no weights")
    for key, value in weights.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise FormatError(path, f"entry {key!r} of the weights is not a tensor")
    keys = list(weights)
    if all(key.startswith("module.") for key in keys):  # saved from DataParallel
        weights = {key[len("module.") :]: value for key, value in weights.items()}
    return dict(weights), others


def read_transt_state_dict(path: str | Path) -> tuple[dict[str, torch.Tensor], CheckpointReport]:
    """The weights of a TransT checkpoint and a report; nothing in the file is executed."""
    path = Path(path)
    loaded, loader, placeholders = safe_torch_load(path)
    weights, others = _weights_of(path, loaded)
    report = CheckpointReport(
        path=path,
        sha256=file_sha256(path),
        tensor_count=len(weights),
        parameter_count=sum(tensor.numel() for tensor in weights.values()),
        loader=loader,
        other_entries=others,
        placeholders=placeholders,
    )
    return weights, report


# --- loading into the model -------------------------------------------------------------------


def load_transt_weights(model: COSTModel, path: str | Path) -> CheckpointReport:
    """Load TransT weights strictly into ``model``'s visual branch and head.

    For a visual-only model that is the whole model; for COST it initialises the visual branch
    and the head from TransT (the paper trains COST from TransT), leaving the rest untouched.
    """
    path = Path(path)
    weights, report = read_transt_state_dict(path)
    expected = model.transt_state_dict()
    check_state_dict(path, expected, weights, "TransT's visual branch and head")
    copy_into(expected, weights)
    return report


def transt_model_from_checkpoint(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[COSTModel, CheckpointReport]:
    """A visual-only (TransT) model with the checkpoint's weights, in eval mode."""
    model = COSTModel(COSTConfig.transt())
    report = load_transt_weights(model, path)
    return model.to(device).eval(), report
