"""NanoTrack's network rearranged for tracking: the same numbers, less work per frame.

Built once from a loaded :class:`NanoTrackNet` (which stays untouched):

- BatchNorm is folded into the convolution before it (in float64, then cast), so a
  conv + BN pair is one convolution with a bias.
- The input's channel order is folded into the stem: the authors trained on BGR images and
  the engine gets RGB frames, so the stem's input channels are permuted, not every crop.
- Everything that depends only on the template is computed once, by
  :meth:`PreparedNanoTrack.set_template`: a pixel-wise correlation after a 1 x 1 embedding,
  ``K^T (W x + b)``, is itself a 1 x 1 convolution ``(K^T W) x + K^T b``; both tasks' search
  embeddings (and V3's depth-wise branches) then share one 1 x 1 convolution over the search
  features, and V3's two depth-wise correlations become one grouped convolution with the
  template's kernels. These template tensors are *inputs* of the head, so the head can be
  compiled once per engine, not once per template.
- 1 x 1 convolutions run as matrix products over channels-last pixels, activations in place.
- Backbone and head are traced and frozen with TorchScript once (``compile=True``), which
  removes most of the Python overhead of ~150 small operations per frame.

What remains per frame is the backbone on the search crop, one 1 x 1 convolution, the channel
attention and the towers. The tests hold this path to the authors' ONNX export.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn
from torch.nn import functional as F

from costcore.engines.nanotrack.network import (
    CORRELATION_CHANNELS,
    TEMPLATE_CENTRE,
    ChannelAttention,
    HeadV1,
    HeadV2,
    HeadV3,
    InvertedResidual,
    NanoTrackNet,
    PixelwiseCorrelation,
)

TemplateState = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


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
    """1 x 1 convolutions as :class:`Pointwise`; activations in place (their inputs are
    always fresh convolution outputs here, so no temporary is needed)."""
    if is_pointwise(module):
        return Pointwise.from_conv(module)
    for kind in (nn.ReLU, nn.ReLU6, nn.Hardswish):
        if type(module) is kind:
            return kind(inplace=True)
    return module


def fold_sequential(sequence: nn.Sequential) -> nn.Sequential:
    """A copy of ``sequence`` with Conv2d + BatchNorm2d pairs fused, identities dropped,
    1 x 1 convolutions as :class:`Pointwise` and activations in place."""
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
            module.conv = fold_sequential(module.conv)
        elif isinstance(module, nn.Sequential):
            module = fold_sequential(module)
        if not isinstance(module, nn.Identity):
            folded.append(module)
        index += 1
    return nn.Sequential(*[_fast_module(module) for module in folded])


def _linear_map(embedding: nn.Sequential) -> tuple[torch.Tensor, torch.Tensor]:
    """(W (out, in), b) of a 1 x 1 convolution + BatchNorm embedding."""
    (layer,) = fold_sequential(embedding)
    return layer.weight, layer.bias


def _cell_matrix(features: torch.Tensor) -> torch.Tensor:
    """(cells, C): one row per template cell, row-major, as the correlation numbers them."""
    return features[0].reshape(features.shape[1], -1).transpose(0, 1)


class FastHead(nn.Module):
    """The head with its template side factored out.

    ``template_state(template_features)`` gives the three template tensors (embedding weight
    and bias of the correlations, V3's depth-wise kernels); ``forward(search_features,
    *state)`` gives (logits, ltrb distances) exactly as the authors' head does.
    """

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        if not isinstance(head, (HeadV1, HeadV2, HeadV3)):
            raise TypeError(f"not a NanoTrack head: {type(head).__name__}")
        self.version = 1 if isinstance(head, HeadV1) else 2 if isinstance(head, HeadV2) else 3
        if isinstance(head, HeadV1):
            gates = [head.corr_pw.CA_layer]
            towers = (head.cls_tower, head.bbox_tower)
            predictions = (head.cls_logits, head.bbox_pred)
            correlations: list[PixelwiseCorrelation] = []
        elif isinstance(head, HeadV2):
            correlations = [head.corr_pw_cls, head.corr_pw_reg]
            gates = [head.corr_pw_cls.CA_layer, head.corr_pw_reg.CA_layer]
            towers = (head.cls_pw_tower, head.bbox_pw_tower)
            predictions = (head.cls_pred, head.bbox_pred)
        else:
            correlations = [head.corr_pw_cls, head.corr_pw_reg]
            gates = [head.corr_pw_cls.CA_layer, head.corr_pw_reg.CA_layer]
            towers = (head.cls_tower, head.bbox_tower)
            predictions = (head.cls_logits, head.bbox_pred)
            self.trims = nn.ModuleList([fold_sequential(c.conv) for c in correlations])
            self.down = nn.ModuleList(
                [fold_sequential(head.down_cls), fold_sequential(head.down_reg)]
            )
            dw_maps = [
                _linear_map(head.corr_dw_cls.conv_search),
                _linear_map(head.corr_dw_reg.conv_search),
            ]
            self.dw_weight = nn.Parameter(torch.cat([w for w, _ in dw_maps]), requires_grad=False)
            self.dw_bias = nn.Parameter(torch.cat([b for _, b in dw_maps]), requires_grad=False)
            self.dw_kernels = nn.ModuleList(
                [fold_sequential(head.corr_dw_cls.conv_kernel),
                 fold_sequential(head.corr_dw_reg.conv_kernel)]
            )  # fmt: skip
        #: (W, b) of each task's search embedding, composed with the template at set-up
        self.search_maps = nn.ParameterList(
            [nn.Parameter(t, requires_grad=False) for c in correlations
             for t in _linear_map(c.conv_search)]
        )  # fmt: skip
        self.template_maps = nn.ModuleList([fold_sequential(c.conv_kernel) for c in correlations])
        self.gates = nn.ModuleList([ChannelGate(gate) for gate in gates])
        self.towers = nn.ModuleList([fold_sequential(tower) for tower in towers])
        self.predictions = nn.ModuleList([fold_sequential(p) for p in predictions])

    @torch.no_grad()
    def template_state(self, template: torch.Tensor) -> TemplateState:
        """The template's side of the head, from its (1, C, 8, 8) features."""
        if self.version == 1:  # correlation of the raw features
            weight = _cell_matrix(template)
            bias = torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device)
        else:  # K^T (W x + b) for each task
            weights, biases = [], []
            maps = list(self.search_maps)
            for template_map, search_weight, search_bias in zip(
                self.template_maps, maps[0::2], maps[1::2], strict=True
            ):
                cells = _cell_matrix(template_map(template))
                weights.append(cells @ search_weight)
                biases.append(cells @ search_bias)
            weight, bias = torch.cat(weights), torch.cat(biases)
        if self.version != 3:
            return weight.contiguous(), bias, torch.empty(0, device=weight.device)
        weight = torch.cat((weight, self.dw_weight))
        bias = torch.cat((bias, self.dw_bias))
        centre = template[:, :, TEMPLATE_CENTRE, TEMPLATE_CENTRE]
        kernels = torch.cat([kernel_map(centre)[0] for kernel_map in self.dw_kernels])
        return weight.contiguous(), bias, kernels[:, None].contiguous()

    def forward(
        self,
        search: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        kernels: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        embedded = pointwise(search, weight, bias)
        c = CORRELATION_CHANNELS
        if self.version == 1:  # one correlation feeds both towers
            correlated = self.gates[0](embedded)
            branches = [correlated, correlated]
        elif self.version == 2:
            branches = [self.gates[0](embedded[:, :c]), self.gates[1](embedded[:, c : 2 * c])]
        else:
            depthwise = F.conv2d(embedded[:, 2 * c :], kernels, padding=1, groups=kernels.shape[0])
            half = kernels.shape[0] // 2
            branches = [
                self.down[0](
                    torch.cat(
                        (self.trims[0](self.gates[0](embedded[:, :c])), depthwise[:, :half]), 1
                    )
                ),
                self.down[1](
                    torch.cat(
                        (self.trims[1](self.gates[1](embedded[:, c : 2 * c])), depthwise[:, half:]),
                        1,
                    )
                ),
            ]
        logits = self.predictions[0](self.towers[0](branches[0]))
        distances = torch.exp(self.predictions[1](self.towers[1](branches[1])))
        return logits, distances


class PreparedNanoTrack(nn.Module):
    """A loaded network ready to track: folded, channel order built in, template cached.

    ``rgb_input``: True when crops arrive RGB (the stem is permuted so the network sees the
    BGR the authors trained on); False feeds crops to the network as they are.
    ``compile``: trace and freeze backbone and head with TorchScript (once, here), on crops of
    ``crop_sizes`` (template, search) pixels.
    """

    def __init__(
        self,
        network: NanoTrackNet,
        rgb_input: bool = True,
        compile: bool = True,
        crop_sizes: tuple[int, int] = (127, 255),
    ):
        super().__init__()
        self.version = network.version
        parameter = next(network.parameters())
        device, dtype = parameter.device, parameter.dtype
        features = fold_sequential(network.backbone.features)
        if rgb_input:
            stem = features[0][0]
            with torch.no_grad():
                stem.weight.copy_(stem.weight.flip(1))
        self.backbone = features.eval().requires_grad_(False).to(memory_format=torch.channels_last)
        self.head = FastHead(network.ban_head).eval().requires_grad_(False)
        self.head.to(memory_format=torch.channels_last)
        self.state: TemplateState | None = None
        #: what runs per frame: the modules themselves, or their frozen TorchScript traces
        self.runners: tuple = (self.backbone, self.head)
        if compile:
            self._compile(device, dtype, crop_sizes)

    def _compile(
        self, device: torch.device, dtype: torch.dtype, crop_sizes: tuple[int, int]
    ) -> None:
        """Trace and freeze both parts on blank crops of the real sizes.

        TorchScript is deprecated in recent torch (it warns) but still the cheapest way to
        drop the interpreter overhead here; where it fails or is gone, the eager modules run
        (the same numbers, ~25 % slower on a CPU).
        """

        def blank(side: int) -> torch.Tensor:
            crop = torch.zeros((1, 3, side, side), device=device, dtype=dtype)
            return crop.contiguous(memory_format=torch.channels_last)

        template, search = (blank(side) for side in crop_sizes)
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                backbone = torch.jit.freeze(
                    torch.jit.trace(self.backbone, search, check_trace=False)
                )
                state = self.head.template_state(self.backbone(template))
                head = torch.jit.freeze(
                    torch.jit.trace(self.head, (self.backbone(search), *state), check_trace=False)
                )
        except (AttributeError, NotImplementedError, RuntimeError, TypeError):
            return  # TorchScript missing or unable: the eager modules stay
        self.runners = (backbone, head)

    @torch.no_grad()
    def set_template(self, template: torch.Tensor) -> None:
        """Embed the (1, 3, 127, 127) template crop and keep the head's template side."""
        features = self.backbone(template.contiguous(memory_format=torch.channels_last))
        self.state = self.head.template_state(features)

    def forward(self, search: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, 3, 255, 255) search crop -> (logits, ltrb distances)."""
        if self.state is None:
            raise RuntimeError("set_template() before tracking")
        backbone, head = self.runners
        search = search.contiguous(memory_format=torch.channels_last)
        return head(backbone(search), *self.state)
