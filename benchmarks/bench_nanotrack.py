"""NanoTrack: tracker-only speed against OpenCV's TrackerNano, and accuracy (AUC) against CSRT.

    python benchmarks/bench_nanotrack.py [--threads 1] [--rounds 5] [--speed-frames 300]
                                         [--speed-sequences Crossing truck4_1] [--skip-auc]

1. **Speed**, tracker only: every frame is decoded before timing; each tracker is started on
   frame 1 (not timed) and stepped through the rest, one ``step``/``update`` call timed per
   frame, batch 1. Our V2 and V3 engines (torch on the CPU, the authors' rules) and OpenCV's
   ``cv2.TrackerNano`` with the authors' V2 ONNX files run on the same frames, in turn, for
   ``--rounds`` rounds, so load from other jobs hits all of them alike. Our engines get RGB
   frames, OpenCV BGR frames (each its own convention, converted before timing). torch and
   OpenCV get the same thread count (``--threads``).
2. **Accuracy**: AUC (``costcore.evaluation``, toolkit-exact: frame 1 replaced by the ground
   truth, IoU > threshold at 21 thresholds) on Crossing, Skiing, truck4_1 and the first 600
   frames of airplane-1, for NanoTrack V3 and V2 (ours, the authors' rules), OpenCV's
   TrackerNano (V2 ONNX, started from the rounded first box on BGR frames, as an OpenCV user
   runs it) and the project's CSRT engine; then, to show where OpenCV's lead comes from, our
   V2 with OpenCV's rules (float boxes, and OpenCV's integer Rect of them) and with the
   authors' rules reported as integer Rects.
   Then ``decode="crop"`` (the non-default setting that maps the network's output back
   through the square actually cut): its AUC beside the authors' tracker, the mean AUC of
   both after a post-hoc shift of every box by -1 .. +0.5 px, and a leave-one-sequence-out
   choice of that shift (picked on three sequences, scored on the fourth), so a pixel
   convention is never judged on the sequences it was chosen on; and, as sequences never
   used for the target, five 400-frame segments of airplane-1 after frame 600, each started
   from its ground truth.
3. With ``--network-variants``: CPU time of one network pass, the authors' layout run eagerly
   against our rearranged network (eager, and traced as the engine runs it).

Real data and weights come from ``../shared`` (read in place).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from costcore.boxes import Box  # noqa: E402
from costcore.engines import create_engine  # noqa: E402
from costcore.engines.nanotrack import OPENCV_TRACKER_NANO  # noqa: E402
from costcore.evaluation import GroundTruth, Prediction, compute_curves  # noqa: E402
from costcore.formats import read_sequence  # noqa: E402
from costcore.video import open_frame_source  # noqa: E402

SHARED = ROOT.parent / "shared"
SEQUENCES = SHARED / "data" / "sequences"
MODELS = SHARED / "models" / "nanotrack"
AUC_SEQUENCES = {"Crossing": None, "Skiing": None, "truck4_1": None, "airplane-1": 600}
#: the issue's measurements of OpenCV's TrackerNano (V2) and CSRT, first 600 frames
ISSUE_FIGURES = {
    "Crossing": (0.760, 0.771),
    "Skiing": (0.606, 0.060),
    "truck4_1": (0.682, 0.489),
    "airplane-1": (0.713, 0.471),
}

Step = Callable[[np.ndarray], tuple[float, float, float, float]]
#: intra-op threads for our engines (their own setting) and for OpenCV (--threads)
THREADS = 1


def load_frames(name: str, limit: int | None):
    sequence = read_sequence(SEQUENCES / name)
    count = len(sequence.frames) if limit is None else min(limit, len(sequence.frames))
    source = open_frame_source(sequence.frames[:count], cache_bytes=0)
    try:
        rgb = [source.frame(index) for index in range(count)]
    finally:
        source.close()
    return sequence, rgb


# --- the trackers, behind one small interface: start(frame, box) -> step(frame) -> box -------


def nanotrack(version: int, device: str = "cpu", config: dict | None = None, rect: bool = False):
    """Our engine; ``rect``: report OpenCV's integer Rect of each box instead of the box."""
    weights = MODELS / f"nanotrackv{version}" / f"nanotrackv{version}.pth"
    engine = create_engine("nanotrack", weights, device=device, config=config, threads=THREADS)

    def start(rgb: np.ndarray, bgr: np.ndarray, box: Box) -> Step:
        engine.initialize(rgb, box)
        if not rect:
            return lambda rgb, bgr: tuple(engine.step(rgb).box)

        def step(rgb: np.ndarray, bgr: np.ndarray):
            x, y, w, h = engine.step(rgb).box
            cx, cy = x + w / 2, y + h / 2
            return (float(int(cx - w / 2)), float(int(cy - h / 2)), float(int(w)), float(int(h)))

        return step

    return start


