"""VLT_TT's configuration: the searched backbone path, widths, and the tracking hyper-parameters.

Defaults are the authors' ``experiments/VLT_TT.yaml`` (github.com/JudasDie/SOTS): a one-shot
ShuffleNet supernet (stage widths 64/160/320/640, 4+4+8+4 blocks, 4 candidate blocks each) of
which ``cand`` picks one path for the template, one for the search region and one candidate per
ModaMixer stage for each; a TransT-style fusion (256 wide, 8 heads, 4 layers, FFN 2048, the
search region with its own input projection); TransT's head; template 128 px, search 256 px.

The tracking hyper-parameters differ per benchmark in the authors' file (``HYPERS``); the
defaults are their LaSOT ones, and :data:`BENCHMARK_HYPERS` holds all of them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from costcore.errors import FormatError
from costcore.fileio import read_regular_text

#: ``TEST.HYPERS`` of VLT_TT.yaml: benchmark -> (penalty_k, lr, window_influence)
BENCHMARK_HYPERS: dict[str, tuple[float, float, float]] = {
    "OTB2015": (0.147, 0.699, 0.49),
    "VOT2019": (0.143, 0.803, 0.49),
    "GOT10KTEST": (0.049, 1.0, 0.49),
    "LASOTTEST": (0.0, 1.0, 0.49),
    "TNL2K": (0.0, 1.0, 0.80),
    "TOTB": (0.103, 0.82, 0.49),
    "NFS30": (0.015, 0.944, 0.49),
    "TC128": (0.063, 0.519, 0.49),
    "UAV123": (0.128, 0.913, 0.49),
    "TRACKINGNET": (0.049, 1.0, 0.49),
}

#: ``MODEL.CAND`` of VLT_TT.yaml: template path, search path, ModaMixer candidates (z, x)
RELEASED_CAND = [
    [3, 3, 2, 2, 3, 3, 0, 0, 2, 3, 3, 2, 2, 2, 0, 3, 2, 1, 1, 3],
    [2, 1, 0, 3, 3, 1, 2, 0, 0, 0, 1, 1, 3, 3, 3, 0, 2, 1, 3, 2],
    [3, 0, 3, 0],
    [3, 0, 3, 0],
]


@dataclass
class VLTTTConfig:
    """Everything the network and the tracker need besides the weights."""

    stage_repeats: list[int] = field(default_factory=lambda: [4, 4, 8, 4])
    #: [-1, first conv, stage 1..4, conv_last] as in the authors' SPOS_VLT
    stage_out_channels: list[int] = field(default_factory=lambda: [-1, 16, 64, 160, 320, 640, 1024])
    cand: list[list[int]] = field(default_factory=lambda: [list(c) for c in RELEASED_CAND])
    hidden_dim: int = 256
    nhead: int = 8
    dim_feedforward: int = 2048
    fusion_layers: int = 4
    asymmetrical: bool = True
    head_mid_channels: int = 256
    head_layers: int = 3
    template_size: int = 128
    search_size: int = 256
    total_stride: int = 8
    context_amount: float = 0.5
    #: token ids per description: [CLS] + word pieces + [SEP], zero-padded
    max_text_tokens: int = 50
    roi_size: int = 3
    #: attention heads of the BERT in the checkpoint when no text-model config says otherwise
    text_heads: int | None = None
    penalty_k: float = 0.0
    lr: float = 1.0
    window_influence: float = 0.49

    def __post_init__(self) -> None:
        blocks = sum(self.stage_repeats)
        if len(self.stage_repeats) != 4 or len(self.stage_out_channels) != 7:
            raise ValueError("VLT_TT has 4 stages: stage_repeats has 4 entries, channels 7")
        if len(self.cand) != 4 or [len(c) for c in self.cand] != [blocks, blocks, 4, 4]:
            raise ValueError(f"cand must be [{blocks} ids, {blocks} ids, 4 ids, 4 ids]")
        if any(not 0 <= choice < 4 for path in self.cand for choice in path):
            raise ValueError("cand entries choose one of 4 candidate blocks (0..3)")
        if self.hidden_dim % self.nhead or self.hidden_dim % 2:
            raise ValueError("hidden_dim must be even and a multiple of nhead")
        if not 0.0 <= self.window_influence <= 1.0:
            raise ValueError("window_influence must be in [0, 1]")

    @property
    def backbone_channel(self) -> int:
        """Width of the last stage, the fusion's input (the authors' BACKBONE.CHANNEL)."""
        return self.stage_out_channels[5]

    @property
    def score_size(self) -> int:
        """Side of the score map: ``(search - template) // stride * 2`` (32)."""
        return (self.search_size - self.template_size) // self.total_stride * 2

    def with_benchmark(self, benchmark: str) -> VLTTTConfig:
        """A copy with the authors' hyper-parameters for ``benchmark`` (e.g. "OTB2015")."""
        key = benchmark.upper()
        if key not in BENCHMARK_HYPERS:
            raise ValueError(
                f"unknown benchmark {benchmark!r}; known: {', '.join(BENCHMARK_HYPERS)}"
            )
        penalty_k, lr, window = BENCHMARK_HYPERS[key]
        values = asdict(self)
        values.update(penalty_k=penalty_k, lr=lr, window_influence=window)
        return VLTTTConfig(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | Path = "config") -> VLTTTConfig:
        """Known fields, plus ``benchmark`` (a preset of the three hyper-parameters, which
        explicit values override); anything else is an error naming ``source``."""
        values = dict(values)
        benchmark = values.pop("benchmark", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise FormatError(source, f"unknown VLT_TT config fields: {', '.join(unknown)}")
        try:
            if benchmark is not None:
                preset = cls().with_benchmark(str(benchmark))
                for name in ("penalty_k", "lr", "window_influence"):
                    values.setdefault(name, getattr(preset, name))
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise FormatError(source, f"bad VLT_TT config: {error}") from error

    @classmethod
    def from_json(cls, path: str | Path) -> VLTTTConfig:
        path = Path(path)
        try:
            values = json.loads(read_regular_text(path))
        except (OSError, ValueError) as error:
            raise FormatError(path, f"cannot read the config ({error})") from error
        if not isinstance(values, dict):
            raise FormatError(path, "the config must be a JSON object")
        for key in ("engine", "weights", "text_model"):
            values.pop(key, None)
        return cls.from_dict(values, path)
