"""NanoTrack's network (Chu et al., github.com/HonglinChu/SiamTrackers, NanoTrack/, Apache-2.0).

A Siamese tracker: one backbone embeds the 127 px template and the 255 px search region, and a
box-adaptive head (BAN, anchor-free) correlates them into a foreground score and the distances
(left, top, right, bottom) from each cell to the box edges.

- **Backbone**: MobileNetV3-small cut after its stride-16 stage (8 inverted-residual blocks,
  48 channels); V3 adds one more block to 96 channels. 127 px -> 8 x 8, 255 px -> 16 x 16.
- **Neck**: an ``AdjustLayer`` (1 x 1 convolution + BatchNorm) that the checkpoints carry but
  the authors' tracker never runs (its input and output widths are equal); kept only so the
  checkpoints load strictly. Its width is how the versions are told apart (V1/V2 64, V3 96).
- **Head** (``DepthwiseBAN``):
  V1: pixel-wise correlation (each of the 64 template cells is one output channel), channel
  attention, then separable-convolution towers for the score (to 128 channels) and the box.
  V2: the same with a 1 x 1 convolution + BatchNorm on both inputs, one correlation per task
  and six-layer 96-channel towers.
  V3: per task, the pixel-wise correlation (then a 2 x 2 depth-wise convolution) beside a
  depth-wise cross-correlation of the search features with the template's central 4 x 4;
  both concatenated and reduced to 96 channels, then six-layer towers. 15 x 15 output.

Module and parameter names are the authors', so their ``.pth`` files load key for key; the
forward passes follow their arithmetic. The tracker runs a faster, numerically equivalent
form of the same network (:mod:`costcore.engines.nanotrack.inference`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

#: template cells of the 8 x 8 template map: the channels of a pixel-wise correlation
CORRELATION_CHANNELS = 64
#: V3 correlates with the template's centre: rows and columns 2..5 of the 8 x 8 map
TEMPLATE_CENTRE = slice(2, 6)


def make_divisible(value: float, divisor: int = 8) -> int:
    """MobileNet's channel rounding: nearest multiple of ``divisor``, never 10 % below."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


@dataclass(frozen=True)
class BlockSpec:
    """One inverted-residual block: kernel, expansion, output width, SE, hard-swish, stride."""

    kernel: int
    expansion: float
    out_channels: int
    squeeze_excite: bool
    hard_swish: bool
    stride: int


#: MobileNetV3-small as the authors cut it (their ``mobilenetv3_small``): stride 16, 48 wide
MOBILENET_V3_SMALL_CUT = (
    BlockSpec(3, 1, 16, True, False, 2),
    BlockSpec(3, 4.5, 24, False, False, 2),
    BlockSpec(3, 3.67, 24, False, False, 1),
    BlockSpec(5, 4, 40, True, True, 2),
    BlockSpec(5, 6, 40, True, True, 1),
    BlockSpec(5, 6, 40, True, True, 1),
    BlockSpec(5, 3, 48, True, True, 1),
    BlockSpec(5, 3, 48, True, True, 1),
)
#: V3's backbone (``mobilenetv3_small_v3``): one more block, to 96 channels, stride 1
MOBILENET_V3_SMALL_V3 = (*MOBILENET_V3_SMALL_CUT, BlockSpec(5, 6, 96, True, True, 1))


def _activation(hard_swish: bool) -> nn.Module:
    return nn.Hardswish() if hard_swish else nn.ReLU()


class SqueezeExcite(nn.Module):
    """Channel gates from the global average: Linear, ReLU, Linear, hard sigmoid."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = make_divisible(channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Hardsigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates = self.fc(x.mean(dim=(2, 3)))
        return x * gates[:, :, None, None]


class InvertedResidual(nn.Module):
    """Expand (1 x 1), depth-wise k x k, squeeze-excite, project (1 x 1); residual if shapes allow.

    Without expansion the block starts at the depth-wise convolution and applies SE after
    its activation; with expansion SE comes before it (the authors' two layouts, kept so
    ``conv.<index>`` names match).
    """

    def __init__(self, in_channels: int, spec: BlockSpec) -> None:
        super().__init__()
        hidden = make_divisible(in_channels * spec.expansion)
        out = make_divisible(spec.out_channels)
        self.residual = spec.stride == 1 and in_channels == out
        depthwise = nn.Conv2d(
            hidden, hidden, spec.kernel, spec.stride, spec.kernel // 2, groups=hidden, bias=False
        )
        excite: nn.Module = SqueezeExcite(hidden) if spec.squeeze_excite else nn.Identity()
        project = [nn.Conv2d(hidden, out, 1, bias=False), nn.BatchNorm2d(out)]
        if in_channels == hidden:
            layers = [depthwise, nn.BatchNorm2d(hidden), _activation(spec.hard_swish), excite]
        else:
            layers = [
                nn.Conv2d(in_channels, hidden, 1, bias=False),
                nn.BatchNorm2d(hidden),
                _activation(spec.hard_swish),
                depthwise,
                nn.BatchNorm2d(hidden),
                excite,
                _activation(spec.hard_swish),
            ]
        self.conv = nn.Sequential(*layers, *project)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV3Backbone(nn.Module):
    """Stem (3 x 3, stride 2, hard-swish) and the inverted-residual blocks, as ``features``."""

    def __init__(self, blocks: tuple[BlockSpec, ...]) -> None:
        super().__init__()
        width = make_divisible(16)
        layers: list[nn.Module] = [
            nn.Sequential(
                nn.Conv2d(3, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.Hardswish()
            )
        ]
        for spec in blocks:
            layers.append(InvertedResidual(width, spec))
            width = make_divisible(spec.out_channels)
        self.features = nn.Sequential(*layers)
        self.out_channels = width

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.features(image)


class AdjustLayer(nn.Module):
    """The checkpoints' neck: loaded, never run (the authors' tracker skips it)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.downsample = nn.Sequential(
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
        )