def opencv_nano():
    params = cv2.TrackerNano_Params()
    params.backbone = str(MODELS / "nanotrackv2" / "nanotrack_backbone_sim.onnx")
    params.neckhead = str(MODELS / "nanotrackv2" / "nanotrack_head_sim.onnx")

    def start(rgb: np.ndarray, bgr: np.ndarray, box: Box) -> Step:
        tracker = cv2.TrackerNano_create(params)
        tracker.init(bgr, tuple(int(round(v)) for v in box))

        def step(rgb: np.ndarray, bgr: np.ndarray):
            ok, rect = tracker.update(bgr)
            return tuple(float(v) for v in rect)

        return step

    return start


def csrt():
    engine = create_engine("csrt")

    def start(rgb: np.ndarray, bgr: np.ndarray, box: Box) -> Step:
        engine.initialize(rgb, box)
        return lambda rgb, bgr: tuple(engine.step(rgb).box)

    return start


# --- 1. speed ------------------------------------------------------------------------------------


def speed(names: list[str], frames: int, rounds: int) -> None:
    trackers = {
        "NanoTrack V2 (ours, torch)": nanotrack(2),
        "NanoTrack V3 (ours, torch)": nanotrack(3),
        "OpenCV TrackerNano (V2 ONNX)": opencv_nano(),
    }
    for name in names:
        sequence, rgb = load_frames(name, frames + 1)
        bgr = [cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) for frame in rgb]
        height, width = rgb[0].shape[:2]
        times: dict[str, list[float]] = {label: [] for label in trackers}
        cpu: dict[str, list[float]] = {label: [] for label in trackers}
        for _ in range(rounds):
            for label, start in trackers.items():
                step = start(rgb[0], bgr[0], Box(*sequence.boxes[0]))
                began_cpu = time.process_time()
                for index in range(1, len(rgb)):
                    began = time.perf_counter()
                    step(rgb[index], bgr[index])
                    times[label].append(time.perf_counter() - began)
                cpu[label].append((time.process_time() - began_cpu) / (len(rgb) - 1))
        print(f"\n{name} ({width}x{height}), {len(rgb) - 1} frames x {rounds} rounds")
        print(
            "| tracker | fps (median frame) | ms/frame median | ms/frame p10 | fps (mean) "
            "| CPU ms/frame (best round) |"
        )
        print("|---|---|---|---|---|---|")
        for label, values in times.items():
            ms = np.array(values) * 1000.0
            median, p10, mean = np.median(ms), np.percentile(ms, 10), ms.mean()
            best_cpu = min(cpu[label]) * 1000.0
            print(
                f"| {label} | {1000 / median:.0f} | {median:.2f} | {p10:.2f} | {1000 / mean:.0f} "
                f"| {best_cpu:.2f} |"
            )


# --- 3. what the rearranged network buys ----------------------------------------------------------


