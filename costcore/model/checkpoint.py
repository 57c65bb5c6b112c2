"""Our checkpoint format: a folder that loads with no network and no pickle.

```
<checkpoint>/config.json          COSTConfig (text_encoder/tokenizer point at "text_encoder")
<checkpoint>/model.safetensors    every weight except the text encoder's
<checkpoint>/text_encoder/        the text encoder and its tokenizer (save_pretrained)
```

The text encoder is stored once, in its own ``transformers`` folder, rather than also inside
model.safetensors: that folder is a normal Hugging Face model (it loads with
``AutoModel.from_pretrained``), and keeping it apart lets a checkpoint be inspected or the
encoder swapped without touching the tracker's weights. Loading uses ``local_files_only=True``.
A visual-only (TransT) checkpoint has no text_encoder folder. Saving is atomic: the folder is
written beside the destination under a temporary name and renamed into place.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from costcore.errors import ConfigError, FormatError
from costcore.fileio import check_regular_file, make_temporary_folder, move_folder_into_place
from costcore.model.config import COSTConfig
from costcore.model.cost import TEXT_ENCODER_PREFIX, COSTModel
from costcore.model.state_dicts import check_state_dict, copy_into

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TEXT_ENCODER_DIR = "text_encoder"


def _own_state_dict(model: COSTModel) -> dict[str, torch.Tensor]:
    """Everything in model.safetensors: the state dict minus the text encoder."""
    return {
        key: value
        for key, value in model.state_dict().items()
        if not key.startswith(TEXT_ENCODER_PREFIX)
    }


def save_checkpoint(model: COSTModel, folder: str | Path, overwrite: bool = False) -> Path:
    """Write ``model`` as a checkpoint folder; refuses to replace one unless ``overwrite``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise FileExistsError(f"{folder} exists; pass overwrite=True to replace it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = make_temporary_folder(folder)
    try:
        if model.config.visual_only:
            config = model.config.replace(text_encoder_config=None)
        else:  # the encoder goes into its own folder
            config = model.config.replace(
                text_encoder=TEXT_ENCODER_DIR, tokenizer=TEXT_ENCODER_DIR, text_encoder_config=None
            )
            branch = model.language_branch
            branch.encoder.save_pretrained(staging / TEXT_ENCODER_DIR)
            branch.tokenizer.save_pretrained(staging / TEXT_ENCODER_DIR)
        (staging / CONFIG_FILE).write_text(config.to_json(), encoding="utf-8")
        tensors = {
            key: value.detach().to("cpu").contiguous()
            for key, value in _own_state_dict(model).items()
        }
        save_file(tensors, str(staging / WEIGHTS_FILE), metadata={"format": "pt"})
        move_folder_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def load_checkpoint(folder: str | Path, device: str | torch.device = "cpu") -> COSTModel:
    """Load a checkpoint folder written by :func:`save_checkpoint` (eval mode, on ``device``)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(folder, "a COST checkpoint is a folder with config.json and weights")
    config = COSTConfig.from_json_file(folder / CONFIG_FILE)
    encoder_dir = folder / TEXT_ENCODER_DIR
    if (
        not config.visual_only
        and config.text_encoder == TEXT_ENCODER_DIR
        and not encoder_dir.is_dir()
    ):
        raise FormatError(encoder_dir, "the checkpoint's text encoder folder is missing")
    try:
        model = COSTModel.from_config(config, base_dir=folder, local_files_only=True)
    except ConfigError as error:  # a field of config.json the network cannot be built from
        raise error if error.path is not None else error.in_file(folder / CONFIG_FILE) from None
    except (OSError, ValueError) as error:
        if isinstance(error, FormatError):
            raise
        raise FormatError(folder, f"cannot build the model: {error}") from error
    weights_path = folder / WEIGHTS_FILE
    try:
        check_regular_file(weights_path)
        weights = load_file(str(weights_path))
    except (OSError, SafetensorError) as error:
        raise FormatError(weights_path, f"cannot read weights ({error})") from error
    expected = _own_state_dict(model)
    check_state_dict(weights_path, expected, weights, "the model in config.json")
    copy_into(expected, weights)
    return model.to(device).eval()


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[COSTModel, str]:
    """A checkpoint folder (COST) or a TransT ``.pth`` file; returns the model and a summary."""
    from costcore.model.transt_checkpoint import transt_model_from_checkpoint

    path = Path(path)
    if path.is_dir():
        model = load_checkpoint(path, device)
        kind = "TransT (visual only)" if model.visual_only else "COST"
        return model, f"{kind} checkpoint {path.name}"
    model, report = transt_model_from_checkpoint(path, device)
    return model, f"TransT {report.describe()}"
