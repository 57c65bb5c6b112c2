"""Training hyper-parameters in one JSON-serialisable dataclass, and the run-config file.

Defaults follow DESIGN.md section 6 (COST's losses and optimiser) and TransT's training code
where the paper is silent (jitter, brightness, grayscale, gradient clipping, frozen BatchNorm,
frozen stem). The schedule (epochs, steps per epoch, the step-decay epoch) is not in the
paper; ours is a reasonable fine-tuning schedule from TransT weights, and every value can be
changed in a config file::

    {"model": {...COSTConfig fields...}, "training": {...TrainingConfig fields...}}

Both parts are optional and partial: absent fields keep their defaults.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from costcore.errors import FormatError
from costcore.fileio import read_regular_text
from costcore.model.config import COSTConfig

#: what to do with a sequence that has no description (COST only; TransT ignores language)
WITHOUT_LANGUAGE_CHOICES = ("empty", "skip")
AUTOCAST_CHOICES = ("auto", "bf16", "none")


@dataclass
class TrainingConfig:
    """How COST is trained. Batch sizes are per process; see :attr:`effective_batch`."""

    # --- pairs (TransT's sampler and processing) ---
    max_gap: int = 100  # template and search frames at most this many frames apart
    template_center_jitter: float = 0.0  # x sqrt(w h): TransT jitters only the search crop
    template_scale_jitter: float = 0.0
    search_center_jitter: float = 3.0
    search_scale_jitter: float = 0.25
    brightness_jitter: float = 0.2  # factor uniform in [1 - b, 1 + b], per crop
    grayscale_probability: float = 0.05  # template and search together
    without_language: str = "empty"  # "empty": train with an empty description; "skip"
    num_workers: int = 4
    # --- optimisation (DESIGN.md section 6) ---
    epochs: int = 100
    steps_per_epoch: int = 1000  # optimizer steps
    batch_size: int = 14  # pairs per forward pass per process
    accumulate: int = 1  # forward passes per optimizer step
    lr: float = 1e-4
    backbone_lr: float = 1e-5  # the ResNet
    text_encoder_lr: float | None = None  # BERT; None = backbone_lr (both are pre-trained)
    weight_decay: float = 1e-4
    lr_drop_epochs: int = 80  # step decay: lr x lr_gamma every lr_drop_epochs epochs
    lr_gamma: float = 0.1
    grad_clip_norm: float | None = 0.1  # TransT's max_norm; None = no clipping
    # conv1 and layer1 stay frozen, as in TransT/DETR; BatchNorm is always frozen
    trainable_backbone_layers: list[str] = field(default_factory=lambda: ["layer2", "layer3"])
    # --- losses (DESIGN.md section 6) ---
    coa_weight: float = 1.0
    ce_weight: float = 1.0  # alpha
    l1_weight: float = 5.0  # lambda_1
    giou_weight: float = 2.0  # lambda_G
    background_weight: float = 0.0625  # TransT's weight of background cells in the CE
    # --- run ---
    autocast: str = "auto"  # "auto": bf16 on CUDA, off on CPU
    seed: int = 0
    log_every: int = 10  # optimizer steps between log.csv rows
    keep_checkpoints: int = 2  # step checkpoints kept in RUN_DIR/checkpoints (0 = all)

    def __post_init__(self) -> None:
        self.trainable_backbone_layers = [str(n) for n in self.trainable_backbone_layers]
        positive = ("epochs", "steps_per_epoch", "batch_size", "accumulate", "log_every")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("max_gap", "num_workers", "keep_checkpoints", "lr_drop_epochs"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.without_language not in WITHOUT_LANGUAGE_CHOICES:
            raise ValueError(f"without_language must be one of {WITHOUT_LANGUAGE_CHOICES}")
        if self.autocast not in AUTOCAST_CHOICES:
            raise ValueError(f"autocast must be one of {AUTOCAST_CHOICES}")
        if not 0.0 <= self.grayscale_probability <= 1.0:
            raise ValueError("grayscale_probability must be in [0, 1]")
        if not 0.0 <= self.brightness_jitter < 1.0:
            raise ValueError("brightness_jitter must be in [0, 1)")

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def effective_batch(self, world_size: int = 1) -> int:
        """Pairs per optimizer step over all processes (the paper's batch is 14)."""
        return self.batch_size * self.accumulate * world_size

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainingConfig fields: {', '.join(unknown)}")
        return cls(**data)


def read_config_file(path: str | Path) -> tuple[dict[str, Any], TrainingConfig]:
    """A run-config JSON file: ``(model overrides, TrainingConfig)``; FormatError on problems.

    The model part is returned as overrides (a dict) because the CLI applies its own options
    (``--text-encoder``) on top before building the :class:`COSTConfig`.
    """
    path = Path(path)
    try:
        data = json.loads(read_regular_text(path))
    except OSError as error:
        raise FormatError(path, f"cannot read the config ({error.strerror or error})") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormatError(path, f"config is not valid JSON ({error})") from error
    if not isinstance(data, dict) or set(data) - {"model", "training"}:
        raise FormatError(path, 'expected a JSON object with "model" and/or "training"')
    model = data.get("model", {})
    training = data.get("training", {})
    if not isinstance(model, dict) or not isinstance(training, dict):
        raise FormatError(path, '"model" and "training" must be JSON objects')
    try:
        COSTConfig.from_dict({**COSTConfig().to_dict(), **model})  # validate early
        return dict(model), TrainingConfig.from_dict(training)
    except (TypeError, ValueError) as error:
        raise FormatError(path, f"invalid config: {error}") from error


def model_config(overrides: dict[str, Any], text_encoder: str | None = None) -> COSTConfig:
    """The paper's COSTConfig with ``overrides``; ``text_encoder`` (a hub name or a folder)
    replaces any text encoder the overrides name (and its tokenizer)."""
    data = {**COSTConfig().to_dict(), **overrides}
    if text_encoder is not None:
        data.update(text_encoder=str(text_encoder), text_encoder_config=None, tokenizer=None)
    return COSTConfig.from_dict(data)