def _network_times(version: int, rounds: int) -> dict[str, float]:
    from costcore.engines.nanotrack import load_nanotrack
    from costcore.engines.nanotrack.inference import PreparedNanoTrack

    generator = torch.Generator().manual_seed(0)
    search = 255 * torch.rand((1, 3, 255, 255), generator=generator)
    template = 255 * torch.rand((1, 3, 127, 127), generator=generator)
    network, _, _ = load_nanotrack(MODELS / f"nanotrackv{version}" / f"nanotrackv{version}.pth")
    eager = PreparedNanoTrack(network, compile=False)
    compiled = PreparedNanoTrack(network)
    assert isinstance(compiled.tracking, torch.jit.ScriptModule), "tracing failed"
    for prepared in (eager, compiled):
        prepared.set_template(template)
    with torch.inference_mode():
        features = network.backbone(template)
        variants = {
            "authors' layout, eager": lambda: network.ban_head(features, network.backbone(search)),
            "folded, template side once, channels-last, eager": lambda: eager(search),
            "the same, TorchScript trace + freeze": lambda: compiled(search),
            "one traced graph with the softmax (what each step runs)": lambda: compiled.track(
                search.contiguous(memory_format=torch.channels_last)
            ),
        }
        times: dict[str, list[float]] = {label: [] for label in variants}
        for _ in range(rounds * 20):
            for label, run in variants.items():
                began = time.process_time()
                run()
                times[label].append(time.process_time() - began)
    return {label: 1000 * float(np.median(values)) for label, values in times.items()}


def network_variants(rounds: int) -> None:
    """CPU time of one search-crop pass: the authors' layout run eagerly, our rearranged
    network eagerly, traced + frozen, and as the one graph each step calls."""
    v2, v3 = _network_times(2, rounds), _network_times(3, rounds)
    print("\n| network pass, CPU ms (median) | V2 | V3 |\n|---|---|---|")
    for label in v2:
        print(f"| {label} | {v2[label]:.2f} | {v3[label]:.2f} |")


# --- 2. accuracy ---------------------------------------------------------------------------------


def track_boxes(start, rgb: list[np.ndarray], first: Box) -> np.ndarray:
    step = start(rgb[0], cv2.cvtColor(rgb[0], cv2.COLOR_RGB2BGR), first)
    boxes = [tuple(first)]
    for frame in rgb[1:]:
        boxes.append(step(frame, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)))
    return np.array(boxes, dtype=float)


def sequence_auc(name: str, boxes: np.ndarray, truth_boxes, absent) -> float:
    count = len(boxes)
    truth = GroundTruth(name, truth_boxes[:count], absent[:count])
    curves = compute_curves([truth], {name: Prediction(boxes, np.zeros(count, bool))})
    return curves.sequence(name).scores()["AUC"]


def accuracy() -> None:
    trackers = {
        "NanoTrack V3": nanotrack(3),
        "NanoTrack V2": nanotrack(2),
        'NanoTrack V3, decode="crop"': nanotrack(3, config={"decode": "crop"}),
        'NanoTrack V2, decode="crop"': nanotrack(2, config={"decode": "crop"}),
        "OpenCV TrackerNano (V2)": opencv_nano(),
        "CSRT": csrt(),
        # why OpenCV scores higher than the authors' V2 here: its rules, and its integer Rect
        "NanoTrack V2, OpenCV's rules, float boxes": nanotrack(2, config=OPENCV_TRACKER_NANO),
        "NanoTrack V2, OpenCV's rules, integer Rect": nanotrack(
            2, config=OPENCV_TRACKER_NANO, rect=True
        ),
        "NanoTrack V2, authors' rules, integer Rect": nanotrack(2, rect=True),
    }
    table: dict[str, dict[str, float]] = {label: {} for label in trackers}
    #: (label, sequence) -> boxes, truth, absent: for the shift analysis below
    kept: dict[tuple[str, str], tuple[np.ndarray, list, list]] = {}
    for name, limit in AUC_SEQUENCES.items():
        sequence, rgb = load_frames(name, limit)
        for label, start in trackers.items():
            boxes = track_boxes(start, rgb, Box(*sequence.boxes[0]))
            table[label][name] = sequence_auc(name, boxes, sequence.boxes, sequence.absent)
            kept[(label, name)] = (boxes, sequence.boxes, sequence.absent)
    names = list(AUC_SEQUENCES)
    header = " | ".join(f"{n}{' (600)' if AUC_SEQUENCES[n] else ''}" for n in names)
    print(f"\n| AUC | {header} | mean |")
    print("|---" * (len(names) + 2) + "|")
    for label, scores in table.items():
        row = " | ".join(f"{scores[n]:.3f}" for n in names)
        print(f"| {label} | {row} | {np.mean([scores[n] for n in names]):.3f} |")
    for column, label in ((0, "issue: OpenCV TrackerNano"), (1, "issue: CSRT")):
        figures = [ISSUE_FIGURES[n][column] for n in names]
        row = " | ".join(f"{value:.3f}" for value in figures)
        print(f"| {label} | {row} | {np.mean(figures):.3f} |")
    shift_analysis(kept, names)
    held_out_segments()


