"""The All-in-One engine reproduces the authors' tracker, box for box, on a real sequence.

How ``tests/fixtures/allinone/`` was made (outside the project; none of the authors' code, and
no script that builds it, is part of the project):

- Code: github.com/983632847/All-in-One at commit ab786d2584c698d80414e47d72461814a1c348c2
  (``git archive`` of ``lib/`` and ``experiments/``), run with Python 3.11, torch 2.14.1 (CPU),
  timm 0.9.10, transformers 4.30.2, opencv-python-headless 5.0.0.93, numpy 2.4.6, in a
  throw-away virtual environment. ``.cuda()`` was made a no-op (CPU run); ``visdom`` and
  ``tensorboardX`` were stubbed; ``BertTokenizer.from_pretrained`` returned a tokenizer over a
  tiny vocabulary with bert-base-uncased's layout ([PAD] 0, [unused0..98], [UNK] 100,
  [CLS] 101, [SEP] 102, [MASK] 103, then 34 words: 138 tokens). No download.
- Configuration: ``experiments/ostrack/vitb_256_mae_ce_32x4_ep300.yaml`` (template 128 px at
  factor 2, search 256 px at factor 4, stride 16, CENTER head, CE_TEMPLATE_RANGE CTR_POINT)
  with a tiny network: their ``vit_base_patch16_224_ce`` replaced by their own
  ``_create_vision_transformer(patch_size=16, embed_dim=32, depth=5, num_heads=4)``,
  ``CE_LOC [1, 2, 3]``, ``CE_KEEP_RATIO [0.7, 0.7, 0.7]``, ``HEAD.NUM_CHANNELS 32``. Widths
  their code hard-codes were replaced by text substitution: 768 -> 32 (``language_proj``, the
  two ``reshape(-1,1,768)``, ``BertConfig(hidden_size)`` and ``view([-1, 768, 1, 1])``), the
  alignment projections' output 256 -> 16, ``BertConfig(vocab_size)`` 30522 -> 138.
- Weights: ``torch.manual_seed(20250601)``, their ``build_ostrack(cfg, training=False)``; then
  each floating tensor of the state dict, in order, with ``torch.Generator().manual_seed(
  20250602)`` and n = standard normal noise: BatchNorm running_var := 0.5 + U(0, 1),
  running_mean := 0.1 n, other 1-D tensors += 0.05 n, the rest += 0.2 std n; finally
  ``box_head.conv5_size.bias := log(1/3)`` (sizes near a quarter of the search region).
  Saved as their checkpoints are: ``torch.save({"net": state_dict, "epoch": 300,
  "net_type": "OSTrack", "actor_type": "OSTrackActor"}, "allinone_tiny.pth")`` (172 tensors,
  323,553 values; transformers 4.30 also saves ``language_embeddings.position_ids``).
- Boxes: their tracker class (``lib/test/tracker/ostrack.py``, parameters from the yaml's TEST
  section) loaded that file itself (no missing or unexpected keys), ran on frames 1-25 of
  Crossing (``../shared/data/sequences/Crossing/img/0001.jpg``..``0025.jpg``, read with
  ``cv2.imread`` and converted to RGB) from the first ground-truth box (205, 151, 17, 50).
  ``boxes_text.txt``: language "a man in a black shirt crossing the street", CTR_POINT;
  ``boxes_notext.txt``: language None, CE_TEMPLATE_RANGE GT_BOX. One line per frame, the
  ``repr`` of the four floats of ``target_bbox``; line 1 is the initial box.
- ``config.json`` holds the same network in :class:`AllInOneConfig` fields.

Our engine reproduces both runs exactly (0.0 px) on the CPU; the test allows 0.05 px.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from costcore.engines import EngineError, available_engines, create_engine  # noqa: E402
from costcore.engines.allinone import AllInOneConfig, load_allinone  # noqa: E402
from costcore.engines.allinone.network import AllInOneNet  # noqa: E402
from costcore.engines.errors import CheckpointError  # noqa: E402
from tests import engine_helpers as helpers  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "allinone"
TEXT = "a man in a black shirt crossing the street"
TOLERANCE = 0.05  # pixels

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def reference(run: str) -> np.ndarray:
    return helpers.reference_boxes(FIXTURE, run)


@pytest.mark.parametrize(
    ("run", "text", "config"),
    [("text", TEXT, None), ("notext", "", {"ce_template_range": "GT_BOX"})],
)
def test_boxes_match_the_authors_tracker(crossing: Path, run: str, text: str, config) -> None:
    expected = reference(run)
    engine = create_engine("allinone", weights=FIXTURE, device="cpu", config=config)
    boxes, steps = helpers.track_sequence(engine, crossing, len(expected), text)
    assert expected.shape == (25, 4)
    helpers.assert_boxes_match(boxes, expected, TOLERANCE)
    for result in (step.result for step in steps[1:]):  # the confidence overlay's inputs
        assert result.engine == "allinone" and 0.0 < result.score < 1.0
        assert result.score_map.shape == (16, 16) and result.score_map.dtype == np.float32
        assert result.search_region.w == result.search_region.h > 0
        assert {"crop", "network", "prediction", "total"} <= set(result.timings_ms)


def test_the_words_do_not_matter_only_whether_there_are_any(crossing: Path) -> None:
    """All-in-One embeds only the [CLS] token: any description gives the same boxes."""
    runs = []
    for text in (TEXT, "white airplane", ""):
        engine = create_engine("allinone", weights=FIXTURE, device="cpu")
        runs.append(helpers.track_sequence(engine, crossing, 6, text)[0])
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_default_network_has_the_authors_names_and_shapes() -> None:
    """The released ViT-B configuration, built without memory, against the authors' shapes."""
    with torch.device("meta"):
        state = AllInOneNet(AllInOneConfig()).state_dict()
    assert len(state) == 255  # the authors' model has 256 with language_embeddings.position_ids
    expected = {
        "backbone.cls_token": (1, 1, 768),
        "backbone.pos_embed": (1, 197, 768),
        "backbone.pos_embed_z": (1, 64, 768),
        "backbone.pos_embed_x": (1, 256, 768),
        "backbone.patch_embed.proj.weight": (768, 3, 16, 16),
        "backbone.blocks.11.attn.qkv.weight": (2304, 768),
        "backbone.blocks.11.mlp.fc1.weight": (3072, 768),
        "backbone.language_proj.weight": (768, 768),
        "backbone.language_xz_proj.weight": (256, 768),
        "backbone.vision_x_proj.weight": (256, 256 * 768),
        "backbone.vision_z_proj.weight": (256, 64 * 768),
        "box_head.conv1_ctr.0.weight": (256, 768, 3, 3),
        "box_head.conv4_size.1.running_var": (32,),
        "box_head.conv5_offset.weight": (2, 32, 1, 1),
        "language_embeddings.word_embeddings.weight": (30522, 768),
        "language_embeddings.position_embeddings.weight": (40, 768),
        "language_embeddings.LayerNorm.bias": (768,),
    }
    assert {key: tuple(state[key].shape) for key in expected} == expected


