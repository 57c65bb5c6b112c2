"""Visual backbone: TransT's ResNet-50 cut after layer3, at stride 8.

TransT keeps layer3 at stride 1 and dilates **only its first block** by 2 (its ``_make_layer``
passes the dilation to the first block alone); torchvision's ``replace_stride_with_dilation``
dilates the later blocks instead, so its weights would not compute the same features. Module
names follow TransT exactly (``backbone.0.body.layer3.0.conv2`` ...) so its checkpoints load
strictly. ``backbone.1`` is the parameter-free sine position encoding, as in TransT's Joiner.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from costcore.model.position_encoding import PositionEmbeddingSine


class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck (stride on the 3x3 conv), expansion 4."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes,
            planes,
            kernel_size=3,
            stride=stride,
            padding=dilation,
            dilation=dilation,
            bias=False,
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _make_layer(
    inplanes: int, planes: int, blocks: int, stride: int = 1, dilation: int = 1
) -> nn.Sequential:
    """A ResNet stage; like TransT, only the first block gets ``stride`` and ``dilation``."""
    downsample = None
    if stride != 1 or inplanes != planes * Bottleneck.expansion:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes * Bottleneck.expansion, 1, stride=stride, bias=False),
            nn.BatchNorm2d(planes * Bottleneck.expansion),
        )
    layers = [Bottleneck(inplanes, planes, stride, dilation, downsample)]
    layers += [Bottleneck(planes * Bottleneck.expansion, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class ResNetBody(nn.Module):
    """conv1 -> maxpool -> layer1 -> layer2 (stride 2) -> layer3 (stride 1, dilated first block)."""

    def __init__(self, layers: list[int], width: int = 64, layer3_dilation: int = 2) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        expansion = Bottleneck.expansion
        self.layer1 = _make_layer(width, width, layers[0])
        self.layer2 = _make_layer(width * expansion, width * 2, layers[1], stride=2)
        self.layer3 = _make_layer(
            width * 2 * expansion, width * 4, layers[2], stride=1, dilation=layer3_dilation
        )
        self.out_channels = width * 4 * expansion
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        # TransT's (He) initialisation, so random models behave like an untrained TransT
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
                nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer3(self.layer2(self.layer1(x)))


class ResNetBackbone(nn.Module):
    """Holds the ResNet as ``body`` (TransT's BackboneBase naming)."""

    def __init__(self, body: ResNetBody) -> None:
        super().__init__()
        self.body = body
        self.num_channels = body.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Joiner(nn.Sequential):
    """``[0]`` the backbone, ``[1]`` the position encoding: features and their positions."""

    def __init__(self, backbone: ResNetBackbone, position: PositionEmbeddingSine) -> None:
        super().__init__(backbone, position)
        self.num_channels = backbone.num_channels

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self[0](images)
        return features, self[1](features).to(features.dtype)


def build_backbone(layers: list[int], width: int, layer3_dilation: int, hidden_dim: int) -> Joiner:
    body = ResNetBody(layers, width, layer3_dilation)
    return Joiner(ResNetBackbone(body), PositionEmbeddingSine(hidden_dim // 2, normalize=True))