# --- head building blocks -------------------------------------------------------------------


def pixelwise_correlation(search: torch.Tensor, template: torch.Tensor) -> torch.Tensor:
    """One output channel per template cell: the dot product of its feature with every
    search cell's. (B, C, 8, 8) x (B, C, H, W) -> (B, 64, H, W)."""
    batch, channels, height, width = search.shape
    kernels = template.reshape(batch, channels, -1).transpose(1, 2)
    return torch.matmul(kernels, search.reshape(batch, channels, -1)).reshape(
        batch, -1, height, width
    )


def depthwise_correlation(
    search: torch.Tensor, template: torch.Tensor, padding: int
) -> torch.Tensor:
    """Each channel of ``search`` correlated with the same channel of ``template``."""
    batch, channels = template.shape[:2]
    kernels = template.reshape(batch * channels, 1, *template.shape[2:])
    flat = search.reshape(1, batch * channels, *search.shape[2:])
    out = nn.functional.conv2d(flat, kernels, padding=padding, groups=batch * channels)
    return out.reshape(batch, channels, *out.shape[2:])


class ChannelAttention(nn.Module):
    """Gates per channel from the global average: 1 x 1 conv, ReLU, 1 x 1 conv, sigmoid."""

    def __init__(self, channels: int = CORRELATION_CHANNELS) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(channels, channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates = self.sigmoid(self.fc2(self.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))
        return x * gates


def pointwise_bn(in_channels: int, out_channels: int) -> nn.Sequential:
    """1 x 1 convolution with bias, then BatchNorm (the heads' input embeddings)."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels))


def separable_tower(
    layers: list[tuple[int, int, int]], activation_last: bool = True
) -> nn.Sequential:
    """V1/V2 towers: per layer a depth-wise k x k, a 1 x 1 to the new width, BN, ReLU6.

    ``layers`` holds (in_channels, out_channels, kernel) per layer.
    """
    modules: list[nn.Module] = []
    for in_channels, out_channels, kernel in layers:
        modules += [
            nn.Conv2d(in_channels, in_channels, kernel, 1, kernel // 2, groups=in_channels,
                      bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU6(),
        ]  # fmt: skip
    return nn.Sequential(*modules)


def linear_bottleneck_tower(channels: int, depth: int) -> nn.Sequential:
    """V3 towers: per layer depth-wise 3 x 3, BN, ReLU6, then a linear 1 x 1 and BN."""
    modules: list[nn.Module] = []
    for _ in range(depth):
        modules += [
            nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU6(),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        ]
    return nn.Sequential(*modules)


def prediction_conv(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1))


# --- heads -------------------------------------------------------------------------------------


class PixelwiseCorrelationV1(nn.Module):
    """V1: correlate the raw features, then channel attention."""

    def __init__(self) -> None:
        super().__init__()
        self.CA_layer = ChannelAttention()

    def forward(self, template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        return self.CA_layer(pixelwise_correlation(search, template))


class PixelwiseCorrelation(nn.Module):
    """V2/V3: embed both inputs (1 x 1 + BN), correlate, channel attention (V3: then a
    2 x 2 depth-wise + BN + ReLU6 + 1 x 1 + BN block, which trims the map by one cell)."""

    def __init__(self, channels: int, trim: bool) -> None:
        super().__init__()
        self.CA_layer = ChannelAttention()
        self.conv_kernel = pointwise_bn(channels, channels)
        self.conv_search = pointwise_bn(channels, channels)
        if trim:
            c = CORRELATION_CHANNELS
            self.conv = nn.Sequential(
                nn.Conv2d(c, c, 2, groups=c, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU6(),
                nn.Conv2d(c, c, 1),
                nn.BatchNorm2d(c),
            )
        else:
            self.conv = None

    def forward(self, template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        correlation = pixelwise_correlation(self.conv_search(search), self.conv_kernel(template))
        out = self.CA_layer(correlation)
        return out if self.conv is None else self.conv(out)


class DepthwiseCorrelation(nn.Module):
    """V3: embed both inputs (1 x 1 + BN), then depth-wise cross-correlation (padding 1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_kernel = pointwise_bn(channels, channels)
        self.conv_search = pointwise_bn(channels, channels)

    def forward(self, template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        return depthwise_correlation(
            self.conv_search(search), self.conv_kernel(template), padding=1
        )


class HeadV1(nn.Module):
    """NanoTrack V1's DepthwiseBAN (one correlation shared by both towers)."""

    def __init__(self) -> None:
        super().__init__()
        c = CORRELATION_CHANNELS
        self.corr_pw = PixelwiseCorrelationV1()
        self.cls_tower = separable_tower([(c, 128, 5), (128, 128, 5), (128, 128, 3)])
        self.bbox_tower = separable_tower([(c, 96, 3), (96, 96, 3), (96, 96, 5), (96, 96, 5)])
        self.cls_logits = prediction_conv(128, 2)
        self.bbox_pred = prediction_conv(96, 4)

    def forward(self, template: torch.Tensor, search: torch.Tensor):
        correlation = self.corr_pw(template, search)
        logits = self.cls_logits(self.cls_tower(correlation))
        return logits, torch.exp(self.bbox_pred(self.bbox_tower(correlation)))


class HeadV2(nn.Module):
    """NanoTrack V2's DepthwiseBAN (a pixel-wise correlation per task, six-layer towers)."""

    def __init__(self, feature_channels: int) -> None:
        super().__init__()
        c = CORRELATION_CHANNELS
        self.corr_pw_reg = PixelwiseCorrelation(feature_channels, trim=False)
        self.corr_pw_cls = PixelwiseCorrelation(feature_channels, trim=False)
        widths = [(c, 96, 3)] + [(96, 96, 3)] * 5
        self.cls_pw_tower = separable_tower(widths)
        self.bbox_pw_tower = separable_tower(widths)
        self.cls_pred = prediction_conv(96, 2)
        self.bbox_pred = prediction_conv(96, 4)

    def forward(self, template: torch.Tensor, search: torch.Tensor):
        regression = self.corr_pw_reg(template, search)
        classification = self.corr_pw_cls(template, search)
        logits = self.cls_pred(self.cls_pw_tower(classification))
        return logits, torch.exp(self.bbox_pred(self.bbox_pw_tower(regression)))


class HeadV3(nn.Module):
    """NanoTrack V3's DepthwiseBAN (pixel-wise and depth-wise correlation per task)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.corr_dw_reg = DepthwiseCorrelation(channels)
        self.corr_pw_reg = PixelwiseCorrelation(channels, trim=True)
        self.corr_dw_cls = DepthwiseCorrelation(channels)
        self.corr_pw_cls = PixelwiseCorrelation(channels, trim=True)
        self.cls_tower = linear_bottleneck_tower(channels, 6)
        self.bbox_tower = linear_bottleneck_tower(channels, 6)
        self.cls_logits = prediction_conv(channels, 2)
        self.bbox_pred = prediction_conv(channels, 4)
        self.down_reg = prediction_conv(channels + CORRELATION_CHANNELS, channels)
        self.down_cls = prediction_conv(channels + CORRELATION_CHANNELS, channels)

    def forward(self, template: torch.Tensor, search: torch.Tensor):
        centre = template[:, :, TEMPLATE_CENTRE, TEMPLATE_CENTRE]
        regression = self.down_reg(
            torch.cat((self.corr_pw_reg(template, search), self.corr_dw_reg(centre, search)), dim=1)
        )
        classification = self.down_cls(
            torch.cat((self.corr_pw_cls(template, search), self.corr_dw_cls(centre, search)), dim=1)
        )
        logits = self.cls_logits(self.cls_tower(classification))
        return logits, torch.exp(self.bbox_pred(self.bbox_tower(regression)))


class NanoTrackNet(nn.Module):
    """Backbone, (unused) neck and head of NanoTrack ``version`` (1, 2 or 3).

    ``forward(template, search)`` takes BGR images with values 0..255 (no normalisation, as
    the authors trained), (B, 3, 127, 127) and (B, 3, 255, 255), and returns the raw class
    logits (B, 2, S, S) (channel 1 = target) and the edge distances (B, 4, S, S) in search
    pixels (left, top, right, bottom).
    """

    #: BatchNorm counters: saved by the authors' torch, never used in evaluation
    OPTIONAL_BUFFERS: tuple[str, ...] = ()

    def __init__(self, version: int) -> None:
        super().__init__()
        if version not in (1, 2, 3):
            raise ValueError(f"NanoTrack versions are 1, 2 and 3, got {version!r}")
        self.version = version
        blocks = MOBILENET_V3_SMALL_V3 if version == 3 else MOBILENET_V3_SMALL_CUT
        self.backbone = MobileNetV3Backbone(blocks)
        features = self.backbone.out_channels
        self.neck = AdjustLayer(96 if version == 3 else 64)
        if version == 1:
            self.ban_head: nn.Module = HeadV1()
        elif version == 2:
            self.ban_head = HeadV2(features)
        else:
            self.ban_head = HeadV3(features)

    def forward(self, template: torch.Tensor, search: torch.Tensor):
        return self.ban_head(self.backbone(template), self.backbone(search))
