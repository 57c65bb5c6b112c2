"""How often the appearance flags fire on good runs, and what they catch on bad ones.

    python benchmarks/bench_drift_flags.py [--engine csrt] [--spacing 100] [--long 560]

The flags that watch what a box shows (``FlagReason.FROZEN``: the size frozen while the view
in the box changed; ``FlagReason.UNLIKE``: the view unlike the keyframe's) must not flood
runs that are right. Measured on the shared real sequences:

1. the ground truth replayed as if a tracker had produced it, with a keyframe (a new anchor)
   every ``--spacing`` frames: every flag here is a false flag;
2. the engine run from a ground-truth keyframe every ``--spacing`` frames up to the next one:
   frames with IoU >= 0.5 against the ground truth count as good (a flag there is false),
   frames with IoU < 0.3 as lost (a flag there is a catch);
3. the long drifting run: the engine from frame 1 of airplane-1 for ``--long`` frames (CSRT's
   box stays 41x16 while the plane grows), where the first flag falls against the IoU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from costcore.annotation import (  # noqa: E402
    FrameAnnotation,
    Provenance,
    SetFrames,
    UndoStack,
    VideoAnnotation,
)
from costcore.assist.appearance import AppearanceProbe  # noqa: E402
from costcore.assist.flags import FlagReason, FlagRules, drift_rules, flag_frames  # noqa: E402
from costcore.assist.jobs import EngineRunner, propagate  # noqa: E402
from costcore.assist.plan import plan_propagation  # noqa: E402
from costcore.assist.state import AssistState  # noqa: E402
from costcore.boxes import Box  # noqa: E402
from costcore.engines import create_engine  # noqa: E402
from costcore.formats import detect_layout, read_sequence  # noqa: E402
from costcore.video import open_frame_source  # noqa: E402

SEQUENCES = ROOT.parent / "shared" / "data" / "sequences"
NAMES = ("Crossing", "Skiing", "truck4_1", "airplane-1")
DRIFT = (FlagReason.FROZEN, FlagReason.UNLIKE)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1 = np.maximum(a[:, 0], b[:, 0])
    y1 = np.maximum(a[:, 1], b[:, 1])
    x2 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y2 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def replayed_ground_truth(name: str, spacing: int, rules: FlagRules) -> tuple[int, int]:
    """(flagged frames, frames) with the ground truth as the tracker's boxes."""
    sequence = read_sequence(SEQUENCES / name, detect_layout(SEQUENCES / name))
    frames = open_frame_source(sequence.frames, cache_bytes=0)
    gt = np.asarray(sequence.boxes, dtype=float)
    absent = np.asarray(sequence.absent, dtype=bool)
    looks = np.full(len(gt), np.nan)
    candidate = np.zeros(len(gt), dtype=bool)
    probe = None
    for i in range(len(gt)):
        present = not absent[i] and gt[i][2] >= 2 and gt[i][3] >= 2
        if i % spacing == 0 or probe is None:
            probe = AppearanceProbe(frames.frame(i), Box(*gt[i])) if present else None
            continue
        if present:
            candidate[i] = True
            looks[i] = np.nan if probe is None else probe.similarity(frames.frame(i), Box(*gt[i]))
    frames.close()
    frozen, unlike, _ = drift_rules(gt, looks, candidate, rules)
    return int(np.sum((frozen | unlike) & candidate)), int(candidate.sum())


def engine_runs(name: str, engine: str, start: int, length: int, rules: FlagRules):
    """The engine from the ground truth of ``start`` for ``length`` frames: (ious, drift
    flag per frame, frames) over the tracked frames."""
    sequence = read_sequence(SEQUENCES / name, detect_layout(SEQUENCES / name))
    frames = open_frame_source(sequence.frames, cache_bytes=0)
    gt = np.asarray(sequence.boxes, dtype=float)
    absent = np.asarray(sequence.absent, dtype=bool)
    annotation = VideoAnnotation(name, frames.frame_count)
    stack = UndoStack(annotation)
    stack.push(SetFrames([(start, FrameAnnotation(gt[start], provenance=Provenance.KEYFRAME))]))
    runner = EngineRunner(lambda: create_engine(engine, device="cpu"), frames)
    plan = plan_propagation(annotation, start, extent="count", count=length)
    updates = list(propagate(runner, plan, Box(*gt[start])))
    frames.close()
    stack.push(SetFrames([(u.index, u.annotation()) for u in updates]))
    state = AssistState(annotation.frame_count)
    state.record_all(updates)
    flagged = {
        f.index for f in flag_frames(annotation, state.diagnostics(annotation), rules)
        if set(DRIFT) & set(f.reasons)
    }  # fmt: skip
    index = np.array([u.index for u in updates])
    boxes = np.array([tuple(u.box) for u in updates])
    ious = np.where(absent[index], 0.0, iou(boxes, gt[index]))
    return index, ious, np.array([i in flagged for i in index])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="csrt")
    parser.add_argument("--spacing", type=int, default=100)
    parser.add_argument("--long", type=int, default=560)
    args = parser.parse_args()
    rules = FlagRules()
    began = time.perf_counter()

    print(f"1. ground truth replayed, a keyframe every {args.spacing} frames")
    flagged = total = 0
    for name in NAMES:
        f, n = replayed_ground_truth(name, args.spacing, rules)
        flagged, total = flagged + f, total + n
        print(f"   {name:11s} {f:4d} of {n:5d} frames flagged ({100 * f / max(n, 1):.2f} %)")
    print(
        f"   all         {flagged:4d} of {total:5d} frames flagged ({100 * flagged / total:.2f} %)"
    )

    print(f"2. {args.engine} from a ground-truth keyframe every {args.spacing} frames")
    good = good_flagged = bad = bad_flagged = good_runs = good_runs_flagged = 0
    for name in NAMES:
        count = len(read_sequence(SEQUENCES / name, detect_layout(SEQUENCES / name)).boxes)
        for start in range(0, count - 1, args.spacing):
            length = min(args.spacing, count - 1 - start)
            _index, ious, flags = engine_runs(name, args.engine, start, length, rules)
            good += int(np.sum(ious >= 0.5))
            good_flagged += int(np.sum(flags & (ious >= 0.5)))
            bad += int(np.sum(ious < 0.3))
            bad_flagged += int(np.sum(flags & (ious < 0.3)))
            if ious.min() >= 0.5:
                good_runs += 1
                good_runs_flagged += int(flags.any())
    print(f"   good frames (IoU >= 0.5) flagged: {good_flagged} of {good} "
          f"({100 * good_flagged / max(good, 1):.2f} %); good runs with any flag: "
          f"{good_runs_flagged} of {good_runs}")  # fmt: skip
    print(f"   lost frames (IoU < 0.3) flagged: {bad_flagged} of {bad} "
          f"({100 * bad_flagged / max(bad, 1):.1f} %)")  # fmt: skip

    print(f"3. {args.engine} from frame 1 of airplane-1 for {args.long} frames")
    index, ious, flags = engine_runs("airplane-1", args.engine, 0, args.long, rules)
    first = int(index[np.argmax(flags)]) if flags.any() else None
    lost_from = int(index[np.argmax(ious < 0.3)]) if (ious < 0.3).any() else None
    lost = ious < 0.3
    print(f"   first drift flag at frame {None if first is None else first + 1}"
          f" (IoU {ious[np.argmax(flags)]:.2f}); IoU < 0.3 from frame "
          f"{None if lost_from is None else lost_from + 1}; lost frames flagged "
          f"{int(np.sum(flags & lost))} of {int(lost.sum())}")  # fmt: skip
    print(f"({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
