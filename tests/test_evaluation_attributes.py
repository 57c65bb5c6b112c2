"""Per-attribute scores: the toolkit's zero-padded average and the standard mean."""

from __future__ import annotations

import numpy as np
import pytest

from costcore.evaluation import (
    ATTRIBUTE_GROUPS,
    METRIC_NAMES,
    GroundTruth,
    Prediction,
    evaluate_tracker,
)

GT = [50.0, 50.0, 20.0, 20.0]


def attributes(bri: int, length: int, nao: int, fm: int) -> list[int]:
    values = [0] * 17
    values[10], values[12], values[13], values[16] = nao, bri, fm, length
    return values


def make_report(with_attributes: bool = True):
    rng = np.random.default_rng(7)
    gts, preds = [], {}
    for index in range(9):
        n = 5 + index
        gt = np.tile(GT, (n, 1))
        pred = gt + rng.normal(0, 6, gt.shape)
        values = attributes(index % 3, (index // 3) % 3, index % 2, int(index in (1, 4)))
        name = f"seq{index}"
        gts.append(GroundTruth(name, gt, np.zeros(n, bool), values if with_attributes else None))
        preds[name] = Prediction.from_boxes(pred)
    return evaluate_tracker("T", gts, preds), gts


def test_groups_follow_the_toolkit_order():
    assert [group.key for group in ATTRIBUTE_GROUPS] == [
        "CM", "VC", "PO", "FO", "OV", "ROT", "DEF", "SD", "IV", "MB",
        "NAO=natural", "NAO=artificial", "PTI", "BRI=low", "BRI=medium", "BRI=high",
        "FM", "SV", "ARV", "LEN=short", "LEN=medium", "LEN=long",
    ]  # fmt: skip


@pytest.mark.parametrize("partition", ["BRI", "LEN", "NAO"])
def test_toolkit_scores_of_a_partition_add_up_to_the_overall_score(partition):
    report, _ = make_report()
    toolkit = report.per_attribute["toolkit"]
    keys = [key for key in toolkit if key.startswith(partition + "=")]
    assert len(keys) in (2, 3)
    assert sum(toolkit[key]["sequences"] for key in keys) == 9
    for metric in METRIC_NAMES:
        total = sum(toolkit[key][metric] for key in keys)
        assert total == pytest.approx(report.scores[metric], rel=1e-12)


def test_standard_scores_are_the_plain_mean_over_the_selected_sequences():
    report, gts = make_report()
    per_sequence = report.sequence_scores()
    standard = report.per_attribute["standard"]
    low = [gt.name for gt in gts if gt.attributes[12] == 0]
    assert standard["BRI=low"]["sequences"] == len(low) == 3
    for metric in METRIC_NAMES:
        expected = np.mean([per_sequence[name][metric] for name in low])
        assert standard["BRI=low"][metric] == pytest.approx(expected, rel=1e-12)
    fast = ["seq1", "seq4"]
    assert standard["FM"]["sequences"] == 2
    assert standard["FM"]["AUC"] == pytest.approx(np.mean([per_sequence[n]["AUC"] for n in fast]))
    toolkit_fm = report.per_attribute["toolkit"]["FM"]["AUC"]
    assert toolkit_fm == pytest.approx(sum(per_sequence[n]["AUC"] for n in fast) / 9)


def test_an_attribute_without_sequences_is_zero_in_toolkit_and_none_in_standard():
    report, _ = make_report()
    assert report.per_attribute["toolkit"]["CM"]["sequences"] == 0
    assert report.per_attribute["toolkit"]["CM"]["AUC"] == 0.0
    assert report.per_attribute["standard"]["CM"]["AUC"] is None


def test_sequences_without_attributes_have_no_per_attribute_entries():
    report, _ = make_report(with_attributes=False)
    assert report.to_dict()["per_attribute"] == {}
