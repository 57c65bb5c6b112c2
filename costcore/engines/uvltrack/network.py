"""UVLTrack's network (Ma et al., "Unifying Visual and Vision-Language Tracking via Contrastive
Learning", AAAI 2024): one ViT for the template, the search region and, in its last blocks,
the description's tokens; a box head that scores the search tokens against contrastive prompts.

Module and parameter names follow the authors' code (``backbone.vit.*``, ``backbone.bert.*``,
``box_head.*``, the misspelt ``box_head.coodinate`` included), so their checkpoints load
strictly, key for key; the arithmetic follows theirs step for step. Top to bottom:

1. tokens: 16 px patches of the template (128 px) and the search region (256 px) with their
   fixed position embeddings, behind one learned "visual reference" token (``cls_token``).
2. text: BERT's embeddings and first layers (as many as there are blocks before the first
   fusion block) over ``[CLS] + word pieces + [SEP]``; they never see the image, so the
   tracker computes them once per video.
3. the ViT blocks: the early ones over the image tokens only, the fusion blocks over image and
   text tokens together (each side plus its ``modal_embed`` row). Which tokens may be attended
   to depends on the reference (``flag``): the box (0: text hidden), the sentence alone for
   grounding (1: the reference token and the template hidden), or both (2).
4. the reference token: the visual one, the text one ([CLS] of the text), or their mean.
5. the head: from the reference token and the template and context tokens, the "prompter"
   builds three prompts (target, distractors, background); each search token's cosine
   similarity to them is the contrastive score. Score, offset and size maps come from small
   conv towers; grounding has its own size tower. The box is read at the best cell.

``backbone.logit_scale`` and the prompter's ``q``, ``kv``, ``proj`` and ``norm`` serve only the
authors' training; they stay in checkpoints and are loaded, never run.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from costcore.engines.ostrack_layers import Block, Mlp, PatchEmbed, conv_bn_relu
from costcore.engines.uvltrack.config import UVLTrackConfig

#: which reference the target is given by (the authors' ``flag``)
REFERENCE_BOX = 0
REFERENCE_TEXT = 1
REFERENCE_BOTH = 2
#: the value the prompter's masked similarities get
MASKED_SIMILARITY = -1e20


# --- the ViT ------------------------------------------------------------------------------------


class VisionTransformer(nn.Module):
    """``backbone.vit``: patch embedding, position embeddings, blocks (``norm`` is unused)."""

    def __init__(self, config: UVLTrackConfig) -> None:
        super().__init__()
        dim = config.embed_dim
        self.num_patches_z = config.template_feature_size**2
        self.num_patches_x = config.search_feature_size**2
        self.patch_embed = PatchEmbed(config.patch_size, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed_z = nn.Parameter(torch.zeros(1, self.num_patches_z, dim))
        self.pos_embed_x = nn.Parameter(torch.zeros(1, self.num_patches_x, dim))
        self.modal_embed = nn.Parameter(torch.zeros(2, dim))
        self.blocks = nn.ModuleList(
            Block(dim, config.num_heads, config.mlp_ratio) for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def tokens(self, template: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """``[reference token; template patches; search patches]`` with positions."""
        z = self.patch_embed(template) + self.pos_embed_z
        x = self.patch_embed(search) + self.pos_embed_x
        cls_token = self.cls_token.expand(search.shape[0], -1, -1)
        return torch.cat((cls_token, z, x), dim=1)


@dataclass
class TextFeatures:
    """The description after BERT's layers (B, L, C) and its mask (B, L), 1 for real tokens."""

    features: torch.Tensor
    mask: torch.Tensor


@dataclass
class BackboneOutput:
    template: torch.Tensor  # (B, Nz, C)
    search: torch.Tensor  # (B, Nx, C)
    vis_token: torch.Tensor  # (B, 1, C)
    txt_token: torch.Tensor  # (B, 1, C)
    flag: int

    def reference_token(self) -> torch.Tensor:
        """The token that stands for the target: visual, textual or their mean, (B, C)."""
        if self.flag == REFERENCE_BOX:
            token = self.vis_token
        elif self.flag == REFERENCE_TEXT:
            token = self.txt_token
        else:
            token = (self.vis_token + self.txt_token) / 2
        return token[:, 0]


