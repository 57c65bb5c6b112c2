"""Tiny training set-ups for tests and quick checks: seconds per hundred steps on a CPU.

The model is :func:`costcore.model.testing.tiny_config` with crops shrunk to 48/96 px, a
ResNet of width 16, one fusion and one VLT layer, one 5x5 visual-token conv (12x12 search map
-> 8x8 score map), no dropout, and a tokenizer whose vocabulary knows the synthetic
sentences' words. The training settings are tuned so 300 steps learn to track the synthetic
shapes for every seed we tried: one learning rate of 1e-3 for everything (the pre-trained
encoders' low rates make no sense from random weights), every ResNet stage trainable, no
gradient clipping, and search jitter reduced to what the synthetic videos contain
(constant-size targets: scale jitter 0.05, centre jitter 2).

Why one token conv: with the paper's conv-ReLU-conv stack, a tiny model trained from random
weights at lr 1e-3 sometimes switches every ReLU unit off within the first steps (2 runs in
7); the visual tokens are then constant, and the loss stalls at the position prior (CE ~0.44,
GIoU ~0.58, CoA at chance). A single conv has no ReLU to die.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from costcore.model.config import COSTConfig
from costcore.model.testing import TINY_VOCABULARY, tiny_config, tiny_text_encoder_config
from costcore.training.config import TrainingConfig
from costcore.training.synthetic import SYNTHETIC_WORDS

TINY_TRAINING = {
    "batch_size": 8,
    "lr": 1e-3,
    "backbone_lr": 1e-3,
    "text_encoder_lr": 1e-3,
    "grad_clip_norm": None,
    "trainable_backbone_layers": ["layer1", "layer2", "layer3"],
    "search_center_jitter": 2.0,
    "search_scale_jitter": 0.05,
    "max_gap": 20,
    "num_workers": 0,
    "lr_drop_epochs": 0,
    "keep_checkpoints": 0,
}


def write_synthetic_vocab(folder: str | Path) -> Path:
    """The tiny vocabulary plus the synthetic sentences' words, as ``folder/vocab.txt``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    words = list(TINY_VOCABULARY) + [w for w in SYNTHETIC_WORDS if w not in TINY_VOCABULARY]
    path = folder / "vocab.txt"
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return path


def tiny_training_model_config(
    folder: str | Path, visual_only: bool = False, dropout: float = 0.0
) -> COSTConfig:
    """A tiny COST (or TransT) config; the vocabulary is written into ``folder``."""
    data = tiny_config(folder, visual_only=True).to_dict()
    data.update(
        template_size=48,
        search_size=96,
        backbone_width=16,
        fusion_layers=1,
        vlt_layers=1,
        token_convs=1,
        token_conv_kernel=5,
        dropout=dropout,
        vlt_dropout=dropout,
        visual_only=visual_only,
    )
    if not visual_only:
        vocab = write_synthetic_vocab(folder)
        count = len(vocab.read_text(encoding="utf-8").split())
        data.update(
            text_encoder=None,
            text_encoder_config=tiny_text_encoder_config(count),
            tokenizer=str(vocab),
        )
    return COSTConfig.from_dict(data)


def tiny_training_config(**overrides: Any) -> TrainingConfig:
    return TrainingConfig.from_dict({**TINY_TRAINING, **overrides})


def write_config_file(path: str | Path, model: COSTConfig, training: TrainingConfig) -> Path:
    """A ``--config`` file holding both configs."""
    path = Path(path)
    data = {"model": model.to_dict(), "training": training.to_dict()}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
