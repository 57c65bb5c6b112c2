"""Parameter counts of the default (paper-size) model, built on the meta device (no memory)."""

from __future__ import annotations

import pytest
import torch

from costcore.model import COSTConfig, COSTModel, count_parameters
from costcore.model.cost import PAPER_PARAMETERS_M
from costcore.model.testing import write_tiny_vocab


@pytest.fixture(scope="module")
def counts(tmp_path_factory) -> dict[str, int]:
    from transformers import BertConfig

    vocab = write_tiny_vocab(tmp_path_factory.mktemp("vocab"))
    config = COSTConfig(
        text_encoder=None, text_encoder_config=BertConfig().to_dict(), tokenizer=str(vocab)
    )
    with torch.device("meta"):
        model = COSTModel.from_config(config)
    return count_parameters(model)


def test_total_is_close_to_the_paper(counts: dict[str, int]) -> None:
    total_m = counts["total"] / 1e6
    assert total_m == pytest.approx(PAPER_PARAMETERS_M["total"], rel=0.01)
    assert counts["total"] == sum(
        counts[k]
        for k in (
            "backbone",
            "input_proj",
            "featurefusion_network",
            "visual_token_convs",
            "head",
            "text_encoder",
            "alignment",
            "vl_transformer",
        )
    )


def test_components(counts: dict[str, int]) -> None:
    assert counts["text_encoder"] == 108_891_648  # BERT-base without its pooler
    transt = counts["backbone"] + counts["input_proj"] + counts["featurefusion_network"]
    transt += counts["head"]
    assert transt == 23_016_006  # TransT-R50 parameters (BatchNorm buffers not counted)
    assert counts["visual_token_convs"] == 3 * (256 * 256 * 25 + 256)
    assert counts["paper_visual"] / 1e6 == pytest.approx(PAPER_PARAMETERS_M["visual"], rel=0.06)
    assert counts["paper_fusion"] / 1e6 == pytest.approx(PAPER_PARAMETERS_M["fusion"], rel=0.2)


def test_transt_alone() -> None:
    with torch.device("meta"):
        model = COSTModel(COSTConfig.transt())
    counts = count_parameters(model)
    assert counts["total"] == 23_016_006 and counts["text_encoder"] == 0
