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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costcore.errors import ConfigError
from costcore.frozen_config import FrozenConfig, setting

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
RELEASED_CAND = (
    (3, 3, 2, 2, 3, 3, 0, 0, 2, 3, 3, 2, 2, 2, 0, 3, 2, 1, 1, 3),
    (2, 1, 0, 3, 3, 1, 2, 0, 0, 0, 1, 1, 3, 3, 3, 0, 2, 1, 3, 2),
    (3, 0, 3, 0),
    (3, 0, 3, 0),
)
#: the supernet's output stride (first conv and the first two stages halve the image)
TOTAL_STRIDE = 8
#: the ModaMixer multiplies channel-wise by a 1x1 token: a 3x3 RoI after a 3x3 conv
ROI_SIZE = 3
#: the language width assumed when no BERT sizes are known (BERT-base)
DEFAULT_TEXT_DIM = 768


@dataclass(frozen=True)
class VLTTTConfig(FrozenConfig):
    """Everything the network and the tracker need besides the weights."""

    what = "VLT_TT config"
    #: keys a checkpoint folder's config.json may hold that are not network fields
    ignored_keys = ("engine", "weights", "text_model")

    stage_repeats: tuple[int, ...] = setting((4, 4, 8, 4), length=4, minimum=1, maximum=16)
    #: [-1, first conv, stage 1..4, conv_last] as in the authors' SPOS_VLT
    stage_out_channels: tuple[int, ...] = setting(
        (-1, 16, 64, 160, 320, 640, 1024), length=7, minimum=-1, maximum=8192
    )
    #: template path, search path (one candidate 0..3 per block), ModaMixer candidates (z, x)
    cand: tuple[tuple[int, ...], ...] = setting(RELEASED_CAND, length=4, minimum=0, maximum=3)
    hidden_dim: int = setting(256, minimum=2, maximum=8192)
    nhead: int = setting(8, minimum=1, maximum=256)
    dim_feedforward: int = setting(2048, minimum=1, maximum=65536)
    fusion_layers: int = setting(4, minimum=1, maximum=64)
    asymmetrical: bool = True
    head_mid_channels: int = setting(256, minimum=1, maximum=8192)
    head_layers: int = setting(3, minimum=1, maximum=16)
    template_size: int = setting(128, minimum=TOTAL_STRIDE, maximum=1024)
    search_size: int = setting(256, minimum=TOTAL_STRIDE, maximum=2048)
    total_stride: int = setting(TOTAL_STRIDE, choices=(TOTAL_STRIDE,))
    context_amount: float = setting(0.5, above=0.0, maximum=16.0)
    #: token ids per description: [CLS] + word pieces + [SEP], zero-padded
    max_text_tokens: int = setting(50, minimum=3, maximum=512)
    roi_size: int = setting(ROI_SIZE, choices=(ROI_SIZE,))
    #: attention heads of the BERT in the checkpoint when no text-model config says otherwise
    text_heads: int | None = setting(None, minimum=1, maximum=256)
    penalty_k: float = setting(0.0, minimum=0.0, maximum=100.0)
    lr: float = setting(1.0, minimum=0.0, maximum=1.0)
    window_influence: float = setting(0.49, minimum=0.0, maximum=1.0)

    def validate(self) -> None:
        blocks = sum(self.stage_repeats)
        if [len(path) for path in self.cand] != [blocks, blocks, 4, 4]:
            raise self.invalid("cand", f"must be [{blocks} ids, {blocks} ids, 4 ids, 4 ids]")
        channels = self.stage_out_channels
        if channels[0] != -1:
            raise self.invalid("stage_out_channels", "entry 1 is a placeholder and must be -1")
        if channels[1] < 1 or channels[6] < 1:
            raise self.invalid("stage_out_channels", "widths must be positive")
        for stage in range(4):
            width, before = channels[stage + 2], channels[stage + 1]
            if width % 2 or width <= before:
                raise self.invalid(
                    "stage_out_channels",
                    f"stage {stage + 1} must be wider than what it gets ({before}) and even "
                    f"(ShuffleNet splits the channels in two), not {width}",
                )
        if self.hidden_dim % 2 or self.hidden_dim % self.nhead:
            raise self.invalid("hidden_dim", f"must be even and a multiple of nhead ({self.nhead})")
        for name in ("template_size", "search_size"):
            if getattr(self, name) % self.total_stride:
                raise self.invalid(name, f"must be a multiple of {self.total_stride}")
        if self.score_size != self.search_size // self.total_stride:
            raise self.invalid(
                "search_size",
                f"the score map ((search - template) / stride x 2 = {self.score_size}) must "
                f"cover the search features ({self.search_size // self.total_stride}): "
                "the search crop is twice the template",
            )

    @property
    def backbone_channel(self) -> int:
        """Width of the last stage, the fusion's input (the authors' BACKBONE.CHANNEL)."""
        return self.stage_out_channels[5]

    @property
    def score_size(self) -> int:
        """Side of the score map: ``(search - template) // stride * 2`` (32)."""
        return (self.search_size - self.template_size) // self.total_stride * 2

    @classmethod
    def from_dict(cls, values: Any, source: str | Path | None = None) -> VLTTTConfig:
        """Known fields, plus ``benchmark`` (a preset of the three hyper-parameters, which
        explicit values override); anything else is an error naming ``source``."""
        if isinstance(values, dict) and "benchmark" in values:
            values = dict(values)
            benchmark = values.pop("benchmark")
            if not isinstance(benchmark, str) or benchmark.upper() not in BENCHMARK_HYPERS:
                known = ", ".join(BENCHMARK_HYPERS)
                raise ConfigError(source, f"must be one of {known}", "benchmark", what=cls.what)
            penalty_k, lr, window = BENCHMARK_HYPERS[benchmark.upper()]
            values.setdefault("penalty_k", penalty_k)
            values.setdefault("lr", lr)
            values.setdefault("window_influence", window)
        return super().from_dict(values, source)

    def parameter_count(self, text_dim: int = DEFAULT_TEXT_DIM) -> int:
        """Parameters of :class:`~costcore.engines.vlt_tt.network.VLTTTNet` without its BERT
        (whose sizes the checkpoint or the text model's config give), for ``text_dim``-wide
        language features."""
        channels = self.stage_out_channels
        count = 27 * channels[1]  # first conv (its BatchNorm has no affine parameters)
        blocks: list[int] = []
        width = channels[1]
        for stage, repeats in enumerate(self.stage_repeats):
            out = channels[stage + 2]
            for i in range(repeats):
                inp, projected = (width, True) if i == 0 else (width // 2, False)
                blocks.append(_candidate_parameters(inp, out, projected))
                width = out
        ends = [sum(self.stage_repeats[: stage + 1]) for stage in range(4)]
        count += sum(blocks) + sum(blocks[end - 1] for end in ends)  # features, nlp_layers
        count += channels[5] * channels[6] + channels[6] * 1000  # conv_last, classifier
        for width in channels[2:6]:
            count += 9 * width * width + width + 2 * width  # vistoken_layers
            count += text_dim * width + 2 * width  # token_map
        d, f = self.hidden_dim, self.dim_feedforward
        ffn = d * f + f + f * d + d
        count += self.fusion_layers * (4 * d * d + 2 * ffn + 6 * 2 * d)
        count += (d * d + ffn + 2 * 2 * d) + 2 * d  # decoder layer, decoder norm
        count += (channels[5] * d + d) * (2 if self.asymmetrical else 1)  # input projections
        mid, layers = self.head_mid_channels, self.head_layers
        for out in (2, 4):
            ins = [d] + [mid] * (layers - 1)
            outs = [mid] * (layers - 1) + [out]
            count += sum(a * b + b for a, b in zip(ins, outs, strict=True))
        return count


def _candidate_parameters(inp: int, out: int, projected: bool) -> int:
    """The four candidate blocks of one supernet position (3x3, 5x5, 7x7 ShuffleNet and
    Xception), their BatchNorms without affine parameters."""
    mid, rest = out // 2, out - inp
    count = 0
    for k in (3, 5, 7):
        count += inp * mid + mid * k * k + mid * rest
        count += inp * k * k + inp * inp if projected else 0
    count += inp * 9 + inp * mid + mid * 9 + mid * mid + mid * 9 + mid * rest
    count += inp * 9 + inp * inp if projected else 0
    return count
