"""VLT_TT's network (Guo et al., "Divert More Attention to Vision-Language Tracking", NeurIPS
2022): a searched ShuffleNet backbone with ModaMixers, TransT-style fusion, TransT's head.

Module and parameter names follow the authors' SOTS code (``backbone.0.body.*``, ``neck.*``,
``head.*``), so their checkpoints load strictly, key for key; the arithmetic follows theirs step
for step. Top to bottom:

1. backbone (``SPOS_VLT``): a one-shot supernet: 20 positions, each with 4 candidate blocks
   (ShuffleNet 3x3/5x5/7x7, Xception); a path (``cand``) picks one per position, a different
   one for the template and the search region. All candidates stay in the checkpoint.
2. ModaMixer after the 3rd, 7th, 15th and 19th block: the feature map is multiplied channel-wise
   by a modulation vector and passed through one more candidate block (``nlp_layers``), whose
   output is added to the next block's output. The vector is the description's BERT features
   (mean over all 50 token positions of the last layer, projected per stage by ``token_map``);
   without a description it is a "visual token": the template's features under the target box
   (RoI-align 3x3, ``vistoken_layers``), used for the template and the search region alike.
3. fusion (``neck``): input projections (one for the template, one for the search region),
   sine position encodings, encoder layers of self- and cross-attention, a cross-attention
   decoder. The attention has no q/k/v projections (the authors' ``Block_transformer_cat``):
   heads are slices of the inputs, and one bias-free output projection ``fc``.
4. head: classification (2 classes) and box (cx, cy, w, h, sigmoid) MLPs per search token.

The BERT is a ``transformers`` BertModel whose weights are part of the checkpoint.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from costcore.engines.vlt_tt.config import VLTTTConfig

# --- backbone: ShuffleNet one-shot supernet ----------------------------------------------------


def channel_shuffle(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the channels into two interleaved halves (ShuffleNetV2)."""
    batch, channels, height, width = x.shape
    x = x.reshape(batch * channels // 2, 2, height * width).permute(1, 0, 2)
    x = x.reshape(2, -1, channels // 2, height, width)
    return x[0], x[1]


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, affine=False)


class ShuffleBlock(nn.Module):
    """The 3x3, 5x5 and 7x7 candidates (the authors' ``Shufflenet``)."""

    def __init__(self, inp: int, oup: int, mid: int, ksize: int, stride: int, mapping: bool):
        super().__init__()
        self.stride, self.mapping = stride, mapping
        pad = ksize // 2
        self.branch_main = nn.Sequential(
            nn.Conv2d(inp, mid, 1, 1, 0, bias=False), _bn(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, ksize, stride, pad, groups=mid, bias=False), _bn(mid),
            nn.Conv2d(mid, oup - inp, 1, 1, 0, bias=False), _bn(oup - inp), nn.ReLU(inplace=True),
        )  # fmt: skip
        if stride == 2 or mapping:
            self.branch_proj = _projection(inp, ksize, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2 or self.mapping:
            return torch.cat((self.branch_proj(x), self.branch_main(x)), 1)
        x_proj, x = channel_shuffle(x)
        return torch.cat((x_proj, self.branch_main(x)), 1)


class XceptionBlock(nn.Module):
    """The Xception candidate (the authors' ``Shuffle_Xception``): three 3x3 depthwise convs."""

    def __init__(self, inp: int, oup: int, mid: int, stride: int, mapping: bool):
        super().__init__()
        self.stride, self.mapping = stride, mapping
        self.branch_main = nn.Sequential(
            nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), _bn(inp),
            nn.Conv2d(inp, mid, 1, 1, 0, bias=False), _bn(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, 1, 1, groups=mid, bias=False), _bn(mid),
            nn.Conv2d(mid, mid, 1, 1, 0, bias=False), _bn(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, mid, 3, 1, 1, groups=mid, bias=False), _bn(mid),
            nn.Conv2d(mid, oup - inp, 1, 1, 0, bias=False), _bn(oup - inp), nn.ReLU(inplace=True),
        )  # fmt: skip
        if stride == 2 or mapping:
            self.branch_proj = _projection(inp, 3, stride)

    forward = ShuffleBlock.forward


def _projection(inp: int, ksize: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, inp, ksize, stride, ksize // 2, groups=inp, bias=False), _bn(inp),
        nn.Conv2d(inp, inp, 1, 1, 0, bias=False), _bn(inp), nn.ReLU(inplace=True),
    )  # fmt: skip


def _candidates(inp: int, oup: int, stride: int, mapping: bool) -> nn.ModuleList:
    mid = oup // 2
    return nn.ModuleList(
        [
            ShuffleBlock(inp, oup, mid, 3, stride, mapping),
            ShuffleBlock(inp, oup, mid, 5, stride, mapping),
            ShuffleBlock(inp, oup, mid, 7, stride, mapping),
            XceptionBlock(inp, oup, mid, stride, mapping),
        ]
    )


def xcorr_depthwise(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Depthwise cross-correlation (with VLT's 1x1 kernels: a channel-wise product)."""
    batch, channels = kernel.shape[:2]
    x = x.view(1, batch * channels, x.size(2), x.size(3))
    kernel = kernel.view(batch * channels, 1, kernel.size(2), kernel.size(3))
    out = F.conv2d(x, kernel, groups=batch * channels)
    return out.view(batch, channels, out.size(2), out.size(3))


def roi_align(features: torch.Tensor, box: np.ndarray, size: int, scale: float) -> torch.Tensor:
    """``torchvision.ops.roi_align(features, [[0, *box]], size, scale, sampling_ratio=-1)``.

    Written out (float32, torchvision's CPU kernel's order of operations, ``aligned=False``) so
    the engine needs no torchvision. ``box`` is (x1, y1, x2, y2) in input pixels; one image.
    """
    f32 = np.float32
    _, channels, height, width = features.shape
    data = features[0].detach().float().cpu().numpy().reshape(channels, -1)
    scale32 = f32(scale)
    x1, y1, x2, y2 = (f32(v) * scale32 for v in box)
    roi_w, roi_h = max(f32(x2 - x1), f32(1.0)), max(f32(y2 - y1), f32(1.0))
    bin_w, bin_h = f32(roi_w / f32(size)), f32(roi_h / f32(size))
    grid_w = int(math.ceil(f32(roi_w / f32(size))))
    grid_h = int(math.ceil(f32(roi_h / f32(size))))
    count = f32(max(grid_h * grid_w, 1))

    def coordinate(start: np.float32, cell: int, sample: int, step: np.float32, grid: int):
        return f32(f32(start + f32(cell) * step) + f32(f32(f32(sample + 0.5) * step) / f32(grid)))

    out = np.zeros((channels, size, size), dtype=np.float32)
    for ph in range(size):
        for pw in range(size):
            total = np.zeros(channels, dtype=np.float32)
            for iy in range(grid_h):
                y = coordinate(y1, ph, iy, bin_h, grid_h)
                for ix in range(grid_w):
                    x = coordinate(x1, pw, ix, bin_w, grid_w)
                    if y < -1.0 or y > height or x < -1.0 or x > width:
                        continue  # outside: contributes zero
                    yy, xx = max(y, f32(0)), max(x, f32(0))
                    y_low, x_low = int(yy), int(xx)
                    if y_low >= height - 1:
                        y_high = y_low = height - 1
                        yy = f32(y_low)
                    else:
                        y_high = y_low + 1
                    if x_low >= width - 1:
                        x_high = x_low = width - 1
                        xx = f32(x_low)
                    else:
                        x_high = x_low + 1
                    ly, lx = f32(yy - f32(y_low)), f32(xx - f32(x_low))
                    hy, hx = f32(f32(1.0) - ly), f32(f32(1.0) - lx)
                    w1, w2, w3, w4 = f32(hy * hx), f32(hy * lx), f32(ly * hx), f32(ly * lx)
                    value = (
                        w1 * data[:, y_low * width + x_low] + w2 * data[:, y_low * width + x_high]
                    )
                    value = value + w3 * data[:, y_high * width + x_low]
                    value = value + w4 * data[:, y_high * width + x_high]
                    total = total + value
            out[:, ph, pw] = total / count
    return torch.from_numpy(out).unsqueeze(0).to(features.device)


class SPOSVLT(nn.Module):
    """The supernet with ModaMixers; ``backbone.0.body.*`` in checkpoints."""

    def __init__(self, config: VLTTTConfig, text_encoder: nn.Module, text_dim: int) -> None:
        super().__init__()
        channels = config.stage_out_channels
        self.roi_size, self.roi_stride = config.roi_size, config.total_stride
        self.first_conv = nn.Sequential(
            nn.Conv2d(3, channels[1], 3, 2, 1, bias=False), _bn(channels[1]), nn.ReLU(inplace=True)
        )
        self.features = nn.ModuleList()
        input_channel = channels[1]
        for stage, repeats in enumerate(config.stage_repeats):
            output_channel = channels[stage + 2]
            for i in range(repeats):
                mapping = False
                if i == 0:
                    if stage < 2:
                        inp, stride = input_channel, 2
                    else:
                        inp, stride, mapping = input_channel, 1, True
                else:
                    inp, stride = input_channel // 2, 1
                self.features.append(_candidates(inp, output_channel, stride, mapping))
                input_channel = output_channel
        # the ImageNet classifier of the supernet: unused, kept for strict loading
        self.conv_last = nn.Sequential(
            nn.Conv2d(input_channel, channels[-1], 1, 1, 0, bias=False),
            _bn(channels[-1]),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Sequential(nn.Linear(channels[-1], 1000, bias=False))
        ends = np.cumsum(config.stage_repeats).tolist()
        #: after which blocks (1-based) the ModaMixer branch starts / is added back
        self.mix_after = [end - 1 for end in ends]
        self.add_after = ends
        self.nlp_layers = nn.ModuleList(copy.deepcopy(self.features[end - 1]) for end in ends)
        widths = channels[2:6]
        self.vistoken_layers = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(c, c, kernel_size=3, stride=1), nn.BatchNorm2d(c), nn.LeakyReLU(0.1)
            )
            for c in widths
        )
        self.bert_model = text_encoder
        self.token_map = nn.ModuleList(
            nn.Sequential(nn.Conv2d(text_dim, c, kernel_size=1, bias=False), nn.BatchNorm2d(c))
            for c in widths
        )
        self.text_dim = text_dim

    def text_tokens(self, input_ids: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        """Per-stage modulation vectors ``(B, C_i, 1, 1)`` from the description."""
        embeds = self.bert_model(input_ids, attention_mask=mask)[0]
        embeds = torch.mean(embeds, dim=1).reshape([-1, self.text_dim, 1, 1])
        return [layer(embeds) for layer in self.token_map]

    def forward(
        self,
        x: torch.Tensor,
        path: list[int],
        mixer_path: list[int],
        tokens: list[torch.Tensor] | None,
        box: np.ndarray | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """The last stage's features. Without ``tokens``, visual tokens are pooled under ``box``
        (template) and returned, so the search region can be modulated by them."""
        x = self.first_conv(x)
        pooled: list[torch.Tensor] | None = [] if tokens is None else None
        mixed: list[torch.Tensor] = []
        for count, (candidates, choice) in enumerate(zip(self.features, path, strict=True), 1):
            x = candidates[choice](x)
            if count in self.add_after:
                x = x + mixed[-1]
            if count in self.mix_after:
                index = self.mix_after.index(count)
                if tokens is None:
                    pool = roi_align(x, box, self.roi_size, 1.0 / self.roi_stride)
                    token = self.vistoken_layers[index](pool)
                    pooled.append(token)
                else:
                    token = tokens[index]
                mixed.append(self.nlp_layers[index][mixer_path[index]](xcorr_depthwise(x, token)))
        return x, pooled


class BackboneBody(nn.Module):
    """``backbone.0``: holds the supernet as ``body`` (the authors' Backbone_SPOS_VLT)."""

    def __init__(self, body: SPOSVLT) -> None:
        super().__init__()
        self.body = body


class PositionEmbeddingSine(nn.Module):
    """DETR's normalised sine encoding of a full (unmasked) feature map, ``(B, 2F, H, W)``."""

    def __init__(self, num_pos_feats: int, temperature: float = 10000.0) -> None:
        super().__init__()
        self.num_pos_feats = num_pos_feats
        self.temperature = temperature
        self.scale = 2 * math.pi

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        not_mask = torch.ones((batch, height, width), dtype=torch.bool)
        y_embed = not_mask.cumsum(1, dtype=torch.float32)
        x_embed = not_mask.cumsum(2, dtype=torch.float32)
        eps = 1e-6
        y_embed = y_embed / (y_embed[:, -1:, :] + eps) * self.scale
        x_embed = x_embed / (x_embed[:, :, -1:] + eps) * self.scale
        dim_t = torch.arange(self.num_pos_feats, dtype=torch.float32)
        dim_t = self.temperature ** (2 * (dim_t // 2) / self.num_pos_feats)
        pos_x = x_embed[:, :, :, None] / dim_t
        pos_y = y_embed[:, :, :, None] / dim_t
        pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4)
        pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4)
        pos = torch.cat((pos_y.flatten(3), pos_x.flatten(3)), dim=3).permute(0, 3, 1, 2)
        return pos.to(x.device)


# --- fusion ------------------------------------------------------------------------------------


class HeadSplitAttention(nn.Module):
    """Multi-head attention without q/k/v projections; ``attn.fc`` is the only weight."""

    def __init__(self, d_model: int, n_head: int) -> None:
        super().__init__()
        self.attn = _Attention(d_model, n_head)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        return self.attn(query, key, value)


class _Attention(nn.Module):
    def __init__(self, d_model: int, n_head: int) -> None:
        super().__init__()
        self.n_head, self.d_head = n_head, d_model // n_head
        self.scale = self.d_head**-0.5
        self.fc = nn.Linear(d_model, d_model, bias=False)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        batch, len_q, len_k, len_v = q.size(0), q.size(1), k.size(1), v.size(1)
        q = q.view(batch, len_q, self.n_head, self.d_head).transpose(1, 2)
        k = k.view(batch, len_k, self.n_head, self.d_head).transpose(1, 2)
        v = v.view(batch, len_v, self.n_head, self.d_head).transpose(1, 2)
        attn = F.softmax((q @ k.transpose(-2, -1)) * self.scale, dim=-1)
        return self.fc((attn @ v).transpose(1, 2).reshape(batch, len_q, -1))


class FusionLayer(nn.Module):
    """Self-attention on each branch, then cross-attention both ways, post-norm FFNs."""

    def __init__(self, d_model: int, n_head: int, dim_feedforward: int) -> None:
        super().__init__()
        for name in ("self_attn1", "self_attn2", "multihead_attn1", "multihead_attn2"):
            self.add_module(name, HeadSplitAttention(d_model, n_head))
        self.linear11 = nn.Linear(d_model, dim_feedforward)
        self.linear12 = nn.Linear(dim_feedforward, d_model)
        self.linear21 = nn.Linear(d_model, dim_feedforward)
        self.linear22 = nn.Linear(dim_feedforward, d_model)
        for name in ("norm11", "norm12", "norm13", "norm21", "norm22", "norm23"):
            self.add_module(name, nn.LayerNorm(d_model))

    def forward(self, src1, src2, pos1, pos2):  # noqa: ANN001, ANN201
        q1 = k1 = src1 + pos1
        src1 = self.norm11(src1 + self.self_attn1(q1, k1, src1))
        q2 = k2 = src2 + pos2
        src2 = self.norm21(src2 + self.self_attn2(q2, k2, src2))
        src12 = self.multihead_attn1(src1 + pos1, src2 + pos2, src2)
        src22 = self.multihead_attn2(src2 + pos2, src1 + pos1, src1)
        src1 = self.norm12(src1 + src12)
        src1 = self.norm13(src1 + self.linear12(F.relu(self.linear11(src1), inplace=True)))
        src2 = self.norm22(src2 + src22)
        src2 = self.norm23(src2 + self.linear22(F.relu(self.linear21(src2), inplace=True)))
        return src1, src2


class DecoderLayer(nn.Module):
    def __init__(self, d_model: int, n_head: int, dim_feedforward: int) -> None:
        super().__init__()
        self.multihead_attn = HeadSplitAttention(d_model, n_head)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, tgt, memory, pos_enc, pos_dec):  # noqa: ANN001, ANN201
        tgt = self.norm1(tgt + self.multihead_attn(tgt + pos_dec, memory + pos_enc, memory))
        return self.norm2(tgt + self.linear2(F.relu(self.linear1(tgt), inplace=True)))


class _Layers(nn.Module):
    def __init__(self, layers: list[nn.Module], norm: nn.Module | None = None) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        if norm is not None:
            self.norm = norm


class FeatureFusionNetwork(nn.Module):
    """``neck.*``: input projections, encoder, decoder (search tokens query the template)."""

    def __init__(self, config: VLTTTConfig) -> None:
        super().__init__()
        d, h, ff = config.hidden_dim, config.nhead, config.dim_feedforward
        self.encoder = _Layers([FusionLayer(d, h, ff) for _ in range(config.fusion_layers)])
        self.decoder = _Layers([DecoderLayer(d, h, ff)], nn.LayerNorm(d))
        self.input_proj = nn.Conv2d(config.backbone_channel, d, kernel_size=1)
        self.asymmetrical = config.asymmetrical
        if config.asymmetrical:
            self.input_proj_copy = nn.Conv2d(config.backbone_channel, d, kernel_size=1)

    def forward(self, src_z, src_x, pos_z, pos_x):  # noqa: ANN001, ANN201
        src_z = self.input_proj(src_z)
        src_x = (self.input_proj_copy if self.asymmetrical else self.input_proj)(src_x)
        src_z = src_z.flatten(2).transpose(1, 2)
        pos_z = pos_z.flatten(2).transpose(1, 2)
        src_x = src_x.flatten(2).transpose(1, 2)
        pos_x = pos_x.flatten(2).transpose(1, 2)
        for layer in self.encoder.layers:
            src_z, src_x = layer(src_z, src_x, pos_z, pos_x)
        out = src_x
        for layer in self.decoder.layers:
            out = layer(out, src_z, pos_z, pos_x)
        return self.decoder.norm(out).unsqueeze(0)


# --- head and whole network --------------------------------------------------------------------


class MLP(nn.Module):
    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int, num_layers: int) -> None:
        super().__init__()
        dims = [hidden_dim] * (num_layers - 1)
        self.layers = nn.ModuleList(
            nn.Linear(n, k) for n, k in zip([input_dim, *dims], [*dims, output_dim], strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = F.relu(layer(x)) if i < last else layer(x)
        return x


class TransInMoHead(nn.Module):
    def __init__(self, config: VLTTTConfig) -> None:
        super().__init__()
        d, mid, layers = config.hidden_dim, config.head_mid_channels, config.head_layers
        self.class_embed = MLP(d, mid, 2, layers)
        self.bbox_embed = MLP(d, mid, 4, layers)

    def forward(self, fused: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.class_embed(fused)[-1], self.bbox_embed(fused).sigmoid()[-1]


class VLTTTNet(nn.Module):
    """The whole tracker network; ``state_dict()`` keys equal the authors' checkpoints'."""

    #: non-learned index buffers some transformers versions save; accepted and ignored
    OPTIONAL_BUFFERS = (
        "backbone.0.body.bert_model.embeddings.position_ids",
        "backbone.0.body.bert_model.embeddings.token_type_ids",
    )

    def __init__(self, config: VLTTTConfig, text_encoder: nn.Module, text_dim: int) -> None:
        super().__init__()
        self.config = config
        body = SPOSVLT(config, text_encoder, text_dim)
        self.backbone = nn.ModuleList(
            [BackboneBody(body), PositionEmbeddingSine(config.hidden_dim // 2)]
        )
        self.neck = FeatureFusionNetwork(config)
        self.head = TransInMoHead(config)

    @property
    def body(self) -> SPOSVLT:
        return self.backbone[0].body

    def positions(self, features: torch.Tensor) -> torch.Tensor:
        return self.backbone[1](features)

    def predict(self, src_z, pos_z, src_x, pos_x):  # noqa: ANN001, ANN201
        """Class logits ``(B, HW, 2)`` and boxes ``(B, HW, 4)`` for each search token."""
        return self.head(self.neck(src_z, src_x, pos_z, pos_x))
