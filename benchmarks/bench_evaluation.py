"""Time the evaluation of a VL-SOT500-sized result set (500 videos, 250 k frames).

    python benchmarks/bench_evaluation.py [--videos 500] [--frames 250000] [--cli]

Default: ground truth in memory, result files written to a temporary folder; times reading
the files, scoring (curves, per-sequence and per-attribute) and building the JSON document.
``--cli`` also writes the dataset as VL-SOT500 folders and times the whole
``python -m costcore evaluate`` handler, dataset reading included (slower to set up).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from costcore.evaluation import (  # noqa: E402
    GroundTruth,
    evaluate_tracker,
    load_tracker_results,
)


def synthetic_dataset(videos: int, frames: int, rng: np.random.Generator) -> list[GroundTruth]:
    """Random-walk boxes of small targets, ~5 % absent frames, random attributes."""
    lengths = rng.multinomial(frames - 2 * videos, np.ones(videos) / videos) + 2
    ground_truths = []
    for index, n in enumerate(lengths):
        xy = np.cumsum(rng.normal(0, 3, (n, 2)), axis=0) + rng.uniform(100, 1000, 2)
        wh = np.clip(rng.normal(20, 5, 2) + np.cumsum(rng.normal(0, 0.3, (n, 2)), axis=0), 2, None)
        boxes = np.round(np.c_[xy, wh])
        absent = rng.random(n) < 0.05
        absent[0] = False
        attributes = [int(v) for v in rng.integers(0, 2, 17)]
        attributes[12] = int(rng.integers(0, 3))
        attributes[16] = 0 if n <= 600 else (1 if n <= 1800 else 2)
        ground_truths.append(GroundTruth(f"video_{index:03d}", boxes, absent, attributes))
    return ground_truths


def write_results(root: Path, tracker: str, gts: list[GroundTruth], rng: np.random.Generator):
    """One ``%.3f`` comma-separated file per video; a bare ``0`` on some absent frames."""
    folder = root / tracker
    folder.mkdir(parents=True)
    for gt in gts:
        pred = gt.boxes + rng.normal(0, rng.uniform(1, 25), gt.boxes.shape)
        pred[:, 2:] = np.abs(pred[:, 2:])
        lines = [
            "0" if absent and coin < 0.5 else ",".join(f"{v:.3f}" for v in box)
            for box, absent, coin in zip(pred, gt.absent, rng.random(len(pred)), strict=True)
        ]
        (folder / f"{gt.name}.txt").write_text("\n".join(lines) + "\n")


def write_dataset(root: Path, gts: list[GroundTruth]) -> None:
    """VL-SOT500 folders (tiny placeholder JPEG bytes) for the ``--cli`` timing."""
    import cv2

    jpeg = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    for gt in gts:
        folder = root / gt.name
        (folder / "imgs").mkdir(parents=True)
        for index in range(gt.frame_count):
            (folder / "imgs" / f"{index + 1:06d}.jpg").write_bytes(jpeg)
        (folder / "000001.jpg").write_bytes(jpeg)
        rows = [",".join(str(int(v)) for v in box) for box in gt.boxes]
        (folder / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n")
        (folder / "absent.txt").write_text("".join(f"{int(a)}\n" for a in gt.absent))
        (folder / "attributes.txt").write_text(",".join(map(str, gt.attributes)) + "\n")


def timed(label: str, function):
    start = time.perf_counter()
    value = function()
    print(f"{label:<44}{time.perf_counter() - start:8.3f} s")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=500)
    parser.add_argument("--frames", type=int, default=250_000)
    parser.add_argument("--cli", action="store_true", help="also time the CLI end to end")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    gts = synthetic_dataset(args.videos, args.frames, rng)
    total = sum(gt.frame_count for gt in gts)
    print(f"{len(gts)} videos, {total} frames")
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results"
        write_results(results, "tracker", gts, rng)

        predictions, problems = timed(
            "read result files", lambda: load_tracker_results(results, "tracker", gts)
        )
        assert not problems, problems
        report = timed(
            "score (curves, per-attribute)", lambda: evaluate_tracker("tracker", gts, predictions)
        )
        timed("JSON document", lambda: json.dumps(report.to_dict()))
        scores = report.scores
        print("  " + "  ".join(f"{k} {100 * v:.1f}" for k, v in scores.items()))

        if args.cli:
            from costcore.cli import evaluate as evaluate_cli

            dataset = Path(tmp) / "dataset"
            timed("(setup) write VL-SOT500 dataset folders", lambda: write_dataset(dataset, gts))
            cli = argparse.ArgumentParser()
            evaluate_cli.register(cli.add_subparsers())
            cli_args = cli.parse_args(
                ["evaluate", "--dataset", str(dataset), "--results", str(results),
                 "--json", str(Path(tmp) / "scores.json")]
            )  # fmt: skip
            code = timed(
                "CLI end to end (dataset read included)", lambda: cli_args.handler(cli_args)
            )
            assert code == 0, code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
