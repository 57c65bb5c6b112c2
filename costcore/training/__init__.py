"""Training COST (or TransT): annotated folders in, a checkpoint folder the tracker loads out.

- :mod:`~costcore.training.sequences`: ``--data`` folders -> sequences with descriptions
  (GOT-10k: "major class + motion class" pseudo-language);
- :mod:`~costcore.training.data`: template/search pairs, TransT-style jittered crops with the
  tracker's own crop geometry, augmentation, deterministic sample ids;
- :mod:`~costcore.training.losses`: CoA InfoNCE, CE (background 0.0625), L1, GIoU;
- :mod:`~costcore.training.optim`: frozen BatchNorm/stem, AdamW groups, step decay;
- :mod:`~costcore.training.trainer`: the loop (accumulation, bf16, DDP via torchrun,
  checkpoints, exact resume, interrupts, log.csv);
- :mod:`~costcore.training.synthetic`: synthetic videos for tests and benchmarks.

``python -m costcore train`` is the command line (several GPUs: ``torchrun --nproc_per_node N
-m costcore train ...``).
"""

from costcore.training.checkpoints import (
    FINAL_DIR,
    latest_checkpoint,
    list_checkpoints,
    load_training_state,
)
from costcore.training.config import TrainingConfig, model_config, read_config_file
from costcore.training.data import PairDataset, StepBatchSampler, collate_pairs, jitter_box
from costcore.training.losses import (
    LossWeights,
    contrastive_loss,
    cost_losses,
    generalized_iou,
    positive_cells,
)
from costcore.training.optim import freeze_backbone, parameter_groups, set_train_mode
from costcore.training.sequences import (
    TrainingSequence,
    got10k_pseudo_language,
    load_training_sequences,
    sequence_language,
)
from costcore.training.trainer import (
    Trainer,
    TrainingError,
    TrainResult,
    build_model,
    read_log,
    train,
)

__all__ = [
    "FINAL_DIR",
    "LossWeights",
    "PairDataset",
    "StepBatchSampler",
    "TrainResult",
    "Trainer",
    "TrainingConfig",
    "TrainingError",
    "TrainingSequence",
    "build_model",
    "collate_pairs",
    "contrastive_loss",
    "cost_losses",
    "freeze_backbone",
    "generalized_iou",
    "got10k_pseudo_language",
    "jitter_box",
    "latest_checkpoint",
    "list_checkpoints",
    "load_training_sequences",
    "load_training_state",
    "model_config",
    "parameter_groups",
    "positive_cells",
    "read_config_file",
    "read_log",
    "sequence_language",
    "set_train_mode",
    "train",
]
