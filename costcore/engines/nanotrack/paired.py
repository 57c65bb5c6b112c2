"""The head's two tasks (classification, regression) run side by side: half the operations.

NanoTrack V2/V3 give each task its own branch of identical shape: channel attention, (V3) a
trim block and a reduction, then a six-layer tower of depth-wise and point-wise convolutions.
On a 16 x 16 map every one of these operations is small; a CPU spends more time calling
oneDNN's depth-wise convolution (~30 us per call on this machine, whatever its size) than
computing it (~5 us). So both branches are kept in one tensor, their channels side by side per
pixel ``[classification | regression]`` (channels-last), and each layer runs once for both:

- a depth-wise convolution over both halves is one grouped convolution (its groups never mix
  the halves);
- the point-wise convolutions, each with its own weights, are one batched matrix product over
  the two halves (``baddbmm`` reads them as two strided matrices and writes the result back
  side by side, no copy);
- channel attention computes both tasks' gates with one block-diagonal product;
- activations run once over both.

The arithmetic per output value is the same as branch by branch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from costcore.engines.nanotrack.folding import ChannelGate, Pointwise, conv2d


def sizes(x: torch.Tensor) -> tuple[int, int, int]:
    """(channels, height, width) as plain integers: a trace keeps them as constants instead of
    recording shape arithmetic to replay on every frame (the engine traces one crop size)."""
    return int(x.shape[1]), int(x.shape[2]), int(x.shape[3])


def paired_pointwise(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Both halves of ``x`` (1, 2C, H, W), channels-last, through their own 1 x 1 convolution:
    ``weight`` (2, C, out) (transposed), ``bias`` (2, 1, out) -> (1, 2 out, H, W)."""
    channels, height, width = sizes(x)
    pixels = height * width
    halves = x.permute(0, 2, 3, 1).reshape(pixels, 2, channels // 2).transpose(0, 1)
    out = torch.empty((pixels, 2, int(weight.shape[2])), dtype=x.dtype, device=x.device)
    torch.baddbmm(bias, halves, weight, out=out.transpose(0, 1))
    return out.view(1, height, width, -1).permute(0, 3, 1, 2)


def paired_concat(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Each half of ``first`` followed by the same half of ``second``: ``[a_cls b_cls | a_reg
    b_reg]``, as each task's own ``torch.cat((a, b), 1)`` (channels-last, same H and W)."""
    _, height, width = sizes(first)
    pixels = height * width
    a = first.permute(0, 2, 3, 1).reshape(pixels, 2, -1)
    b = second.permute(0, 2, 3, 1).reshape(pixels, 2, -1)
    return torch.cat((a, b), 2).view(1, height, width, -1).permute(0, 3, 1, 2)


class PairedGate(nn.Module):
    """Two tasks' channel attention at once: block-diagonal products on the pooled vector."""

    def __init__(self, first: ChannelGate, second: ChannelGate) -> None:
        super().__init__()
        self.fc1_weight = nn.Parameter(torch.block_diag(first.fc1.weight, second.fc1.weight), False)
        self.fc1_bias = nn.Parameter(torch.cat((first.fc1.bias, second.fc1.bias)), False)
        self.fc2_weight = nn.Parameter(torch.block_diag(first.fc2.weight, second.fc2.weight), False)
        self.fc2_bias = nn.Parameter(torch.cat((first.fc2.bias, second.fc2.bias)), False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3))
        hidden = torch.relu(F.linear(pooled, self.fc1_weight, self.fc1_bias))
        gates = torch.sigmoid(F.linear(hidden, self.fc2_weight, self.fc2_bias))
        return x * gates[:, :, None, None]


class PairedStack(nn.Module):
    """Two folded sequences of the same layout (depth-wise convolutions, 1 x 1 convolutions as
    :class:`Pointwise`, ReLU6) run side by side on ``[first | second]`` channels."""

    def __init__(self, first: nn.Sequential, second: nn.Sequential) -> None:
        super().__init__()
        if len(first) != len(second):
            raise ValueError("paired sequences need the same layers")
        self.kinds: list[str] = []
        self.paddings: list[int] = []
        tensors: list[torch.Tensor] = []
        for a, b in zip(first, second, strict=True):
            if type(a) is not type(b):
                raise ValueError(f"cannot pair {type(a).__name__} with {type(b).__name__}")
            if isinstance(a, nn.Conv2d):
                if a.groups != a.in_channels or a.kernel_size != b.kernel_size:
                    raise ValueError("only depth-wise convolutions of one size pair up")
                if a.stride != (1, 1) or a.padding[0] != a.padding[1] or a.padding != b.padding:
                    raise ValueError("paired depth-wise convolutions take stride 1, square padding")
                if (a.bias is None) != (b.bias is None):
                    raise ValueError("paired depth-wise convolutions both have a bias or neither")
                tensors.append(torch.cat((a.weight, b.weight)))
                if a.bias is None:
                    self.kinds.append("depthwise")
                else:
                    tensors.append(torch.cat((a.bias, b.bias)))
                    self.kinds.append("depthwise+bias")
                self.paddings.append(a.padding[0])
            elif isinstance(a, Pointwise):
                weight = torch.stack((a.weight.t(), b.weight.t())).contiguous()
                bias = torch.stack((a.bias, b.bias))[:, None, :].contiguous()
                tensors += [weight, bias]
                self.kinds.append("pointwise")
                self.paddings.append(0)
            elif isinstance(a, nn.ReLU6):
                self.kinds.append("relu6")
                self.paddings.append(0)
            else:
                raise ValueError(f"cannot pair {type(a).__name__} layers")
        self.tensors = nn.ParameterList([nn.Parameter(t.detach().clone(), False) for t in tensors])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = 0
        for kind, padding in zip(self.kinds, self.paddings, strict=True):
            if kind == "depthwise":
                weight = self.tensors[index]
                x = conv2d(x, weight, None, (1, 1), (padding, padding), int(weight.shape[0]))
                index += 1
            elif kind == "depthwise+bias":
                weight, bias = self.tensors[index], self.tensors[index + 1]
                x = conv2d(x, weight, bias, (1, 1), (padding, padding), int(weight.shape[0]))
                index += 2
            elif kind == "pointwise":
                x = paired_pointwise(x, self.tensors[index], self.tensors[index + 1])
                index += 2
            else:
                x = torch.clamp_(x, 0.0, 6.0)
        return x
