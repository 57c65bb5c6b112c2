"""Propagation in the app: UI responsiveness and throughput against the engine's own speed.

    python benchmarks/bench_propagation.py [--sequence PATH] [--frames 400] [--engine csrt]
                                           [--weights PATH]
    python benchmarks/bench_propagation.py --directions [--sequence PATH] [--frames 300]

1. The engine alone: ``track_frames`` over the same frames from its own uncached source (what
   ``python -m costcore track`` does): frames per second including decoding, and the engine's
   own step time.
2. The same propagation in the app (offscreen MainWindow): from the call to the last box in
   the annotation, with the boxes streaming into the annotation, the timeline and the plots.
   Throughput should be within 10 % of (1).
3. Event-loop latency during that run: a 5 ms QTimer measures how late each tick fires (the
   worst must stay under 50 ms), while the "annotator" scrubs to a new frame every 40 ms.

With ``--directions``: backward against forward on a *video file*. The sequence's frames are
written into an mp4 under the temp folder (cv2.VideoWriter, mp4v, once with the encoder's
default of a keyframe every 12 frames and once with one every 250 like a camera file), and
the engine runs over the last ``--frames`` frames forward and backward through
``EngineRunner`` (what the app's worker calls); "backward, direct" reads frame by frame from
the uncached source as the runner did before it decoded ahead in reverse.

Runs on Qt's offscreen platform unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.long_lived import freeze_startup_objects  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.settings import AppSettings  # noqa: E402
from costcore.assist.plan import Extent  # noqa: E402
from costcore.boxes import Box  # noqa: E402
from costcore.engines import create_engine  # noqa: E402
from costcore.engines.frame_loop import track_frames  # noqa: E402
from costcore.formats import read_sequence  # noqa: E402
from costcore.video import open_frame_source  # noqa: E402

DEFAULT_SEQUENCE = ROOT.parent / "shared" / "data" / "sequences" / "airplane-1"
TICK_MS = 5


def engine_alone(sequence, frames: int, engine: str, weights: str | None) -> tuple[float, float]:
    """(frames per second incl. decoding, engine-only frames per second)."""
    source = open_frame_source(sequence.frames, cache_bytes=0)
    try:
        tracker = create_engine(engine, weights)
        began = time.perf_counter()
        engine_seconds = 0.0
        count = 0
        steps = track_frames(tracker, source, Box(*sequence.boxes[0]), stop=frames + 1)
        for step in steps:
            if not step.initial:
                engine_seconds += step.seconds
                count += 1
        wall = time.perf_counter() - began
    finally:
        source.close()
    return count / wall, count / engine_seconds


def wait_until(app: QApplication, predicate, timeout: float = 600.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("timed out")
        app.processEvents()
        time.sleep(0.001)


def in_the_app(
    app: QApplication, path: Path, frames: int, engine: str, weights: str | None, scrub: bool
):
    tmp = Path(tempfile.mkdtemp(prefix="bench_propagation_"))
    window = MainWindow(AppSettings(tmp / "bench.ini"), workspace=tmp / "workspace")
    window.session.ask_resume = lambda result: False
    window.show_error = print
    freeze_startup_objects()  # as app.application.run does
    window.resize(1400, 900)
    window.show()
    window.open_path(path)
    wait_until(app, lambda: window.view.displayed_index == 0, 60)
    sequence = read_sequence(path)
    window.model.set_engine(engine)
    if weights:
        window.model.set_weights(weights)
    window.model.set_box(0, tuple(sequence.boxes[0]))
    for _ in range(20):
        app.processEvents()
    # the engine is built (weights read, graphs traced) by the first run and kept: warm it
    # with a short run so the timed one measures propagation, not loading
    assert window.model.track(start=0, extent=Extent.COUNT, count=5)
    wait_until(app, lambda: not window.runner.busy)
    for _ in range(20):
        app.processEvents()

    late: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        late.append((now - last[0]) * 1000.0 - TICK_MS)
        last[0] = now

    def scrub_step() -> None:
        window.navigator.go_to(int(np.random.randint(0, frames)))

    timer = QTimer()
    timer.timeout.connect(tick)
    scrubber = QTimer()
    scrubber.timeout.connect(scrub_step)
    began = time.perf_counter()
    assert window.model.track(start=0, extent=Extent.COUNT, count=frames)
    last[0] = time.perf_counter()
    timer.start(TICK_MS)
    if scrub:
        scrubber.start(40)
    annotation = window.model.annotation
    wait_until(app, lambda: not window.runner.busy)
    wall = time.perf_counter() - began
    timer.stop()
    scrubber.stop()
    tracked = sum(1 for i in range(1, frames + 1) if annotation.frame(i).engine == engine)
    status = window.engine_label.text()
    window.close()
    return tracked / wall, np.array(late[1:]), tracked, status


def write_video(sequence, frames: int, gop: int | None, folder: Path) -> Path:
    """The first ``frames + 1`` frames of ``sequence`` as an mp4 (``gop``: keyframe spacing)."""
    import cv2

    path = folder / f"{sequence.name}-gop{gop or 'default'}.mp4"
    first = cv2.imread(str(sequence.frames[0]))
    height, width = first.shape[:2]
    params = [] if gop is None else [cv2.VIDEOWRITER_PROP_GOP_SIZE, gop]
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, fourcc, 30.0, (width, height), params)
    for image in sequence.frames[: frames + 1]:
        writer.write(cv2.imread(str(image)))
    writer.release()
    return path


def directions(sequence, frames: int, engine: str) -> None:
    """Forward against backward frames per second (decoding included) on video files."""
    from costcore.assist.jobs import EngineRunner
    from costcore.assist.updates import Anchor

    box = Box(*sequence.boxes[0])
    print(f"{engine} on {sequence.name} as a video file, {frames} frames each way")
    with tempfile.TemporaryDirectory() as folder:
        for gop in (None, 250):
            path = write_video(sequence, frames, gop, Path(folder))
            results = {}
            for label in ("forward", "backward", "backward, direct"):
                source = open_frame_source(path, cache_bytes=0)
                began = time.perf_counter()
                if label == "forward":
                    runner = EngineRunner(lambda: create_engine(engine), source)
                    count = sum(1 for _ in runner.run(Anchor(0, box), frames + 1))
                elif label == "backward":
                    runner = EngineRunner(lambda: create_engine(engine), source)
                    count = sum(1 for _ in runner.run(Anchor(frames, box), -1, backwards=True))
                else:
                    steps = track_frames(
                        create_engine(engine), source, box, start=frames, backwards=True
                    )
                    count = sum(1 for step in steps if not step.initial)
                results[label] = count / (time.perf_counter() - began)
                source.close()
            name = "default (12)" if gop is None else str(gop)
            print(
                f"  keyframe every {name:>12} frames: forward {results['forward']:6.1f} fps, "
                f"backward {results['backward']:6.1f} fps "
                f"({100 * results['backward'] / results['forward']:.0f} %), "
                f"backward read frame by frame {results['backward, direct']:6.1f} fps"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", type=Path, default=DEFAULT_SEQUENCE)
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--engine", default="csrt")
    parser.add_argument("--weights", help="the engine's weights (default: none, or the cache's)")
    parser.add_argument(
        "--directions", action="store_true", help="backward vs forward on a video file"
    )
    args = parser.parse_args()
    if not args.sequence.is_dir():
        print(f"no sequence at {args.sequence}", file=sys.stderr)
        return 2
    sequence = read_sequence(args.sequence)
    if args.directions:
        directions(sequence, min(args.frames, sequence.frame_count - 1), args.engine)
        return 0
    frames = min(args.frames, sequence.frame_count - 1)
    app = QApplication.instance() or QApplication(sys.argv[:1])

    engine, weights = args.engine, args.weights
    alone_fps, engine_fps = engine_alone(sequence, frames, engine, weights)
    app_fps, late, tracked, status = in_the_app(app, args.sequence, frames, engine, weights, False)
    scrub_fps, scrub_late, _, _ = in_the_app(app, args.sequence, frames, engine, weights, True)
    alone2, _ = engine_alone(sequence, frames, engine, weights)  # again: the machine's drift
    alone_fps = max(alone_fps, alone2)

    print(f"{args.engine} on {sequence.name}, {frames} frames")
    print(
        f"  engine alone (decode + track): {alone_fps:7.1f} fps  "
        f"(engine step only {engine_fps:.1f})"
    )
    print(
        f"  propagation in the app:        {app_fps:7.1f} fps  "
        f"({100 * app_fps / alone_fps:.0f} % of the engine alone; {tracked} boxes)"
    )
    print(f"  ... while scrubbing every 40 ms: {scrub_fps:5.1f} fps")
    for label, values in (("idle", late), ("scrubbing", scrub_late)):
        print(
            f"  event-loop lateness ({label}): median {np.median(values):.1f} ms, "
            f"p99 {np.percentile(values, 99):.1f} ms, max {values.max():.1f} ms "
            f"({len(values)} ticks of {TICK_MS} ms)"
        )
    print(f"  status bar: {status}")
    ok = late.max() < 50 and scrub_late.max() < 50 and app_fps >= 0.9 * alone_fps
    print("  targets (lateness < 50 ms, throughput >= 90 %):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
