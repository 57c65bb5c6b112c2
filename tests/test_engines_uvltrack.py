"""The UVLTrack engine reproduces the authors' tracker, box for box, in its three reference modes.

How ``tests/fixtures/uvltrack/`` was made (outside the project; none of the authors' code, and no
script that builds or runs it, is part of the project):

- Code: github.com/OpenSpaceAI/UVLTrack at commit 6ca34055c3447cd69b032eeb0f7cf6af6c9f3728
  (``git archive``), run with Python 3.11.7, torch 2.13.0 (CPU), numpy 2.4.6,
  opencv-contrib-python-headless 5.1.0.95, pytorch-pretrained-bert 0.6.2 (their tokenizer),
  easydict 1.14, PyYAML 6.0.4, Pillow 13.0.0, matplotlib 3.11.2, one torch thread, in a
  throw-away virtual environment (torch, numpy, OpenCV, Pillow, matplotlib and PyYAML were the
  project environment's, reached through a ``.pth`` file; pytorch-pretrained-bert and easydict
  were installed there). ``.cuda()`` of tensors and modules was made a no-op (CPU run) and
  numpy's removed ``np.float`` alias restored (their ``mae_vit.py`` uses it). Stubbed, being
  imported but never run by the tracker: ``torchvision`` (``ops.boxes.box_area``,
  ``_is_tracing``: training losses), ``timm.models.vision_transformer.PatchEmbed`` (shadowed by
  their own) and ``tensorboardX`` (training logs). No download.
- Text model: a tiny random BERT in their own ``bert_backbone.BertModel`` class,
  ``torch.manual_seed(20250610)``, ``BertConfig(138, hidden_size=32, num_hidden_layers=3,
  num_attention_heads=4, intermediate_size=64, max_position_embeddings=64)``, saved as
  ``config.json`` + ``pytorch_model.bin`` in the folder their ``LANGUAGE.TYPE`` names (their
  ``from_pretrained`` read it from there); the vocabulary ``vocab.txt`` has bert-base-uncased's
  layout ([PAD] 0, [unused0..98], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, then 34 words),
  read by pytorch-pretrained-bert's ``BertTokenizer`` as their ``VOCAB_PATH``. ``bert/`` keeps
  that ``config.json`` (3 layers: their code, like ours, keeps only the layers before the first
  fusion block) and ``vocab.txt``; the weights are in the checkpoint.
- Configuration: ``experiments/uvltrack/baseline_base.yaml`` (template 128 px at factor 2, search
  256 px at factor 4, CLS_TOKENIZE false, OFFSET_SIGMOID and SOFTMAX_ONE true, TXT_TOKEN_MODE
  cls, CONT_WEIGHT 1, UPDATE_INTERVAL 20; THRESHOLD 0.5 from their ``config.py``) with a tiny
  network: ``FUSION_LAYER [2, 3]``, ``CONT_LOSS_LAYER [1, 2, 3]``, ``HIDDEN_DIM 32``,
  ``HEAD.HEAD_DIM 32``, and their ``mae_vit_base_patch16`` replaced (in their module) by
  their own ``MaskedAutoencoderViT(patch_size=16, embed_dim=32, depth=4, num_heads=4,
  mlp_ratio=4, LayerNorm eps 1e-6)``;
  ``PRETRAINED_PATH`` a file holding ``{"model": {}}`` (their non-strict MAE load: nothing).
- Weights: ``torch.manual_seed(20250610)``, their ``build_model(cfg)``; then each floating
  tensor of the state dict, in order, with ``torch.Generator().manual_seed(20250611)`` and
  n = standard normal noise: BatchNorm running_var := 0.5 + U(0, 1), running_mean := 0.1 n,
  other tensors of at most one dimension += 0.05 n, the rest += 0.2 std n; finally the last
  biases of ``box_head.conv_bbox`` and ``conv_bbox_grounding`` := log(1/3) (sizes near a
  quarter of the crop) and of ``box_head.conv_cls`` := 2.0 (scores high enough that the
  prompts are renewed at frame 20, as their THRESHOLD allows). Saved as their trainer saves:
  ``torch.save({"net": state_dict, "epoch": 300, "net_type": "UVLTrack", "actor_type":
  "UVLTrackActor"}, "UVLTrack_ep0300.pth.tar")`` (230 tensors, 185,494 values). Their
  ``load_state_dict(..., strict=True)`` of it into a fresh build reported no missing or
  unexpected keys.
- Boxes: their tracker class (``lib/test/tracker/uvltrack.py``, parameters as
  ``lib/test/parameter/uvltrack.py`` sets them) driven as ``lib/test/evaluation/tracker.py``
  drives it, on frames 1-30 of Crossing (``../shared/data/sequences/Crossing/img/0001.jpg``..
  ``0030.jpg``, ``cv2.imread`` then RGB) with ``init_bbox`` the first ground-truth box
  (205, 151, 17, 50) and ``language`` "a man in a black shirt crossing the street", once per
  ``TEST.MODE``: ``boxes_bbox.txt`` (BBOX), ``boxes_nlbbox.txt`` (NLBBOX), ``boxes_nl.txt``
  (NL: line 1 is the box their grounding found, their ``tracker.state`` after ``initialize``;
  their harness would write the ground truth there). One line per frame, the ``repr`` of the
  four floats of ``target_bbox``. In all three runs their ``max_score`` passed 0.5 by frame 20
  and the prompts were renewed there.
- ``config.json`` holds the same network in :class:`UVLTrackConfig` fields.

Our engine reproduces the BBOX run exactly (0.0 px) and the NLBBOX and NL runs to 8e-6 px: the
text goes through ``transformers``' BERT here and through their own copy of
pytorch-pretrained-bert there (LayerNorm and attention written differently); in BBOX mode the
words are hidden from the image, so BERT cannot matter. The test allows 0.05 px.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from costcore.boxes import Box  # noqa: E402
from costcore.engines import EngineError, available_engines, create_engine, engine_info  # noqa: E402
from costcore.engines.errors import CheckpointError  # noqa: E402
from costcore.engines.uvltrack import UVLTrackConfig, load_uvltrack  # noqa: E402
from costcore.engines.uvltrack.network import UVLTrackNet  # noqa: E402
from costcore.formats import read_sequence  # noqa: E402
from costcore.video import open_frame_source  # noqa: E402
from tests import engine_helpers as helpers  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "uvltrack"
CHECKPOINT = "UVLTrack_ep0300.pth.tar"
TEXT = "a man in a black shirt crossing the street"
TOLERANCE = 0.05  # pixels

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def reference(mode: str) -> np.ndarray:
    return helpers.reference_boxes(FIXTURE, mode)


def fixture_state() -> dict:
    return torch.load(FIXTURE / CHECKPOINT, weights_only=True)["net"]


@pytest.mark.parametrize(
    ("mode", "text", "box"),
    [("bbox", "", ...), ("nlbbox", TEXT, ...), ("nl", TEXT, None)],
    ids=["BBOX", "NLBBOX", "NL"],
)
def test_boxes_match_the_authors_tracker(crossing: Path, mode: str, text: str, box) -> None:
    expected = reference(mode)
    engine = create_engine("uvltrack", weights=FIXTURE, device="cpu")
    boxes, steps = helpers.track_sequence(engine, crossing, len(expected), text, box)
    assert expected.shape == (30, 4)
    helpers.assert_boxes_match(boxes, expected, TOLERANCE)
    first = steps[0]
    assert first.grounded == (mode == "nl")
    if mode == "nl":  # the box came from the sentence, with the engine's confidence
        assert 0.0 < first.result.score < 1.0 and "grounding" in first.result.timings_ms
    for step in steps[1:]:  # the confidence overlay's inputs
        result = step.result
        assert result.engine == "uvltrack" and 0.0 < result.score < 1.0
        assert result.score_map.shape == (16, 16) and result.score_map.dtype == np.float32
        assert result.score_map.min() >= 0.0 and result.score_map.max() <= 1.0
        assert np.isclose(result.score_map, result.score).any()  # the score is one of its cells
        assert result.search_region.w == result.search_region.h > 0
        assert {"crop", "network", "prediction", "total"} <= set(result.timings_ms)
    assert "template" in steps[1].result.timings_ms  # computed once, reported with frame 2
    assert ("language" in steps[1].result.timings_ms) == bool(text)


def test_the_modes_differ_and_bbox_mode_ignores_the_sentence(crossing: Path) -> None:
    """BBOX with a sentence given still tracks by the box alone; the modes are not the same."""
    ignoring = create_engine("uvltrack", weights=FIXTURE, device="cpu", mode="bbox")
    boxes, _ = helpers.track_sequence(ignoring, crossing, 30, TEXT)
    assert np.abs(boxes - reference("bbox")).max() <= TOLERANCE
    assert np.abs(reference("bbox") - reference("nlbbox")).max() > 1.0
    assert np.abs(reference("nlbbox")[1:] - reference("nl")[1:]).max() > 1.0

    strict = create_engine("uvltrack", weights=FIXTURE, device="cpu", mode="nlbbox")
    frame = np.full((64, 80, 3), 90, np.uint8)
    with pytest.raises(EngineError, match="needs a sentence"):
        strict.initialize(frame, Box(30, 20, 12, 10), "")
    with pytest.raises(EngineError, match="mode must be one of"):
        create_engine("uvltrack", weights=FIXTURE, device="cpu", mode="NL")


def test_the_prompts_are_renewed_at_frame_20(crossing: Path) -> None:
    """The authors renew the contrastive prompts from the best frame every 20 frames (the
    fixture's runs did, at frame 21); without the renewal the first 21 boxes stay the same and
    later ones do not, so the reference boxes check the renewal too."""
    engine = create_engine(
        "uvltrack", weights=FIXTURE, device="cpu", config={"update_interval": 999}
    )
    assert engine.config.embed_dim == 32  # the folder's config, one field overridden
    boxes, _ = helpers.track_sequence(engine, crossing, 30, TEXT)
    expected = reference("nlbbox")
    assert np.abs(boxes[:21] - expected[:21]).max() <= TOLERANCE
    assert np.abs(boxes[21:] - expected[21:]).max() > 10.0


def test_grounding_proposes_a_box_and_leaves_tracking_alone(crossing: Path) -> None:
    sequence = read_sequence(crossing)
    source = open_frame_source(sequence.frames[:8])
    try:
        frames = [source.frame(i) for i in range(8)]
    finally:
        source.close()
    engine = create_engine("uvltrack", weights=FIXTURE, device="cpu")
    found = engine.ground(frames[0], TEXT)
    assert np.abs(np.array(found.box) - reference("nl")[0]).max() <= TOLERANCE
    assert 0.0 < found.score < 1.0 and found.timings_ms["grounding"] > 0
    assert engine.ground(frames[0], TEXT).box == found.box  # a proposal, not a state

    engine.initialize(frames[0], Box(*sequence.boxes[0]), TEXT)
    boxes = []
    for index, frame in enumerate(frames[1:], 1):
        if index == 4:  # asking for a proposal mid-run changes nothing
            engine.ground(frame, "a white car on the road")
        boxes.append(tuple(engine.step(frame).box))
    assert np.abs(np.array(boxes) - reference("nlbbox")[1:8]).max() <= TOLERANCE
    with pytest.raises(EngineError, match="needs a sentence"):
        engine.ground(frames[0], "  ")


def test_default_network_has_the_authors_names_and_shapes() -> None:
    """The released UVLTrack-B configuration (BERT-base cut to 6 layers), built without memory."""
    from transformers import BertConfig, BertModel

    with torch.device("meta"):
        network = UVLTrackNet(UVLTrackConfig(), BertModel(BertConfig(num_hidden_layers=6)))
    state = network.state_dict()
    assert len(state) == 390
    expected = {
        "backbone.logit_scale": (),
        "backbone.vit.cls_token": (1, 1, 768),
        "backbone.vit.pos_embed_z": (1, 64, 768),
        "backbone.vit.pos_embed_x": (1, 256, 768),
        "backbone.vit.modal_embed": (2, 768),
        "backbone.vit.patch_embed.proj.weight": (768, 3, 16, 16),
        "backbone.vit.blocks.11.attn.qkv.weight": (2304, 768),
        "backbone.vit.blocks.11.mlp.fc2.weight": (768, 3072),
        "backbone.vit.norm.weight": (768,),
        "backbone.bert.embeddings.word_embeddings.weight": (30522, 768),
        "backbone.bert.encoder.layer.5.output.dense.weight": (768, 3072),
        "backbone.bert.pooler.dense.weight": (768, 768),
        "box_head.coodinate": (1, 2, 256),
        "box_head.conv_cls.0.0.weight": (256, 768, 3, 3),
        "box_head.conv_cls.3.1.running_var": (32,),
        "box_head.conv_cls.4.weight": (1, 32, 1, 1),
        "box_head.conv_bbox_grounding.4.weight": (2, 32, 1, 1),
        "box_head.prompter.kv.weight": (1536, 768),
        "box_head.prompter.query_embed.weight": (3, 768),
        "box_head.prompter.mlp.fc1.weight": (3072, 768),
    }
    assert {key: tuple(state[key].shape) for key in expected} == expected
    assert "backbone.bert.encoder.layer.6.output.dense.weight" not in state
    large = UVLTrackConfig.from_dict({"preset": "large"})
    assert (large.embed_dim, large.depth, large.text_layers, large.search_factor) == (
        1024, 24, 12, 5.0,
    )  # fmt: skip


def test_registered_and_listed() -> None:
    assert "uvltrack" in available_engines() and engine_info("uvltrack").can_ground
    with pytest.raises(EngineError, match="needs weights"):
        create_engine("uvltrack")
    with pytest.raises(EngineError, match="uvltrack"):
        create_engine("uvltrack", weights=FIXTURE, threshold=0.5)
    engine = create_engine("uvltrack", weights=FIXTURE, device="cpu")
    assert engine.name == "uvltrack" and engine.yields_score_map and engine.can_ground
    assert engine.describe().startswith(f"uvltrack (cpu) - {CHECKPOINT}: ViT 32x4")
    helpers.assert_refuses_to_step_or_start_badly(engine)


def test_a_bare_checkpoint_reads_bert_off_the_weights_and_without_a_tokenizer_tracks_boxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DataParallel ``module.`` prefix is removed; BERT's shape comes from the weights; with
    no tokenizer anywhere a box still works, a sentence is refused with the fix named."""
    import costcore.engines.uvltrack as uvl

    monkeypatch.setattr(uvl, "load_bert_tokenizer", lambda text_dir: None)  # no HF cache lookup
    bare = tmp_path / CHECKPOINT
    torch.save({"net": {f"module.{k}": v for k, v in fixture_state().items()}}, bare)
    engine = create_engine("uvltrack", weights=bare, device="cpu", config=FIXTURE / "config.json")
    assert engine.describe().endswith("no tokenizer: box only")
    frame = np.full((64, 80, 3), 90, np.uint8)
    with pytest.raises(EngineError, match="tokenizer"):
        engine.initialize(frame, Box(30, 20, 12, 10), "a red car")
    with pytest.raises(EngineError, match="tokenizer"):
        engine.ground(frame, "a red car")
    engine.initialize(frame, Box(30, 20, 12, 10), "")
    assert engine.step(frame).box.w > 0


def test_missing_and_corrupt_checkpoints_name_the_file(tmp_path: Path) -> None:
    truncated_pickle = b"\x80\x02}q\x00(X"
    helpers.assert_missing_and_corrupt_files_are_named(
        "uvltrack", tmp_path, CHECKPOINT, truncated_pickle
    )

    empty = tmp_path / "empty-folder"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="expected one UVLTrack checkpoint"):
        create_engine("uvltrack", weights=empty, device="cpu")
    with pytest.raises(CheckpointError, match="text model folder not found"):
        create_engine("uvltrack", weights=FIXTURE, device="cpu", text_model=tmp_path / "bert")
    bad_bert = tmp_path / "bad-bert"
    bad_bert.mkdir()
    (bad_bert / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError) as caught:
        create_engine("uvltrack", weights=FIXTURE, device="cpu", text_model=bad_bert)
    assert caught.value.path == bad_bert / "config.json"


