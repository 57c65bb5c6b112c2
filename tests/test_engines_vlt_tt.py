"""The VLT_TT engine reproduces the authors' tracker, box for box, on a real sequence.

How ``tests/fixtures/vlt_tt/`` was made (outside the project; none of the authors' code, and no
script that builds it, is part of the project):

- Code: github.com/JudasDie/SOTS at commit 3a6af0d17dd80a8d130d1c3f51cf496a89441694
  (``git archive`` of ``lib/`` and ``experiments/``), run with Python 3.11, torch 2.14.1 (CPU),
  torchvision 0.29.1 (its ``roi_align``), transformers 4.30.2, opencv-python-headless 5.0.0.93,
  numpy 2.4.6, in a throw-away virtual environment. ``.cuda()`` (tensors, modules, storages)
  was made a no-op and ``torch.cuda.current_device`` returned 0 (CPU run); ``wandb`` stubbed.
- Text model: a tiny random BERT made there, ``torch.manual_seed(20250602)``, then
  ``BertModel(BertConfig(vocab_size=138, hidden_size=32, num_hidden_layers=2,
  num_attention_heads=4, intermediate_size=64, max_position_embeddings=64))``, saved with
  ``save_pretrained``; the vocabulary has bert-base-uncased's layout ([PAD] 0, [unused0..98],
  [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, then 34 words). Their ``load_nlp`` got it through
  stubbed ``BertModel.from_pretrained`` / ``BertTokenizer.from_pretrained`` (no download).
  ``bert/`` keeps its ``config.json`` and ``vocab.txt`` (the weights are in the checkpoint).
- Configuration: ``experiments/VLT_TT.yaml`` (its ``MODEL.CAND`` path, template 128, search
  256, stride 8, sine positions, asymmetrical Trans_Fuse, TransInMoHead of 3 layers) with a tiny
  network: ``NECK.HIDDEN_DIM 32, NHEAD 4, DIM_FEEDFORWARD 64, LAYER_NUM 2``, ``POS.DIM 32``,
  ``HEAD.IN_CHANNEL/MID_CHANNEL 32``, ``BACKBONE.CHANNEL 40``. Widths their code hard-codes in
  ``lib/models/backbone/SPOS_VLT.py`` were replaced by text substitution: ``stage_out_channels``
  ``[-1, 16, 64, 160, 320, 640, 1024]`` -> ``[-1, 8, 16, 24, 32, 40, 16]``, the
  ``vistoken_layers`` and ``token_map`` widths 64/160/320/640 -> 16/24/32/40, BERT's width
  768 -> 32 (``token_map`` inputs and the ``reshape`` in ``forward_nlp``).
- Weights: ``torch.manual_seed(20250602)``, their ``Siamese_builder(config).build()`` and
  ``backbone.load_nlp()`` (``backbone.nas(...)`` skipped: it loads a supernet file that the
  tracker checkpoint overwrites anyway); then each floating tensor of the state dict, in order,
  with ``torch.Generator().manual_seed(20250603)`` and n = standard normal noise: BatchNorm
  running_var := 0.5 + U(0, 1), running_mean := 0.1 n, other 1-D tensors += 0.05 n, the rest
  += 0.2 std n; finally the last ``head.bbox_embed`` bias := (0, 0, log(1/3), log(1/3)). Saved
  as their training saves: ``torch.save({"epoch": 20, "arch": "VLT_TT", "state_dict":
  state_dict}, "VLT_TT_tiny.pth")`` (1,744 tensors, BERT's included, 228,632 values).
- Boxes: their ``load_pretrain`` (strict) into a fresh build, their ``SiamTracker`` driven as
  ``tracking/test_sot.py`` drives it (``cxy_wh_2_rect`` of the returned state), on frames
  1-25 of Crossing (``../shared/data/sequences/Crossing/img/0001.jpg``..``0025.jpg``,
  ``cv2.imread`` then RGB) from the first ground-truth box (205, 151, 17, 50), with
  ``nas_list_z/x = CAND[0]/CAND[1]`` and ``nas_list_nlp = CAND[2:]``.
  ``boxes_text.txt``: ``TEST.DATA`` OTB2015 (penalty_k 0.147, lr 0.699, window 0.49), phrase
  ["a man in a black shirt crossing the street"]; ``boxes_notext.txt``: LASOTTEST (penalty_k
  0, lr 1, window 0.49), phrase None (visual tokens). One line per frame, ``repr`` floats;
  line 1 is the initial box.
- ``config.json`` holds the same network in :class:`VLTTTConfig` fields (benchmark LASOTTEST).

Our engine reproduces the visual-token run exactly and the language run to 3e-5 px (BERT is
transformers 5 here, 4.30 there); the test allows 0.05 px.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from costcore.boxes import Box  # noqa: E402
from costcore.engines import EngineError, available_engines, create_engine  # noqa: E402
from costcore.engines.errors import CheckpointError  # noqa: E402
from costcore.engines.vlt_tt import VLTTTConfig, load_vlt_tt  # noqa: E402
from costcore.engines.vlt_tt.network import VLTTTNet  # noqa: E402
from tests import engine_helpers as helpers  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "vlt_tt"
TEXT = "a man in a black shirt crossing the street"
TOLERANCE = 0.05  # pixels

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def reference(run: str) -> np.ndarray:
    return helpers.reference_boxes(FIXTURE, run)


@pytest.mark.parametrize(
    ("run", "text", "benchmark"), [("text", TEXT, "OTB2015"), ("notext", "", "LASOTTEST")]
)
def test_boxes_match_the_authors_tracker(crossing: Path, run: str, text: str, benchmark: str):
    expected = reference(run)
    engine = create_engine("vlt_tt", weights=FIXTURE, device="cpu", benchmark=benchmark)
    boxes, steps = helpers.track_sequence(engine, crossing, len(expected), text)
    assert expected.shape == (25, 4)
    helpers.assert_boxes_match(boxes, expected, TOLERANCE)
    results = [step.result for step in steps[1:]]
    for result in results:  # the confidence overlay's inputs
        assert result.engine == "vlt_tt" and 0.0 < result.score < 1.0
        assert result.score_map.shape == (32, 32) and result.score_map.dtype == np.float32
        assert result.search_region.w == result.search_region.h > 0
        assert {"crop", "network", "total"} <= set(result.timings_ms)
    assert "template" in results[0].timings_ms  # computed once, reported with frame 2
    assert ("language" in results[0].timings_ms) == bool(text)


def test_default_network_has_the_authors_names_and_shapes() -> None:
    """The released configuration with BERT-base, built without memory."""
    from transformers import BertConfig, BertModel

    config = BertConfig()  # bert-base-uncased's shape
    with torch.device("meta"):
        state = VLTTTNet(VLTTTConfig(), BertModel(config), 768).state_dict()
    assert len(state) == 1951  # the authors' has 1952 with bert_model.embeddings.position_ids
    body = "backbone.0.body."
    expected = {
        body + "first_conv.0.weight": (16, 3, 3, 3),
        body + "features.0.0.branch_main.0.weight": (32, 16, 1, 1),
        body + "features.0.3.branch_proj.0.weight": (16, 1, 3, 3),
        body + "features.19.2.branch_main.3.weight": (320, 1, 7, 7),
        body + "features.16.3.branch_main.12.weight": (320, 320, 1, 1),
        body + "nlp_layers.3.1.branch_main.3.weight": (320, 1, 5, 5),
        body + "vistoken_layers.3.0.weight": (640, 640, 3, 3),
        body + "token_map.0.0.weight": (64, 768, 1, 1),
        body + "conv_last.0.weight": (1024, 640, 1, 1),
        body + "classifier.0.weight": (1000, 1024),
        body + "bert_model.pooler.dense.weight": (768, 768),
        "neck.input_proj.weight": (256, 640, 1, 1),
        "neck.input_proj_copy.weight": (256, 640, 1, 1),
        "neck.encoder.layers.3.self_attn1.attn.fc.weight": (256, 256),
        "neck.encoder.layers.3.linear11.weight": (2048, 256),
        "neck.decoder.layers.0.multihead_attn.attn.fc.weight": (256, 256),
        "neck.decoder.norm.weight": (256,),
        "head.class_embed.layers.2.weight": (2, 256),
        "head.bbox_embed.layers.2.weight": (4, 256),
    }
    assert {key: tuple(state[key].shape) for key in expected} == expected


def test_registered_and_listed() -> None:
    assert "vlt_tt" in available_engines()
    with pytest.raises(EngineError, match="needs weights"):
        create_engine("vlt_tt")
    with pytest.raises(EngineError, match="unknown benchmark"):
        create_engine("vlt_tt", weights=FIXTURE, device="cpu", benchmark="NOPE")
    engine = create_engine("vlt_tt", weights=FIXTURE, device="cpu")
    assert engine.name == "vlt_tt" and engine.yields_score_map and engine.device == "cpu"
    assert engine.describe().startswith("vlt_tt (cpu) - VLT_TT_tiny.pth")
    assert (engine.config.penalty_k, engine.config.lr) == (0.0, 1.0)  # LaSOT's, from config.json
    # SOTS does not ask the first box to overlap the frame
    helpers.assert_refuses_to_step_or_start_badly(engine, outside=False)


def test_authors_prefixes_load_and_without_a_tokenizer_text_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DataParallel ``module.`` prefix is removed as the authors' loader does; a bare file
    takes BERT's shape from the weights; without a tokenizer only visual tokens work."""
    import costcore.engines.vlt_tt as vlt

    monkeypatch.setattr(vlt, "load_bert_tokenizer", lambda text_dir: None)  # no HF cache lookup
    state = torch.load(FIXTURE / "VLT_TT_tiny.pth", weights_only=True)["state_dict"]
    bare = tmp_path / "VLT_TT.pth"
    torch.save({f"module.{key}": value for key, value in state.items()}, bare)
    config = {
        k: v for k, v in VLTTTConfig.from_json_file(FIXTURE / "config.json").to_dict().items()
    }
    config["text_heads"] = 4  # not in the weights; bert-base's 12 would be hidden // 64
    engine = create_engine("vlt_tt", weights=bare, device="cpu", config=config)
    frame = np.full((64, 80, 3), 90, np.uint8)
    with pytest.raises(EngineError, match="tokenizer"):
        engine.initialize(frame, Box(30, 20, 12, 10), "a red car")
    engine.initialize(frame, Box(30, 20, 12, 10), "")
    assert engine.step(frame).box.w > 0


