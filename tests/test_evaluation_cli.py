"""End to end: VL-SOT500 folders + result files -> ``python -m costcore evaluate``.

Expected scores come from the frame-by-frame reference in ``test_evaluation_reference``, fed
with the numbers exactly as written to the result files.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

import costcore.cli
from tests.test_evaluation_reference import reference_curves, reference_scores

JPEG = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
METRICS = ("AUC", "P", "P_norm", "cAUC", "mACC")


def run_cli(argv: list[str]) -> int:
    return costcore.cli.main(argv)


def write_sequence(folder, boxes, absent, attributes):
    (folder / "imgs").mkdir(parents=True)
    for index in range(len(boxes)):
        (folder / "imgs" / f"{index + 1:06d}.jpg").write_bytes(JPEG)
    (folder / "000001.jpg").write_bytes(JPEG)
    lines = [
        "0,0,0,0" if a else ",".join(str(int(v)) for v in box)
        for box, a in zip(boxes, absent, strict=True)
    ]
    (folder / "groundtruth_rect.txt").write_text("\n".join(lines) + "\n")
    (folder / "absent.txt").write_text("".join(f"{int(a)}\n" for a in absent))
    (folder / "attributes.txt").write_text(",".join(map(str, attributes)) + "\n")
    (folder / "language.txt").write_text("a small target\n")


def write_result(path, boxes, empty, delimiter=","):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "0" if e else delimiter.join(f"{v:.3f}" for v in box)
        for box, e in zip(boxes, empty, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def benchmark(tmp_path):
    """6 sequences, 3 trackers; returns paths and the reference inputs per tracker."""
    rng = np.random.default_rng(3)
    dataset, results = tmp_path / "dataset", tmp_path / "results"
    gts = {}
    for index in range(6):
        n = 12 + 3 * index
        xy = np.cumsum(rng.normal(0, 4, (n, 2)), axis=0) + 200
        wh = rng.uniform(8, 30, (n, 2))
        boxes = np.round(np.c_[xy, wh])
        absent = np.zeros(n, bool)
        absent[rng.choice(np.arange(1, n), size=3, replace=False)] = True
        attributes = [0] * 17
        attributes[12], attributes[16], attributes[10] = index % 3, index % 2, index % 2
        attributes[13] = int(index == 2)
        name = f"video_{index}"
        write_sequence(dataset / name, boxes, absent, attributes)
        gt = boxes.copy()
        gt[absent] = 0
        gts[name] = (gt, absent, attributes)

    noise = {"good": 2.0, "noisy": 8.0, "tabbed": 4.0}
    cases = {}
    for tracker, sigma in noise.items():
        cases[tracker] = {}
        for name, (gt, absent, _) in gts.items():
            base = np.where(absent[:, None], [[190, 190, 15, 15]], gt)
            pred = base + rng.normal(0, sigma, gt.shape)
            pred[0] += 7  # a wrong first frame: changes mACC only
            empty = absent & (rng.random(len(gt)) < 0.6)
            delimiter = "\t" if tracker == "tabbed" else ","
            write_result(results / tracker / f"{name}.txt", pred, empty, delimiter)
            written = np.array([[float(f"{v:.3f}") for v in row] for row in pred])
            written[empty] = 0
            cases[tracker][name] = (gt, absent, written, empty)
    return dataset, results, gts, cases


def test_json_matches_the_frame_by_frame_reference(benchmark, tmp_path, capsys):
    dataset, results, gts, cases = benchmark
    out = tmp_path / "scores.json"
    assert (
        run_cli(
            ["evaluate", "--dataset", str(dataset), "--results", str(results), "--json", str(out)]
        )
        == 0
    )
    document = json.loads(out.read_text())
    assert sorted(document) == ["good", "noisy", "tabbed"]
    for tracker, sequences in cases.items():
        expected = reference_scores(list(sequences.values()))
        overall = document[tracker]["overall"]
        assert sorted(overall) == sorted(METRICS)
        for metric in METRICS:
            assert overall[metric] == pytest.approx(expected[metric], abs=1e-12), (tracker, metric)
        for name, case in sequences.items():
            succ, prec, norm, comp, acc = reference_curves(*case)
            entry = document[tracker]["per_sequence"][name]
            assert entry["AUC"] == pytest.approx(np.mean(succ), abs=1e-12)
            assert entry["P"] == pytest.approx(prec[20], abs=1e-12)
            assert entry["P_norm"] == pytest.approx(np.mean(norm), abs=1e-12)
            assert entry["cAUC"] == pytest.approx(np.mean(comp), abs=1e-12)
            assert entry["mACC"] == pytest.approx(acc, abs=1e-12)

        per_attribute = document[tracker]["per_attribute"]
        selected = [n for n, (_, _, attrs) in gts.items() if attrs[12] == 1]  # BRI=medium
        per_seq = {n: reference_scores([sequences[n]]) for n in sequences}
        for metric in METRICS:
            total = sum(per_seq[n][metric] for n in selected)
            assert per_attribute["toolkit"]["BRI=medium"][metric] == pytest.approx(total / 6)
            assert per_attribute["standard"]["BRI=medium"][metric] == pytest.approx(
                total / len(selected)
            )
        assert per_attribute["standard"]["BRI=medium"]["sequences"] == len(selected) == 2
        assert per_attribute["toolkit"]["FM"]["sequences"] == 1
        for value in overall.values():
            assert 0.0 <= value <= 1.0

    table = capsys.readouterr().out
    rows = [
        line.split()[0]
        for line in table.splitlines()
        if line.split()[:1] in (["good"], ["noisy"], ["tabbed"])
    ]
    aucs = [document[name]["overall"]["AUC"] for name in rows]
    assert aucs == sorted(aucs, reverse=True)
    good_row = next(line for line in table.splitlines() if line.startswith("good"))
    assert f"{100 * document['good']['overall']['AUC']:.1f}" in good_row


def test_missing_and_short_result_files_are_reported_by_name(benchmark, tmp_path, capsys):
    dataset, results, _, _ = benchmark
    (results / "noisy" / "video_1.txt").unlink()
    short = results / "tabbed" / "video_2.txt"
    short.write_text("".join(short.read_text().splitlines(keepends=True)[:-2]))
    out = tmp_path / "scores.json"
    code = run_cli(
        ["evaluate", "--dataset", str(dataset), "--results", str(results), "--json", str(out)]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "video_1.txt" in err and "missing" in err
    assert "video_2.txt" in err and "too short" in err
    assert sorted(json.loads(out.read_text())) == ["good"]


def test_trackers_option_and_nothing_scorable(benchmark, tmp_path, capsys):
    dataset, results, _, _ = benchmark
    out = tmp_path / "one.json"
    argv = ["evaluate", "--dataset", str(dataset), "--results", str(results), "--json", str(out)]
    assert run_cli([*argv, "--trackers", "noisy"]) == 0
    assert sorted(json.loads(out.read_text())) == ["noisy"]
    assert run_cli([*argv, "--trackers", "ghost"]) == 2
    assert "ghost" in capsys.readouterr().err


def test_plots_are_written(benchmark, tmp_path):
    pytest.importorskip("matplotlib")
    dataset, results, _, _ = benchmark
    plots = tmp_path / "plots"
    argv = ["evaluate", "--dataset", str(dataset), "--results", str(results), "--plots", str(plots)]
    assert run_cli(argv) == 0
    names = sorted(path.name for path in plots.iterdir())
    assert {"success.png", "precision.png", "normalized_precision.png"} <= set(names)
    for name in names:
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_real_otb_sequence_without_attributes(crossing, tmp_path):
    """A non-VL-SOT layout: scores, but no per-attribute entries."""
    from costcore.formats import read_sequence

    sequence = read_sequence(crossing)
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / crossing.name).symlink_to(crossing, target_is_directory=True)
    write_result(
        tmp_path / "results" / "copy" / f"{sequence.name}.txt",
        sequence.boxes,
        np.zeros(len(sequence.boxes), bool),
    )
    out = tmp_path / "scores.json"
    argv = [
        "evaluate",
        "--dataset",
        str(dataset),
        "--results",
        str(tmp_path / "results"),
        "--json",
        str(out),
    ]
    assert run_cli(argv) == 0
    document = json.loads(out.read_text())["copy"]
    assert document["per_attribute"] == {}
    assert document["overall"]["P"] == 1.0