def test_strict_loading_names_missing_unexpected_and_misshapen_tensors(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("*.tar", "boxes_*"))
    state = fixture_state()
    del state["box_head.prompter.mlp.fc2.bias"]
    state["box_head.extra.weight"] = torch.zeros(2)
    state["backbone.vit.norm.weight"] = torch.ones(33)
    torch.save({"net": state}, folder / CHECKPOINT)
    with pytest.raises(CheckpointError) as caught:
        load_uvltrack(folder)
    message = str(caught.value)
    assert str(folder / CHECKPOINT) in message
    assert "missing tensors: box_head.prompter.mlp.fc2.bias" in message
    assert "unexpected tensors: box_head.extra.weight" in message
    assert "backbone.vit.norm.weight (33,) != (32,)" in message

    # the released UVLTrack-B configuration does not fit the tiny weights: shapes are named
    (folder / "config.json").write_text(f'{{"weights": "{CHECKPOINT}"}}')
    torch.save({"net": fixture_state()}, folder / CHECKPOINT)
    with pytest.raises(CheckpointError, match="wrong shapes"):
        load_uvltrack(folder)
    with pytest.raises(CheckpointError, match="unknown UVLTrack config fields: colour"):
        load_uvltrack(FIXTURE, config={"colour": "red"})
    with pytest.raises(CheckpointError, match="fusion_layers must be the last blocks"):
        load_uvltrack(FIXTURE, config={"fusion_layers": [1, 3]})


