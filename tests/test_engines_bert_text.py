"""BERT as VLT_TT's and UVLTrack's text model: its folder, its config, its token ids.

The engines' own tests load the real fixtures through these; here are the cases a fixture
does not reach: a config naming a folder outside the weights, sizes past the bounds, a
checkpoint missing one of BERT's embedding tensors, and the exact token layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from costcore.engines.bert_text import (  # noqa: E402
    bert_config,
    bert_token_ids,
    load_bert_tokenizer,
    text_model_folder,
)
from costcore.engines.checkpoint_files import locate_checkpoint  # noqa: E402
from costcore.engines.errors import CheckpointError  # noqa: E402

UVLTRACK = Path(__file__).parent / "fixtures" / "uvltrack"
PREFIX = "text."


def bert_state(hidden: int = 32, layers: int = 2) -> dict[str, torch.Tensor]:
    """The tensors BERT's shape is read from (shapes only; values do not matter)."""
    state = {
        PREFIX + "embeddings.word_embeddings.weight": torch.zeros(138, hidden),
        PREFIX + "embeddings.position_embeddings.weight": torch.zeros(64, hidden),
        PREFIX + "embeddings.token_type_embeddings.weight": torch.zeros(2, hidden),
    }
    for layer in range(layers):
        key = f"{PREFIX}encoder.layer.{layer}.intermediate.dense.weight"
        state[key] = torch.zeros(3 * hidden, hidden)
    return state


def weights_folder(tmp_path: Path, config: dict) -> Path:
    folder = tmp_path / "weights"
    folder.mkdir(parents=True)
    (folder / "tracker.pth").write_bytes(b"")
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_the_text_folder_is_beside_the_weights_and_never_outside(tmp_path: Path) -> None:
    location = locate_checkpoint(UVLTRACK, "UVLTrack")
    assert text_model_folder(location, None) == UVLTRACK / "bert"
    assert text_model_folder(location, UVLTRACK / "bert") == UVLTRACK / "bert"
    without = locate_checkpoint(weights_folder(tmp_path, {}), "X")
    assert text_model_folder(without, None) is None  # no bert/ there: tokenizer from the cache
    escaping = weights_folder(tmp_path / "b", {"text_model": "../bert"})
    with pytest.raises(CheckpointError, match="'text_model': must name something inside") as caught:
        text_model_folder(locate_checkpoint(escaping, "X"), None)
    assert caught.value.path == escaping / "config.json"


def test_the_config_is_read_off_the_weights_or_the_folder() -> None:
    config = bert_config(bert_state(layers=2), PREFIX, None, Path("w.pth"))
    sizes = (config.vocab_size, config.hidden_size, config.num_hidden_layers)
    assert sizes == (138, 32, 2)
    assert (config.intermediate_size, config.max_position_embeddings) == (96, 64)
    assert config.num_attention_heads == 1 and config._attn_implementation == "eager"
    assert bert_config(bert_state(), PREFIX, None, Path("w.pth"), heads=4).num_attention_heads == 4
    folder = bert_config({}, PREFIX, UVLTRACK / "bert", Path("w.pth"), layers=2)
    assert (folder.num_hidden_layers, folder.num_attention_heads, folder.hidden_size) == (2, 4, 32)


def test_missing_or_oversized_berts_are_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=r"no BERT weights \(text\.\*\)"):
        bert_config({}, PREFIX, None, Path("w.pth"))
    state = bert_state()
    del state[PREFIX + "embeddings.position_embeddings.weight"]
    with pytest.raises(CheckpointError, match="no text.embeddings.position_embeddings.weight"):
        bert_config(state, PREFIX, None, Path("w.pth"))
    with pytest.raises(CheckpointError, match="num_hidden_layers"):
        bert_config(bert_state(layers=0), PREFIX, None, Path("w.pth"))

    huge = tmp_path / "huge"
    huge.mkdir()
    (huge / "config.json").write_text(json.dumps({"hidden_size": 10**6}))
    with pytest.raises(CheckpointError, match="hidden_size") as caught:
        bert_config({}, PREFIX, huge, Path("w.pth"))
    assert caught.value.path == huge / "config.json"


def test_token_ids_are_cls_pieces_sep_then_zeros() -> None:
    tokenizer = load_bert_tokenizer(UVLTRACK / "bert")
    ids, mask = bert_token_ids(tokenizer, "a man crossing", 8, torch.device("cpu"))
    pieces = tokenizer.convert_tokens_to_ids(tokenizer.tokenize("a man crossing"))
    assert len(pieces) == 3 and ids.dtype == mask.dtype == torch.long
    assert ids.tolist() == [[101, *pieces, 102, 0, 0, 0]]
    assert mask.tolist() == [[1, 1, 1, 1, 1, 0, 0, 0]]
    cut, cut_mask = bert_token_ids(tokenizer, "a man crossing", 4, torch.device("cpu"))
    assert cut.tolist() == [[101, *pieces[:2], 102]] and cut_mask.tolist() == [[1, 1, 1, 1]]
