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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costcore.errors import ConfigError
from costcore.frozen_config import FrozenConfig, read_json_object, setting
from costcore.model.config import COSTConfig

#: what to do with a sequence that has no description (COST only; TransT ignores language)
WITHOUT_LANGUAGE_CHOICES = ("empty", "skip")
AUTOCAST_CHOICES = ("auto", "bf16", "none")
#: ResNet stages that may train (conv1 and bn1 are the stem, always frozen)
BACKBONE_STAGES = ("layer1", "layer2", "layer3")


@dataclass(frozen=True)
class TrainingConfig(FrozenConfig):
    """How COST is trained. Batch sizes are per process; see :attr:`effective_batch`."""

    what = "training config"

    # --- pairs (TransT's sampler and processing) ---
    #: template and search frames at most this many frames apart
    max_gap: int = setting(100, minimum=0, maximum=1_000_000)
    #: x sqrt(w h): TransT jitters only the search crop
    template_center_jitter: float = setting(0.0, minimum=0.0, maximum=10.0)
    template_scale_jitter: float = setting(0.0, minimum=0.0, maximum=10.0)
    search_center_jitter: float = setting(3.0, minimum=0.0, maximum=10.0)
    search_scale_jitter: float = setting(0.25, minimum=0.0, maximum=10.0)
    #: factor uniform in [1 - b, 1 + b], per crop
    brightness_jitter: float = setting(0.2, minimum=0.0, below=1.0)
    #: template and search together
    grayscale_probability: float = setting(0.05, minimum=0.0, maximum=1.0)
    #: "empty": train with an empty description; "skip"
    without_language: str = setting("empty", choices=WITHOUT_LANGUAGE_CHOICES)
    num_workers: int = setting(4, minimum=0, maximum=256)
    # --- optimisation (DESIGN.md section 6) ---
    epochs: int = setting(100, minimum=1, maximum=1_000_000)
    steps_per_epoch: int = setting(1000, minimum=1, maximum=1_000_000)  # optimizer steps
    batch_size: int = setting(14, minimum=1, maximum=4096)  # pairs per forward pass per process
    accumulate: int = setting(1, minimum=1, maximum=4096)  # forward passes per optimizer step
    lr: float = setting(1e-4, above=0.0, maximum=10.0)
    backbone_lr: float = setting(1e-5, minimum=0.0, maximum=10.0)  # the ResNet
    #: BERT; None = backbone_lr (both are pre-trained)
    text_encoder_lr: float | None = setting(None, minimum=0.0, maximum=10.0)
    weight_decay: float = setting(1e-4, minimum=0.0, maximum=10.0)
    #: step decay: lr x lr_gamma every lr_drop_epochs epochs
    lr_drop_epochs: int = setting(80, minimum=0, maximum=1_000_000)
    lr_gamma: float = setting(0.1, minimum=0.0, maximum=10.0)
    #: TransT's max_norm; None = no clipping
    grad_clip_norm: float | None = setting(0.1, above=0.0, maximum=1e6)
    #: conv1 and layer1 stay frozen, as in TransT/DETR; BatchNorm is always frozen
    trainable_backbone_layers: tuple[str, ...] = setting(
        ("layer2", "layer3"), choices=BACKBONE_STAGES, max_length=3
    )
    # --- losses (DESIGN.md section 6) ---
    coa_weight: float = setting(1.0, minimum=0.0, maximum=1000.0)
    ce_weight: float = setting(1.0, minimum=0.0, maximum=1000.0)  # alpha
    l1_weight: float = setting(5.0, minimum=0.0, maximum=1000.0)  # lambda_1
    giou_weight: float = setting(2.0, minimum=0.0, maximum=1000.0)  # lambda_G
    #: TransT's weight of background cells in the CE
    background_weight: float = setting(0.0625, minimum=0.0, maximum=1000.0)
    # --- run ---
    #: "auto": bf16 on CUDA, off on CPU
    autocast: str = setting("auto", choices=AUTOCAST_CHOICES)
    seed: int = setting(0, minimum=0, maximum=2**32 - 1)
    log_every: int = setting(10, minimum=1, maximum=1_000_000)  # optimizer steps per log row
    #: step checkpoints kept in RUN_DIR/checkpoints (0 = all)
    keep_checkpoints: int = setting(2, minimum=0, maximum=1_000_000)

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def effective_batch(self, world_size: int = 1) -> int:
        """Pairs per optimizer step over all processes (the paper's batch is 14)."""
        return self.batch_size * self.accumulate * world_size


def read_config_file(path: str | Path) -> tuple[dict[str, Any], TrainingConfig]:
    """A run-config JSON file: ``(model overrides, TrainingConfig)``; ConfigError on problems.

    The model part is returned as overrides (a dict) because the CLI applies its own options
    (``--text-encoder``) on top before building the :class:`COSTConfig`; it is checked here
    all the same, so a bad value is reported before anything starts.
    """
    path = Path(path)
    data = read_json_object(path, "training run config")
    unknown = sorted(set(data) - {"model", "training"})
    if unknown:
        message = 'is not a section of a run config (expected "model" and/or "training")'
        raise ConfigError(path, message, unknown[0][:60], what="training run config")
    model = data.get("model", {})
    training = data.get("training", {})
    for section, values in (("model", model), ("training", training)):
        if not isinstance(values, dict):
            raise ConfigError(path, "must be a JSON object", section, what="training run config")
    try:
        COSTConfig.from_dict({**COSTConfig().to_dict(), **model}, path)  # validate early
    except ConfigError as error:
        raise error.within("model") from None
    try:
        return dict(model), TrainingConfig.from_dict(training, path)
    except ConfigError as error:
        raise error.within("training") from None


def model_config(overrides: dict[str, Any], text_encoder: str | None = None) -> COSTConfig:
    """The paper's COSTConfig with ``overrides``; ``text_encoder`` (a hub name or a folder)
    replaces any text encoder the overrides name (and its tokenizer)."""
    data = {**COSTConfig().to_dict(), **overrides}
    if text_encoder is not None:
        data.update(text_encoder=str(text_encoder), text_encoder_config=None, tokenizer=None)
    return COSTConfig.from_dict(data)