def test_registered_and_listed() -> None:
    assert "allinone" in available_engines()
    with pytest.raises(EngineError, match="needs weights"):
        create_engine("allinone")
    with pytest.raises(EngineError, match="allinone"):
        create_engine("allinone", weights=FIXTURE, threshold=0.5)
    engine = create_engine("allinone", weights=FIXTURE, device="cpu")
    assert engine.name == "allinone" and engine.yields_score_map and engine.device == "cpu"
    assert engine.describe().startswith("allinone (cpu) - allinone_tiny.pth")
    helpers.assert_refuses_to_step_or_start_badly(engine)


def test_missing_and_corrupt_checkpoints_name_the_file(tmp_path: Path) -> None:
    helpers.assert_missing_and_corrupt_files_are_named(
        "allinone", tmp_path, "OSTrack_ep0300.pth.tar", b"PK\x03\x04 not really a checkpoint"
    )

    empty = tmp_path / "empty-folder"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="expected one All-in-One checkpoint"):
        create_engine("allinone", weights=empty, device="cpu")


def test_strict_loading_names_missing_unexpected_and_misshapen_tensors(tmp_path: Path) -> None:
    state = torch.load(FIXTURE / "allinone_tiny.pth", weights_only=True)["net"]
    del state["box_head.conv5_ctr.bias"]
    state["backbone.extra_token"] = torch.zeros(3)
    state["backbone.norm.weight"] = torch.ones(33)
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text((FIXTURE / "config.json").read_text())
    torch.save({"net": state}, folder / "allinone_tiny.pth")
    with pytest.raises(CheckpointError) as caught:
        load_allinone(folder)
    message = str(caught.value)
    assert str(folder / "allinone_tiny.pth") in message
    assert "missing tensors: box_head.conv5_ctr.bias" in message
    assert "unexpected tensors: backbone.extra_token" in message
    assert "backbone.norm.weight (33,) != (32,)" in message

    # the released ViT-B configuration does not fit the tiny weights: shapes are named
    (folder / "config.json").write_text('{"weights": "allinone_tiny.pth"}')
    with pytest.raises(CheckpointError, match="wrong shapes"):
        load_allinone(folder)
    with pytest.raises(CheckpointError, match="'colour': is not a field of the All-in-One config"):
        load_allinone(FIXTURE, config={"colour": "red"})


def test_foreign_objects_are_inert_and_code_is_never_run(tmp_path: Path) -> None:
    state = torch.load(FIXTURE / "allinone_tiny.pth", weights_only=True)["net"]
    marker = tmp_path / "pwned"
    real_like = tmp_path / "with-settings.pth.tar"
    helpers.save_like_a_training_run(real_like, "net", state, marker)
    network, summary = load_allinone(real_like, config=FIXTURE / "config.json")
    assert isinstance(network, AllInOneNet) and "with-settings.pth.tar" in summary
    assert not marker.exists()
    helpers.assert_code_in_a_pickle_never_runs(
        "allinone", "net", tmp_path, config=FIXTURE / "config.json"
    )


def test_track_cli(crossing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_cli_track import run_track

    out = tmp_path / "Crossing.txt"
    args = ["--sequence", str(crossing), "--engine", "allinone", "--weights", str(FIXTURE)]
    args += ["--text", TEXT, "--device", "cpu", "--out", str(out), "--max-frames", "25"]
    assert run_track(*args) == 0
    boxes = np.loadtxt(out, delimiter=",")
    assert np.abs(boxes - reference("text")).max() <= TOLERANCE + 0.0005  # %.3f in the file
    assert "allinone (cpu)" in capsys.readouterr().out


def test_run_cli(tmp_path: Path) -> None:
    lines = helpers.run_cli_on_a_square(tmp_path, "allinone", FIXTURE, 5)
    assert len(lines) == 5 and lines[0] == "8.000,16.000,12.000,12.000"
