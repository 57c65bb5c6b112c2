"""What trains and how fast: frozen BatchNorm and stem, parameter groups, AdamW, step decay.

TransT (like DETR) freezes the backbone's BatchNorm - statistics *and* affine parameters - and
the stem (conv1 and layer1); only layer2 and layer3 of the ResNet train, at a tenth of the
learning rate. BERT is the other pre-trained encoder and gets its own (by default the same
low) learning rate. Frozen BatchNorm is enforced by :func:`set_train_mode`, which every
``model.train()`` of the training loop goes through: ``nn.Module.train`` would otherwise put
the BatchNorm layers back into batch-statistics mode.
"""

from __future__ import annotations

import torch
from torch import nn

from costcore.model.cost import TEXT_ENCODER_PREFIX, COSTModel
from costcore.training.config import TrainingConfig

BACKBONE_PREFIX = "backbone."


def backbone_batchnorms(model: COSTModel) -> list[nn.modules.batchnorm._BatchNorm]:
    return [m for m in model.backbone.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def freeze_backbone(model: COSTModel, trainable_layers: list[str] | tuple[str, ...]) -> int:
    """No gradient for the backbone's BatchNorm, nor for its parameters outside
    ``trainable_layers`` (names of ResNet stages, e.g. layer2, layer3); returns how many
    parameter tensors were frozen."""
    frozen = 0
    batchnorm_params = {id(p) for bn in backbone_batchnorms(model) for p in bn.parameters()}
    for name, parameter in model.backbone.named_parameters():
        stage = next((part for part in name.split(".") if part.startswith("layer")), None)
        if id(parameter) in batchnorm_params or stage not in trainable_layers:
            parameter.requires_grad_(False)
            frozen += 1
    return frozen


def set_train_mode(model: nn.Module) -> None:
    """``model.train()`` with the backbone's BatchNorm kept in eval mode (frozen statistics).

    ``model`` may be a COSTModel or a DistributedDataParallel wrapping one.
    """
    model.train()
    inner = getattr(model, "module", model)
    for batchnorm in backbone_batchnorms(inner):
        batchnorm.eval()


def parameter_groups(model: COSTModel, training: TrainingConfig) -> list[dict[str, object]]:
    """Trainable parameters in three named groups: ``main``, ``backbone``, ``text_encoder``.

    Parameters are given as ``(name, tensor)`` pairs, so the optimizer's state dict records
    each group's ``param_names`` and a resumed run can check it maps onto the same tensors.
    Empty groups are left out; the order of parameters is the model's, so an optimizer state
    saved by one run maps onto the same parameters when another run rebuilds the model.
    """
    text_lr = training.backbone_lr if training.text_encoder_lr is None else training.text_encoder_lr
    groups: dict[str, dict[str, object]] = {
        "main": {"name": "main", "lr": training.lr, "params": []},
        "backbone": {"name": "backbone", "lr": training.backbone_lr, "params": []},
        "text_encoder": {"name": "text_encoder", "lr": text_lr, "params": []},
    }
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        if name.startswith(BACKBONE_PREFIX):
            key = "backbone"
        elif name.startswith(TEXT_ENCODER_PREFIX):
            key = "text_encoder"
        else:
            key = "main"
        groups[key]["params"].append((name, parameter))  # torch keeps the names (param_names)
    return [group for group in groups.values() if group["params"]]


def build_optimizer(model: COSTModel, training: TrainingConfig) -> torch.optim.AdamW:
    return torch.optim.AdamW(
        parameter_groups(model, training), lr=training.lr, weight_decay=training.weight_decay
    )


def build_scheduler(
    optimizer: torch.optim.Optimizer, training: TrainingConfig
) -> torch.optim.lr_scheduler.StepLR:
    """Step decay per epoch (stepped once at the end of every epoch)."""
    step_size = training.lr_drop_epochs or (training.epochs + 1)  # 0: never
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=training.lr_gamma)
