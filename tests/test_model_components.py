"""Shapes, dtypes and rules of every COST component, on a tiny config (CPU, no download)."""

from __future__ import annotations

import math

import pytest
import torch

from costcore.model import COSTConfig, COSTModel
from costcore.model.backbone import ResNetBody
from costcore.model.linguistic_branch import load_tokenizer
from costcore.model.position_encoding import PositionEmbeddingSine
from costcore.model.testing import tiny_config, tiny_model
from costcore.model.visual_tokens import VisualTokenConvs

LONG_TEXT = " ".join(["the small red car on the road"] * 12)  # far more than 38 word pieces


@pytest.fixture(scope="module")
def vocab_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("vocab")


@pytest.fixture(scope="module")
def model(vocab_dir) -> COSTModel:
    return tiny_model(vocab_dir)


@pytest.fixture(scope="module")
def crops() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    template = torch.rand(2, 3, 64, 64, generator=generator)
    search = torch.rand(2, 3, 128, 128, generator=generator)
    return template, search


def test_config_json_round_trip(vocab_dir, tmp_path) -> None:
    config = tiny_config(vocab_dir)
    path = tmp_path / "config.json"
    path.write_text(config.to_json())
    assert COSTConfig.from_json_file(path) == config
    default = COSTConfig()
    assert default.score_map_side == 20 and COSTConfig.transt().score_map_side == 32
    assert default.backbone_channels == 1024 and default.max_text_tokens == 40


def test_config_rejects_unknown_fields(tmp_path) -> None:
    from costcore.errors import FormatError

    path = tmp_path / "config.json"
    path.write_text('{"hidden_dim": 256, "colour": "red"}')
    with pytest.raises(FormatError, match="colour"):
        COSTConfig.from_json_file(path)


def test_backbone_stride_8_and_dilation_only_in_first_layer3_block() -> None:
    body = ResNetBody([1, 2, 2], width=8, layer3_dilation=2).eval()
    with torch.no_grad():
        features = body(torch.rand(1, 3, 128, 128))
    assert features.shape == (1, 128, 16, 16)  # width * 16 channels, stride 8
    assert body.layer3[0].conv2.dilation == (2, 2) and body.layer3[0].conv2.padding == (2, 2)
    assert body.layer3[1].conv2.dilation == (1, 1) and body.layer3[1].conv2.padding == (1, 1)
    assert body.layer3[0].conv2.stride == (1, 1) and body.layer2[0].conv2.stride == (2, 2)
    assert body.layer3[0].downsample[0].stride == (1, 1)