SHIFTS = (-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5)


def shift_analysis(kept: dict, names: list[str]) -> None:
    """Mean AUC after moving every box (frames 2..) by a post-hoc shift in x and y, and the
    shift a leave-one-sequence-out choice makes: picked on three sequences, scored on the
    fourth. A pixel convention that is right needs no shift."""
    print("\n| boxes shifted by (px) | " + " | ".join(f"{s:+.2f}" for s in SHIFTS) + " |")
    print("|---" * (len(SHIFTS) + 1) + "|")
    choices: list[str] = []
    for version in (2, 3):
        for label in (f"NanoTrack V{version}", f'NanoTrack V{version}, decode="crop"'):
            scores = {}
            for name in names:
                boxes, truth, absent = kept[(label, name)]
                for shift in SHIFTS:
                    moved = boxes.copy()
                    moved[1:, :2] += shift
                    scores[(name, shift)] = sequence_auc(name, moved, truth, absent)
            means = [np.mean([scores[(n, s)] for n in names]) for s in SHIFTS]
            print(f"| {label} (mean AUC) | " + " | ".join(f"{m:.3f}" for m in means) + " |")
            chosen = []
            for held in names:
                others = [n for n in names if n != held]
                best = max(SHIFTS, key=lambda s: np.mean([scores[(n, s)] for n in others]))
                chosen.append(f"{held} {best:+.2f} -> {scores[(held, best)]:.3f}")
            choices.append(f"{label}: {'; '.join(chosen)}")
    print("\nShift chosen on three sequences -> AUC on the fourth (leave one out):")
    for line in choices:
        print(f"- {line}")


def held_out_segments(starts=(600, 1000, 1400, 1800, 2200), length: int = 400) -> None:
    """AUC on airplane-1 beyond the frames the target is set on: each segment started from
    its ground truth (a larger target than the other sequences: 67 px wide and growing)."""
    sequence, rgb = load_frames("airplane-1", None)
    print(f"\n| airplane-1 after frame 600 (AUC, {length} frames from each start) | "
          + " | ".join(str(s + 1) for s in starts) + " | mean |")  # fmt: skip
    print("|---" * (len(starts) + 2) + "|")
    for version in (3, 2):
        for config, suffix in ((None, ""), ({"decode": "crop"}, ', decode="crop"')):
            start = nanotrack(version, config=config)
            row = []
            for first in starts:
                frames = rgb[first : first + length]
                boxes = track_boxes(start, frames, Box(*sequence.boxes[first]))
                row.append(
                    sequence_auc(
                        "segment",
                        boxes,
                        sequence.boxes[first : first + length],
                        sequence.absent[first : first + length],
                    )
                )
            cells = " | ".join(f"{value:.3f}" for value in row)
            print(f"| NanoTrack V{version}{suffix} | {cells} | {np.mean(row):.3f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="threads of our engines and of OpenCV (default 1)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--speed-frames", type=int, default=300)
    parser.add_argument("--speed-sequences", nargs="+", default=["Crossing", "truck4_1"])
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-auc", action="store_true")
    parser.add_argument(
        "--network-variants", action="store_true", help="also time the network's rearrangements"
    )
    args = parser.parse_args()
    if not (MODELS / "nanotrackv3").is_dir() or not SEQUENCES.is_dir():
        print(f"needs the NanoTrack weights in {MODELS} and the sequences in {SEQUENCES}")
        return 2
    global THREADS
    THREADS = args.threads
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    print(f"torch {torch.__version__}, OpenCV {cv2.__version__}, {args.threads} thread(s)")
    if not args.skip_speed:
        speed(args.speed_sequences, args.speed_frames, args.rounds)
    if not args.skip_auc:
        accuracy()
    if args.network_variants:
        network_variants(args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
