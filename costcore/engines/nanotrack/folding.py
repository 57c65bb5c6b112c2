"""Folding NanoTrack's layers for inference: BatchNorm into convolutions, 1 x 1 convolutions as
matrix products over channels-last pixels, activations in place.

Each helper returns new modules with the same numbers as the authors' layers (BatchNorm folded
in float64, then cast); the loaded network stays untouched.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from costcore.engines.nanotrack.network import (
    ChannelAttention,
    InvertedResidual,
    SqueezeExcite,
)


class Pointwise(nn.Module):
    """A 1 x 1 convolution as one matrix product over channels-last pixels.

    PyTorch runs batch-1 1 x 1 convolutions through im2col and a strided bias copy; on a
    channels-last input the same numbers are a plain ``linear`` over the (H*W, C) pixels.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        self.weight = nn.Parameter(weight.detach().clone(), requires_grad=False)
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone(), False)

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> Pointwise:
        return cls(conv.weight[:, :, 0, 0], conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pointwise(x, self.weight, self.bias)


def pointwise(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """1 x 1 convolution of (B, C, H, W) ``x`` with (out, C) ``weight``, as ``linear``."""
    return F.linear(x.permute(0, 2, 3, 1), weight, bias).permute(0, 3, 1, 2)


class ChannelGate(nn.Module):
    """Channel attention on the pooled vector: its 1 x 1 convolutions as linear layers."""

    def __init__(self, attention: ChannelAttention) -> None:
        super().__init__()
        self.fc1 = Pointwise.from_conv(attention.fc1)
        self.fc2 = Pointwise.from_conv(attention.fc2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        hidden = torch.relu(F.linear(pooled, self.fc1.weight, self.fc1.bias))
        gates = torch.sigmoid(F.linear(hidden, self.fc2.weight, self.fc2.bias))
        return x * gates[:, :, None, None]


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    groups: int,
) -> torch.Tensor:
    """``F.conv2d`` (dilation 1); on the CPU called straight into oneDNN's convolution, which
    is the kernel ``F.conv2d`` picks there anyway: skipping torch's choice of backend saves
    ~7 us a call, and a frame makes ~20 calls. Same kernel, same numbers."""
    if (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and torch.backends.mkldnn.is_available()
        and x.is_contiguous(memory_format=torch.channels_last)
    ):
        return torch.mkldnn_convolution(x, weight, bias, padding, stride, [1, 1], groups)
    return F.conv2d(x, weight, bias, stride, padding, 1, groups)


class Conv2d(nn.Conv2d):
    """A convolution that runs through :func:`conv2d` (dilation 1, numeric padding)."""

    @classmethod
    def from_conv(cls, conv: nn.Conv2d) -> Conv2d:
        if conv.dilation != (1, 1) or not isinstance(conv.padding, tuple):
            raise ValueError("only convolutions without dilation and with numeric padding")
        fast = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            groups=conv.groups,
            bias=conv.bias is not None,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
        )
        fast.load_state_dict(conv.state_dict())
        return fast.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.groups)


class Excite(nn.Module):
    """MobileNetV3's squeeze-excite on a fresh convolution output: the gates scale it in
    place (no new map per block)."""

    def __init__(self, module: SqueezeExcite) -> None:
        super().__init__()
        first, _, second, _ = module.fc
        self.fc1 = nn.Parameter(first.weight.detach().clone(), requires_grad=False)
        self.fc1_bias = nn.Parameter(first.bias.detach().clone(), requires_grad=False)
        self.fc2 = nn.Parameter(second.weight.detach().clone(), requires_grad=False)
        self.fc2_bias = nn.Parameter(second.bias.detach().clone(), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu_(F.linear(x.mean(dim=(2, 3)), self.fc1, self.fc1_bias))
        gates = F.hardsigmoid(F.linear(hidden, self.fc2, self.fc2_bias), inplace=True)
        return x.mul_(gates[:, :, None, None])


class Residual(nn.Module):
    """A folded inverted-residual block; the shortcut is added in place to its fresh output."""

    def __init__(self, body: nn.Sequential, shortcut: bool) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return out.add_(x) if self.shortcut else out


def is_pointwise(module: nn.Module) -> bool:
    return (
        isinstance(module, nn.Conv2d)
        and module.kernel_size == (1, 1)
        and module.stride == (1, 1)
        and module.padding == (0, 0)
        and module.groups == 1
    )


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One convolution computing ``bn(conv(x))`` in evaluation mode."""
    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    bias = conv.bias.double() if conv.bias is not None else torch.zeros_like(scale)
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        bias=True,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    with torch.no_grad():
        fused.weight.copy_(conv.weight.double() * scale[:, None, None, None])
        fused.bias.copy_((bias - bn.running_mean.double()) * scale + bn.bias.double())
    return fused


def _fast_module(module: nn.Module) -> nn.Module:
    """1 x 1 convolutions as :class:`Pointwise`, other convolutions as :class:`Conv2d`;
    activations in place (their inputs are always fresh convolution outputs here, so no
    temporary is needed)."""
    if is_pointwise(module):
        return Pointwise.from_conv(module)
    if type(module) is nn.Conv2d:
        return Conv2d.from_conv(module)
    if isinstance(module, SqueezeExcite):
        return Excite(module)
    for kind in (nn.ReLU, nn.ReLU6, nn.Hardswish):
        if type(module) is kind:
            return kind(inplace=True)
    return module


def fold_sequential(sequence: nn.Sequential) -> nn.Sequential:
    """A copy of ``sequence`` with Conv2d + BatchNorm2d pairs fused, identities dropped,
    1 x 1 convolutions as :class:`Pointwise`, the others as :class:`Conv2d`, activations in
    place."""
    modules = list(copy.deepcopy(sequence))
    folded: list[nn.Module] = []
    index = 0
    while index < len(modules):
        module = modules[index]
        following = modules[index + 1] if index + 1 < len(modules) else None
        if isinstance(module, nn.Conv2d) and isinstance(following, nn.BatchNorm2d):
            folded.append(fold_conv_bn(module, following))
            index += 2
            continue
        if isinstance(module, nn.BatchNorm2d):
            raise ValueError("a BatchNorm without a convolution before it cannot be folded")
        if isinstance(module, InvertedResidual):
            module = Residual(fold_sequential(module.conv), module.residual)
        elif isinstance(module, nn.Sequential):
            module = fold_sequential(module)
        if not isinstance(module, nn.Identity):
            folded.append(module)
        index += 1
    return nn.Sequential(*[_fast_module(module) for module in folded])


def linear_map(embedding: nn.Sequential) -> tuple[torch.Tensor, torch.Tensor]:
    """(W (out, in), b) of a 1 x 1 convolution + BatchNorm embedding."""
    (layer,) = fold_sequential(embedding)
    return layer.weight, layer.bias