def test_sine_position_encoding_matches_detr_formula() -> None:
    """An independent transcription of DETR/TransT's formula (mask all False, normalised)."""
    features = torch.zeros(1, 8, 3, 5)
    pos = PositionEmbeddingSine(num_pos_feats=4, normalize=True)(features)
    assert pos.shape == (1, 8, 3, 5)
    scale, eps = 2 * math.pi, 1e-6
    for channel in range(8):
        for i in range(3):
            for j in range(5):
                axis_value = (i + 1) / (3 + eps) if channel < 4 else (j + 1) / (5 + eps)
                k = channel % 4
                angle = axis_value * scale / 10000 ** (2 * (k // 2) / 4)
                expected = math.sin(angle) if k % 2 == 0 else math.cos(angle)
                assert pos[0, channel, i, j].item() == pytest.approx(expected, abs=1e-5)


def test_visual_token_convs_turn_32x32_into_20x20() -> None:
    convs = VisualTokenConvs(channels=4, num_convs=3, kernel_size=5)
    tokens = torch.rand(2, 32 * 32, 4)
    out = convs(tokens, 32)
    assert out.shape == (2, 400, 4)
    assert all(conv.padding == (0, 0) for conv in convs.convs if isinstance(conv, torch.nn.Conv2d))


def test_tokenizer_cls_words_sep_padding_and_truncation(model: COSTModel) -> None:
    branch = model.language_branch
    tok = branch.tokenizer
    ids, mask = branch.tokenize(["the red car", LONG_TEXT])
    assert ids.shape == mask.shape == (2, 40) and mask.dtype == torch.bool
    assert ids[0, :5].tolist() == [
        tok.cls_token_id,
        *tok.convert_tokens_to_ids(["the", "red", "car"]),
        tok.sep_token_id,
    ]
    assert mask[0].tolist() == [True] * 5 + [False] * 35
    assert (ids[0, 5:] == tok.pad_token_id).all()
    # the long text keeps [CLS] + 38 word pieces + [SEP], no padding
    assert mask[1].all() and ids[1, 0] == tok.cls_token_id and ids[1, 39] == tok.sep_token_id
    assert ids[1, 1:39].tolist() == tok.convert_tokens_to_ids(tok.tokenize(LONG_TEXT)[:38])


def test_tokenizer_from_bare_vocab_file(vocab_dir) -> None:
    tokenizer = load_tokenizer(vocab_dir / "vocab.txt")
    assert tokenizer.tokenize("red cars") == ["red", "car", "##s"]


def test_language_features_are_the_mean_of_layer_outputs(model: COSTModel) -> None:
    branch = model.language_branch
    with torch.no_grad():
        state = model.encode_language(["a small bird flying in the sky", LONG_TEXT])
        ids, mask = branch.tokenize(["a small bird flying in the sky", LONG_TEXT])
        hidden = branch.encoder(
            input_ids=ids, attention_mask=mask.long(), output_hidden_states=True
        ).hidden_states
    assert state.features.shape == (2, 40, 32) and state.features.dtype == torch.float32
    assert torch.equal(state.mask, mask) and torch.equal(state.input_ids, ids)
    expected = (hidden[1] + hidden[2]) / 2  # two layers; the embedding output is excluded
    assert torch.allclose(state.features, expected, atol=1e-6)


def test_staged_api_shapes(model: COSTModel, crops) -> None:
    template, search = crops
    with torch.no_grad():
        state = model.encode_template(template)
        assert state.tokens.shape == (2, 64, 32) and state.pos.shape == (1, 64, 32)
        visual = model.visual(search, state)
        assert visual.shape == (2, 16, 32)  # 16x16 search map -> three 5x5 convs -> 4x4
        language = model.encode_language(["the red car", "a bird"])
        fused = model.fuse(visual, language)
        assert fused.shape == (2, 16, 32)
        logits, boxes = model.predict(fused)
    assert logits.shape == (2, 16, 2) and boxes.shape == (2, 16, 4)
    assert logits.dtype == boxes.dtype == torch.float32
    assert ((boxes > 0) & (boxes < 1)).all()
    assert model.score_map_size == 4


def test_forward_returns_coa_embeddings_and_trains(model: COSTModel, crops) -> None:
    template, search = crops
    model.train()
    try:
        out = model(template, search, ["the red car", "a small bird"])
        assert out.logits.shape == (2, 16, 2) and out.boxes.shape == (2, 16, 4)
        assert out.visual_embedding.shape == out.language_embedding.shape == (2, 16)
        assert out.obj_token.shape == (2, 32)
        loss = out.coa_loss(0.5) + out.logits.mean() + out.boxes.mean()
        loss.backward()
        assert model.alignment.g_v.weight.grad is not None
        assert model.vl_transformer.obj_token.grad is not None
        assert model.backbone[0].body.conv1.weight.grad is not None
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()


def test_language_padding_does_not_leak_into_fusion(model: COSTModel, crops) -> None:
    """Padded language slots are masked: changing their features changes nothing."""
    template, search = crops
    with torch.no_grad():
        visual = model.visual(search[:1], model.encode_template(template[:1]))
        language = model.encode_language(["the red car"])
        before = model.fuse(visual, language)
        language.features[:, 10:] = 123.0  # only padding lies beyond token 5
        after = model.fuse(visual, language)
    assert torch.allclose(before, after, atol=1e-5)


def test_visual_only_model_is_transt_shaped(tmp_path, crops) -> None:
    model = tiny_model(tmp_path, visual_only=True)
    template, search = crops
    assert not hasattr(model, "language_branch") and not hasattr(model, "vl_transformer")
    with torch.no_grad():
        state = model.encode_template(template)
        tokens = model.visual(search, state)
        assert model.encode_language(["ignored"]) is None
        assert model.fuse(tokens, None) is tokens
        logits, boxes = model.predict(tokens)
        out = model(template, search)
    assert tokens.shape == (2, 256, 32) and logits.shape == (2, 256, 2)
    assert model.score_map_size == 16
    assert out.visual_embedding is None and torch.equal(out.logits, logits)
    with pytest.raises(ValueError):
        out.coa_loss()


def test_template_batch_of_one_serves_a_search_batch(model: COSTModel, crops) -> None:
    template, search = crops
    with torch.no_grad():
        state = model.encode_template(template[:1])
        visual = model.visual(search, state)
        single = model.visual(search[1:], state)
    assert torch.allclose(visual[1:], single, atol=1e-5)


def test_bf16_autocast_forward_on_cpu(model: COSTModel, crops) -> None:
    template, search = crops
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        state = model.encode_template(template)
        logits, boxes = model.predict(
            model.fuse(model.visual(search, state), model.encode_language(["a", "b"]))
        )
    assert logits.shape == (2, 16, 2) and torch.isfinite(logits.float()).all()
