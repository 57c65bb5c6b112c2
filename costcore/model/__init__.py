"""The COST network (arXiv 2504.01321) and TransT, its visual-only special case.

Everything here is Qt-free and imports torch; ``transformers`` is imported only when a
linguistic branch is built. See :mod:`costcore.model.cost` for the paper-ordered model.
"""

from costcore.model.alignment import ContrastiveAlignment, info_nce_loss
from costcore.model.checkpoint import load_checkpoint, load_model, save_checkpoint
from costcore.model.config import COSTConfig
from costcore.model.cost import (
    COSTModel,
    COSTOutput,
    TemplateState,
    count_parameters,
)
from costcore.model.linguistic_branch import LanguageState, LinguisticBranch
from costcore.model.transt_checkpoint import (
    CheckpointReport,
    load_transt_weights,
    read_transt_state_dict,
    transt_model_from_checkpoint,
)

__all__ = [
    "COSTConfig",
    "COSTModel",
    "COSTOutput",
    "CheckpointReport",
    "ContrastiveAlignment",
    "LanguageState",
    "LinguisticBranch",
    "TemplateState",
    "count_parameters",
    "info_nce_loss",
    "load_checkpoint",
    "load_model",
    "load_transt_weights",
    "read_transt_state_dict",
    "save_checkpoint",
    "transt_model_from_checkpoint",
]
