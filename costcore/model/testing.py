"""Tiny COST models for tests (here and in other packages): seconds on a CPU, no download.

The tiny model runs the real code path with small sizes: a 1-1-1 block ResNet of width 8, two
fusion layers, a 2-layer BERT of width 32 with a 60-word vocabulary written to disk, 64/128 px
crops (score map 4x4 for COST, 16x16 visual-only).
"""

from __future__ import annotations

from pathlib import Path

from costcore.model.config import COSTConfig
from costcore.model.cost import COSTModel

TINY_VOCABULARY = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "the", "a", "an", "red", "blue", "white", "black", "green", "small", "big", "car", "truck",
    "person", "man", "woman", "bird", "plane", "airplane", "boat", "ball", "player", "in", "on",
    "of", "with", "flying", "running", "moving", "left", "right", "top", "bottom", "sky",
    "road", "water", "field", "and", "is", "at", "to", "from", "by", "near", "far", "fast",
    "##s", "##ing", "##ed", "##er", "drone", "bike", "dog", "cat", "shirt", "tiny",
]  # fmt: skip


def write_tiny_vocab(folder: str | Path) -> Path:
    """Write a WordPiece ``vocab.txt`` into ``folder`` and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vocab.txt"
    path.write_text("\n".join(TINY_VOCABULARY) + "\n", encoding="utf-8")
    return path


def tiny_text_encoder_config(vocab_size: int = len(TINY_VOCABULARY)) -> dict[str, object]:
    return {
        "model_type": "bert",
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_position_embeddings": 64,
    }


def tiny_config(vocab_folder: str | Path | None = None, visual_only: bool = False) -> COSTConfig:
    """A small config; ``vocab_folder`` (with a vocab.txt) is needed unless ``visual_only``."""
    language: dict[str, object] = {"text_encoder": None}
    if not visual_only:
        if vocab_folder is None:
            raise ValueError("a COST (non visual-only) tiny config needs a vocab folder")
        language = {
            "text_encoder": None,
            "text_encoder_config": tiny_text_encoder_config(),
            "tokenizer": str(Path(vocab_folder) / "vocab.txt"),
        }
    return COSTConfig(
        backbone_layers=[1, 1, 1],
        backbone_width=8,
        hidden_dim=32,
        nheads=4,
        fusion_layers=2,
        dim_feedforward=64,
        template_size=64,
        search_size=128,
        vlt_layers=2,
        vlt_heads=4,
        vlt_feedforward=64,
        coa_dim=16,
        visual_only=visual_only,
        **language,
    )


def tiny_model(folder: str | Path, visual_only: bool = False, seed: int = 0) -> COSTModel:
    """A tiny random model in eval mode; the vocabulary is written into ``folder``."""
    import torch

    if not visual_only:
        write_tiny_vocab(folder)
    torch.manual_seed(seed)
    return COSTModel.from_config(tiny_config(folder, visual_only)).eval()