def test_missing_and_corrupt_checkpoints_name_the_file(tmp_path: Path) -> None:
    truncated_pickle = b"\x80\x02}q\x00(X"
    helpers.assert_missing_and_corrupt_files_are_named(
        "vlt_tt", tmp_path, "VLT_TT.pth", truncated_pickle
    )

    no_text_model = tmp_path / "folder"
    no_text_model.mkdir()
    (no_text_model / "config.json").write_text('{"text_model": "nowhere"}')
    with pytest.raises(CheckpointError, match="expected one VLT_TT checkpoint"):
        create_engine("vlt_tt", weights=no_text_model, device="cpu")
    with pytest.raises(CheckpointError, match="text model folder not found"):
        create_engine("vlt_tt", weights=FIXTURE, device="cpu", text_model=tmp_path / "bert")


def test_strict_loading_names_missing_unexpected_and_misshapen_tensors(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("*.pth", "boxes_*"))
    state = torch.load(FIXTURE / "VLT_TT_tiny.pth", weights_only=True)["state_dict"]
    del state["neck.decoder.norm.bias"]
    state["neck.extra.weight"] = torch.zeros(2)
    state["head.class_embed.layers.2.bias"] = torch.zeros(3)
    torch.save({"state_dict": state}, folder / "VLT_TT_tiny.pth")
    with pytest.raises(CheckpointError) as caught:
        load_vlt_tt(folder)
    message = str(caught.value)
    assert str(folder / "VLT_TT_tiny.pth") in message
    assert "missing tensors: neck.decoder.norm.bias" in message
    assert "unexpected tensors: neck.extra.weight" in message
    assert "head.class_embed.layers.2.bias (3,) != (2,)" in message