class FeatureExtractor(nn.Module):
    """``backbone``: the ViT and the text model's first layers ("modality-unified")."""

    def __init__(self, config: UVLTrackConfig, text_model: nn.Module) -> None:
        super().__init__()
        self.logit_scale = nn.Parameter(torch.zeros([]))  # training-only
        self.vit = VisionTransformer(config)
        self.bert = text_model
        self.fusion_start = config.fusion_layers[0]
        self.text_token_mode = config.text_token_mode

    def encode_text(self, input_ids: torch.Tensor, mask: torch.Tensor) -> TextFeatures:
        """BERT's layers before the fusion blocks: they never see the image."""
        features = self.bert(input_ids=input_ids, attention_mask=mask).last_hidden_state
        return TextFeatures(features, mask)

    def _masks(self, text: TextFeatures, flag: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Key masks (True = hidden) for the joint blocks and for the image-only blocks."""
        batch, device = text.mask.shape[0], text.mask.device
        vit = self.vit
        hidden = flag == REFERENCE_TEXT  # grounding: no reference token, no template
        prefix = torch.full((batch, 1 + vit.num_patches_z), hidden, device=device)
        search = torch.zeros((batch, vit.num_patches_x), dtype=torch.bool, device=device)
        if flag == REFERENCE_BOX:
            words = torch.ones(text.mask.shape, dtype=torch.bool, device=device)
        else:
            words = ~text.mask.bool()
        visual = torch.cat([prefix, search], dim=1)
        return torch.cat([visual, words], dim=1), visual

    def forward(
        self, template: torch.Tensor, search: torch.Tensor, text: TextFeatures, flag: int
    ) -> BackboneOutput:
        vit = self.vit
        image = vit.tokens(template, search)
        words = text.features
        mask, visual_mask = self._masks(text, flag)
        image_length, text_length = image.shape[1], words.shape[1]
        for index, block in enumerate(vit.blocks):
            if index < self.fusion_start:
                image = block(image, visual_mask)
                continue
            joint = torch.cat([image + vit.modal_embed[0], words + vit.modal_embed[1]], dim=1)
            image, words = block(joint, mask).split([image_length, text_length], dim=1)
        vis_token, z, x = image.split([1, vit.num_patches_z, vit.num_patches_x], dim=1)
        if self.text_token_mode == "cls":
            txt_token = words[:, :1]
        else:
            weights = text.mask.unsqueeze(-1)
            txt_token = (words * weights).sum(dim=1, keepdim=True) / weights.sum(
                dim=1, keepdim=True
            )
        return BackboneOutput(z, x, vis_token, txt_token, flag)


# --- the head -----------------------------------------------------------------------------------


def _conv_tower(inplanes: int, channel: int, outputs: int) -> nn.Sequential:
    """Four 3x3 conv + BatchNorm + ReLU stages halving the width, then a 1x1 conv."""
    widths = [inplanes, channel, channel // 2, channel // 4, channel // 8]
    stages: list[nn.Module] = [conv_bn_relu(widths[i], widths[i + 1]) for i in range(4)]
    stages.append(nn.Conv2d(channel // 8, outputs, kernel_size=1))
    return nn.Sequential(*stages)


class Prompter(nn.Module):
    """``box_head.prompter`` (the authors' DistributionBasedCrossAttention).

    From the reference token's cosine similarity to the template and context tokens it pools a
    target token (tokens inside the box), a distractor token (the most similar outside ones,
    those beyond the least similar quarter of the probability mass) and a background token;
    added to three learned queries and refined by an MLP, they are the three prompts.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.q = nn.Linear(dim, dim, bias=False)  # training-only, like kv, proj and norm
        self.kv = nn.Linear(dim, dim * 2, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.query_embed = nn.Embedding(3, dim)
        self.norm = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, dim * 4)
        self.logit_scale = nn.Parameter(torch.zeros([]))

    def queries(self, token: torch.Tensor) -> torch.Tensor:
        """The learned queries, the first one plus the reference token: (B, 3, C)."""
        queries = self.query_embed.weight.unsqueeze(0).repeat(token.shape[0], 1, 1)
        queries[:, 0] = queries[:, 0] + token
        return queries

    def forward(
        self,
        template: torch.Tensor,
        template_mask: torch.Tensor,
        context: torch.Tensor,
        context_mask: torch.Tensor,
        token: torch.Tensor,
    ) -> torch.Tensor:
        queries = self.queries(token)
        tokens = torch.cat([template, context], dim=1)
        inside = torch.cat([template_mask, context_mask], dim=1).unsqueeze(1)
        similarity = (
            F.normalize(token, dim=-1).unsqueeze(1)
            @ F.normalize(tokens, dim=-1).transpose(-2, -1)
            * self.logit_scale.exp()
        )
        target_weights = similarity.masked_fill(~inside, MASKED_SIMILARITY).softmax(-1)
        outside = similarity.masked_fill(inside, MASKED_SIMILARITY)
        distractors = self._distractors(outside.softmax(-1))
        background_weights = outside.masked_fill(distractors, MASKED_SIMILARITY).softmax(-1)
        distractor_weights = outside.masked_fill(~distractors, MASKED_SIMILARITY).softmax(-1)
        pooled = torch.cat(
            [target_weights @ tokens, distractor_weights @ tokens, background_weights @ tokens],
            dim=1,
        )
        prompts = pooled + queries
        return self.mlp(prompts) + prompts

    @staticmethod
    def _distractors(scores: torch.Tensor) -> torch.Tensor:
        """Tokens above the least likely quarter of the probability mass (``divide_background``)."""
        values, _ = scores.sort(dim=-1, descending=False)
        below = values.cumsum(dim=-1) < 0.25
        threshold = values.masked_fill(below, 1.0).min(dim=-1, keepdim=True).values
        return scores >= threshold


@dataclass
class HeadOutput:
    """Per search cell: score (B, S), contrastive target probability (B, S), box (B, S, 4)
    as normalised (cx, cy, w, h) in the search crop."""

    scores: torch.Tensor
    target_probability: torch.Tensor
    boxes: torch.Tensor


class BoxHead(nn.Module):
    """``box_head`` (the authors' ModalityAdaptiveBoxHead)."""

    def __init__(self, config: UVLTrackConfig) -> None:
        super().__init__()
        dim, channel = config.embed_dim, config.head_channels
        self.feat_sz = config.search_feature_size
        self.cls_tokenize = config.cls_tokenize
        self.offset_sigmoid = config.offset_sigmoid
        self.softmax_one = config.softmax_one
        self.conv_cls = _conv_tower(dim, channel, 1)
        self.conv_offset = _conv_tower(dim, channel, 2)
        self.conv_bbox = _conv_tower(dim, channel, 2)
        self.conv_bbox_grounding = _conv_tower(dim, channel, 2)
        self.prompter = Prompter(dim)
        self.logit_scale = nn.Parameter(torch.zeros([]))
        cells = torch.arange(self.feat_sz)
        rows, cols = torch.meshgrid(cells, cells, indexing="ij")
        coordinates = torch.cat([cols.reshape(1, -1), rows.reshape(1, -1)])[None]  # (1, 2, S)
        self.register_buffer(
            "coodinate", coordinates if config.offset_sigmoid else coordinates + 0.5
        )

    def prompts(
        self,
        features: BackboneOutput,
        template_mask: torch.Tensor | None,
        context_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """The three prompts from a frame's features and the cells under the target in its
        template and context (``forward_prompt``); grounding needs no cells."""
        token = features.reference_token()
        if features.flag == REFERENCE_TEXT:  # grounding keeps the plain queries
            return self.prompter.queries(token)
        return self.prompter(features.template, template_mask, features.search, context_mask, token)

    def forward(
        self, features: BackboneOutput, prompts: torch.Tensor, grounding: bool = False
    ) -> HeadOutput:
        search = features.search
        batch = search.shape[0]
        similarity = self.logit_scale.exp() * (
            F.normalize(search, dim=-1) @ F.normalize(prompts, dim=-1).transpose(-2, -1)
        )
        contrast = self._contrast_classes(similarity, grounding)
        target_probability = contrast.softmax(-1)[:, :, 0]
        fmap = search.transpose(-2, -1).reshape(batch, -1, self.feat_sz, self.feat_sz)
        fmap = fmap.contiguous()
        if self.cls_tokenize:
            scores = self.conv_cls(fmap * features.reference_token()[..., None, None])
        else:
            scores = self.conv_cls(fmap)
        scores = scores.sigmoid().squeeze(1).reshape(batch, -1)
        offsets = self.conv_offset(fmap)
        if self.offset_sigmoid:
            offsets = offsets.sigmoid()
        sizer = self.conv_bbox_grounding if features.flag == REFERENCE_TEXT else self.conv_bbox
        sizes = sizer(fmap).sigmoid()
        centres = (
            self.coodinate.repeat(batch, 1, 1) + offsets.reshape(batch, 2, -1)
        ) / self.feat_sz
        boxes = torch.cat([centres, sizes.reshape(batch, 2, -1)], dim=1).transpose(-2, -1)
        return HeadOutput(scores, target_probability, boxes)

    def _contrast_classes(self, similarity: torch.Tensor, grounding: bool) -> torch.Tensor:
        """(target, best other prompt[, a constant zero]) logits per search cell.

        The authors' grounding goes through their training branch, which has no third column;
        tracking adds a zero logit as a third class when ``softmax_one`` is set.
        """
        target, others = similarity[:, :, :1], similarity[:, :, 1:]
        if not self.softmax_one:
            return torch.cat([target, others.max(dim=-1, keepdim=True).values], dim=-1)
        zero = torch.zeros_like(target)
        best = torch.cat([others, zero], dim=-1).max(dim=-1, keepdim=True).values
        if grounding:
            return torch.cat([target, best], dim=-1)
        return torch.cat([target, best, zero], dim=-1)


# --- the whole network --------------------------------------------------------------------------


class UVLTrackNet(nn.Module):
    """The whole network; ``state_dict()`` keys equal the authors' checkpoints'."""

    #: non-learned index buffers some transformers versions save; accepted and ignored
    OPTIONAL_BUFFERS = (
        "backbone.bert.embeddings.position_ids",
        "backbone.bert.embeddings.token_type_ids",
    )

    def __init__(self, config: UVLTrackConfig, text_model: nn.Module) -> None:
        super().__init__()
        self.config = config
        self.backbone = FeatureExtractor(config, text_model)
        self.box_head = BoxHead(config)

    def prompts(
        self,
        template: torch.Tensor,
        context: torch.Tensor,
        text: TextFeatures,
        template_mask: torch.Tensor,
        context_mask: torch.Tensor,
        flag: int,
    ) -> torch.Tensor:
        """The first prompts, from the first frame's template and context crops."""
        features = self.backbone(template, context, text, flag)
        return self.box_head.prompts(features, template_mask, context_mask)

    def forward(
        self,
        template: torch.Tensor,
        search: torch.Tensor,
        text: TextFeatures,
        prompts: torch.Tensor,
        flag: int,
    ) -> tuple[BackboneOutput, HeadOutput]:
        features = self.backbone(template, search, text, flag)
        return features, self.box_head(features, prompts)

    def ground(self, image: torch.Tensor, text: TextFeatures) -> tuple[BackboneOutput, HeadOutput]:
        """The sentence alone on a whole (letterboxed) image: no template, no box."""
        size = self.config.template_size
        blank = torch.zeros([1, 3, size, size], device=image.device)
        features = self.backbone(blank, image, text, REFERENCE_TEXT)
        prompts = self.box_head.prompts(features, None, None)
        return features, self.box_head(features, prompts, grounding=True)