def test_foreign_objects_are_inert_and_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "like-a-training-save"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("*.tar", "boxes_*"))
    helpers.save_like_a_training_run(folder / CHECKPOINT, "net", fixture_state(), marker)
    network, tokenizer, summary = load_uvltrack(folder)
    assert isinstance(network, UVLTrackNet) and tokenizer is not None and CHECKPOINT in summary
    assert not marker.exists()
    helpers.assert_code_in_a_pickle_never_runs(
        "uvltrack", "net", tmp_path, config=FIXTURE / "config.json"
    )


def test_track_cli_box_and_sentence_modes(
    crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Crossing has no description: its first box alone (BBOX); a folder of frames with only a
    sentence is grounded first (NL)."""
    from tests.test_cli_track import run_track

    weights = ["--engine", "uvltrack", "--weights", str(FIXTURE), "--device", "cpu"]
    out = tmp_path / "Crossing.txt"
    assert run_track("--sequence", str(crossing), *weights, "--out", str(out),
                     "--max-frames", "30") == 0  # fmt: skip
    assert np.abs(np.loadtxt(out, delimiter=",") - reference("bbox")).max() <= TOLERANCE + 0.0005
    assert "uvltrack (cpu)" in capsys.readouterr().out

    out = tmp_path / "found.txt"
    assert run_track("--frames", str(crossing / "img"), "--text", TEXT, *weights,
                     "--out", str(out), "--max-frames", "30") == 0  # fmt: skip
    assert np.abs(np.loadtxt(out, delimiter=",") - reference("nl")).max() <= TOLERANCE + 0.0005
    printed = capsys.readouterr().out
    assert "target found from the sentence" in printed


def test_run_cli(tmp_path: Path) -> None:
    lines = helpers.run_cli_on_a_square(tmp_path, "uvltrack", FIXTURE, 4)
    assert len(lines) == 4 and lines[0] == "8.000,16.000,12.000,12.000"


def test_a_bare_1024_wide_checkpoint_is_uvltrack_large(tmp_path: Path) -> None:
    """The released UVLTrack-L file has no config beside it: its width says which it is."""
    import costcore.engines.uvltrack as uvl
    from costcore.engines.checkpoint_files import CheckpointLocation

    bare = CheckpointLocation(tmp_path / CHECKPOINT, None, {}, None)
    wide = {uvl.PATCH_EMBED: torch.empty(1024, 3, 16, 16)}
    large = uvl._config(bare, None, wide)
    assert (large.embed_dim, large.depth, large.fusion_layers[0], large.search_factor) == (
        1024, 24, 12, 5.0,
    )  # fmt: skip
    base = uvl._config(bare, None, {uvl.PATCH_EMBED: torch.empty(768, 3, 16, 16)})
    assert (base.embed_dim, base.search_factor) == (768, 4.0)
    explicit = {"depth": 24, "fusion_layers": list(range(12, 24))}  # a config wins
    assert uvl._config(bare, explicit, wide).embed_dim == 768