def test_foreign_objects_are_inert_and_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    state = torch.load(FIXTURE / "VLT_TT_tiny.pth", weights_only=True)["state_dict"]
    folder = tmp_path / "like-a-training-save"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("*.pth", "boxes_*"))
    helpers.save_like_a_training_run(folder / "VLT_TT_tiny.pth", "state_dict", state, marker)
    network, tokenizer, _ = load_vlt_tt(folder)
    assert isinstance(network, VLTTTNet) and tokenizer is not None
    assert not marker.exists()
    helpers.assert_code_in_a_pickle_never_runs("vlt_tt", "state_dict", tmp_path)


def test_track_cli(crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Crossing has no description: the folder's LaSOT settings and visual tokens."""
    from tests.test_cli_track import run_track

    out = tmp_path / "Crossing.txt"
    args = ["--sequence", str(crossing), "--engine", "vlt_tt", "--weights", str(FIXTURE)]
    args += ["--device", "cpu", "--out", str(out), "--max-frames", "25"]
    assert run_track(*args) == 0
    boxes = np.loadtxt(out, delimiter=",")
    assert np.abs(boxes - reference("notext")).max() <= TOLERANCE + 0.0005  # %.3f in the file
    assert "vlt_tt (cpu)" in capsys.readouterr().out


def test_run_cli(tmp_path: Path) -> None:
    lines = helpers.run_cli_on_a_square(tmp_path, "vlt_tt", FIXTURE, 4)
    assert len(lines) == 4 and lines[0] == "8.000,16.000,12.000,12.000"
