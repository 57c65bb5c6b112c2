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

import warnings

import torch
from torch import nn
from torch.nn import functional as F

from costcore.engines.nanotrack.folding import (
    ChannelGate,
    fold_sequential,
    linear_map,
    pointwise,
)
from costcore.engines.nanotrack.network import (
    CORRELATION_CHANNELS,
    TEMPLATE_CENTRE,
    HeadV1,
    HeadV2,
    HeadV3,
    NanoTrackNet,
    PixelwiseCorrelation,
)
from costcore.engines.nanotrack.paired import PairedGate, PairedStack, paired_concat

TemplateState = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


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
            self.trims = PairedStack(*(fold_sequential(c.conv) for c in correlations))
            self.down = PairedStack(fold_sequential(head.down_cls), fold_sequential(head.down_reg))
            dw_maps = [
                linear_map(head.corr_dw_cls.conv_search),
                linear_map(head.corr_dw_reg.conv_search),
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
             for t in linear_map(c.conv_search)]
        )  # fmt: skip
        self.template_maps = nn.ModuleList([fold_sequential(c.conv_kernel) for c in correlations])
        folded_towers = [fold_sequential(tower) for tower in towers]
        (cls_layer,), (reg_layer,) = (fold_sequential(p) for p in predictions)
        if self.version == 1:  # towers of different shapes, one correlation for both
            self.gate: nn.Module = ChannelGate(gates[0])
            self.towers: nn.Module = nn.ModuleList(folded_towers)
        else:  # both tasks side by side (see paired.py)
            self.gate = PairedGate(ChannelGate(gates[0]), ChannelGate(gates[1]))
            self.towers = PairedStack(*folded_towers)
        self.cls_weight = nn.Parameter(cls_layer.weight, requires_grad=False)
        self.cls_bias = nn.Parameter(cls_layer.bias, requires_grad=False)
        self.reg_weight = nn.Parameter(reg_layer.weight, requires_grad=False)
        self.reg_bias = nn.Parameter(reg_layer.bias, requires_grad=False)

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
            correlated = self.gate(embedded)
            return self._predict(self.towers[0](correlated), self.towers[1](correlated))
        branches = self.gate(embedded[:, : 2 * c])  # [classification | regression]
        if self.version == 3:
            groups = int(kernels.shape[0])
            depthwise = F.conv2d(embedded[:, 2 * c :], kernels, padding=1, groups=groups)
            branches = self.down(paired_concat(self.trims(branches), depthwise))
        features = self.towers(branches)
        half = int(features.shape[1]) // 2
        return self._predict(features[:, :half], features[:, half:])

    def _predict(
        self, classification: torch.Tensor, regression: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The last 1 x 1 convolutions: class logits, and ``exp`` of the edge distances."""
        logits = pointwise(classification, self.cls_weight, self.cls_bias)
        return logits, torch.exp(pointwise(regression, self.reg_weight, self.reg_bias))


class TrackingPass(nn.Module):
    """Backbone, head and what the tracker reads of the head's output, as one graph: the
    foreground probability map (S, S) and the edge distances (4, S * S), both contiguous."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(
        self,
        search: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        kernels: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        logits, distances = self.head(self.backbone(search), weight, bias, kernels)
        probabilities = torch.softmax(logits[0], dim=0)[1].contiguous()
        return probabilities, distances[0].reshape(4, -1).contiguous()


class PreparedNanoTrack(nn.Module):
    """A loaded network ready to track: folded, channel order built in, template cached.

    ``rgb_input``: True when crops arrive RGB (the stem is permuted so the network sees the
    BGR the authors trained on); False feeds crops to the network as they are.
    ``compile``: trace and freeze backbone and head with TorchScript (once, here), on crops of
    ``crop_sizes`` (template, search) pixels; :meth:`track` runs them and the softmax as one
    traced graph.
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
        self.tracking: nn.Module = TrackingPass(self.backbone, self.head).eval()
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
                # shapes read as integers become the trace's constants: meant (one crop size)
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                backbone = torch.jit.freeze(
                    torch.jit.trace(self.backbone, search, check_trace=False)
                )
                state = self.head.template_state(self.backbone(template))
                head = torch.jit.freeze(
                    torch.jit.trace(self.head, (self.backbone(search), *state), check_trace=False)
                )
                tracking = torch.jit.freeze(
                    torch.jit.trace(self.tracking, (search, *state), check_trace=False)
                )
        except (AttributeError, NotImplementedError, RuntimeError, TypeError):
            return  # TorchScript missing or unable: the eager modules stay
        self.runners = (backbone, head)
        self.tracking = tracking

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

    def track(self, search: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(1, 3, 255, 255) channels-last search crop -> (foreground probabilities (S, S),
        ltrb distances (4, S * S)): what the tracker decides on, in one call."""
        if self.state is None:
            raise RuntimeError("set_template() before tracking")
        return self.tracking(search, *self.state)
