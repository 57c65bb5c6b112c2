"""GUI responsiveness: time to first frame, warm-cache stepping rate, memory while stepping.

    python benchmarks/bench_gui.py [--sequence PATH] [--frames 300] [--cache-mb 256]

1. Opening airplane-1 (LaSOT, 2,788 frames) until frame 1 is on screen (target < 1 s).
2. Stepping through a 1280x720 image folder made on the fly, once to warm the cache and
   once timed; each step waits until the frame is on screen and the view has repainted
   (target >= 60 frames per second).
3. Stepping through the whole long sequence with a small cache bound: the process's resident
   memory stays bounded by the cache, however long the video.

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

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.main_window import MainWindow  # noqa: E402
from app.settings import AppSettings  # noqa: E402

DEFAULT_SEQUENCE = ROOT.parent / "shared" / "data" / "sequences" / "airplane-1"


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def wait_until(app: QApplication, predicate, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("timed out")
        app.processEvents()


def make_window(tmp: Path, cache_bytes: int | None = None) -> MainWindow:
    window = MainWindow(AppSettings(tmp / "bench.ini"), workspace=tmp / "workspace")
    window.session.ask_resume = lambda result: False
    if cache_bytes is not None:
        window.session.cache_bytes = cache_bytes
    window.resize(1600, 1000)
    window.show()
    return window


def open_and_wait(app: QApplication, window: MainWindow, path: Path) -> float:
    shown: list[float] = []
    window.firstFrameShown.connect(lambda: shown.append(time.perf_counter()))
    start = time.perf_counter()
    window.open_path(path)
    wait_until(app, lambda: bool(shown) or bool(window.errors))
    if window.errors:
        raise RuntimeError(window.errors[0])
    window.view.viewport().repaint()
    return time.perf_counter() - start


def step_through(app: QApplication, window: MainWindow, count: int) -> float:
    """Step 1 frame at a time, waiting for each frame to be on screen and painted; fps."""
    navigator, view = window.navigator, window.view
    navigator.go_to(0)
    wait_until(app, lambda: view.displayed_index == 0)
    start = time.perf_counter()
    for index in range(1, count):
        navigator.step(1)
        wait_until(app, lambda i=index: view.displayed_index == i)
        view.viewport().repaint()
    return (count - 1) / (time.perf_counter() - start)


def make_720p_folder(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    base = cv2.GaussianBlur(base, (0, 0), 3)
    for i in range(count):
        frame = np.roll(base, 4 * i, axis=1)
        cv2.rectangle(frame, (100 + 3 * i, 300), (120 + 3 * i, 320), (0, 0, 255), -1)
        cv2.imwrite(str(folder / f"{i + 1:06d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence", type=Path, default=DEFAULT_SEQUENCE)
    parser.add_argument(
        "--frames", type=int, default=150, help="frames of the 1280x720 folder (fit the cache)"
    )
    parser.add_argument("--cache-mb", type=int, default=256, help="cache bound for the memory run")
    parser.add_argument("--memory-frames", type=int, default=0, help="0 = the whole sequence")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])

    with tempfile.TemporaryDirectory(prefix="bench_gui_") as name:
        tmp = Path(name)
        print(f"platform: {app.platformName()}, rss at start {rss_mb():.0f} MiB")

        # 1. time to first frame
        if args.sequence.is_dir():
            window = make_window(tmp)
            seconds = open_and_wait(app, window, args.sequence)
            count = window.model.frame_count
            verdict = "OK" if seconds < 1.0 else "SLOW"
            print(
                f"open {args.sequence.name} ({count} frames): first frame on screen in "
                f"{seconds * 1000:.0f} ms [{verdict}, target < 1000 ms]"
            )
            window.close()
        else:
            print(f"open: skipped, {args.sequence} not found")

        # 2. warm-cache stepping at 1280x720
        folder = make_720p_folder(tmp / "720p", args.frames)
        window = make_window(tmp)
        open_and_wait(app, window, folder)
        window.view.fit_to_window()
        cold = step_through(app, window, args.frames)
        stats_before = window.model.video.source.cache.stats()
        warm = step_through(app, window, args.frames)
        stats = window.model.video.source.cache.stats()
        hits = stats.hits - stats_before.hits
        lookups = hits + stats.misses - stats_before.misses
        verdict = "OK" if warm >= 60 else "SLOW"
        print(
            f"step 1280x720 x{args.frames}: first pass {cold:.0f} fps (prefetcher decoding "
            f"ahead), warm cache {warm:.0f} fps, {hits}/{lookups} cache hits "
            f"[{verdict}, target >= 60 fps]"
        )
        window.view.set_zoom(8.0)
        zoomed = step_through(app, window, min(args.frames, 120))
        print(f"step 1280x720 at 8x zoom, warm: {zoomed:.0f} fps")
        window.close()

        # 3. memory while stepping through a long video with a bounded cache
        if args.sequence.is_dir():
            bound = args.cache_mb * 1024 * 1024
            window = make_window(tmp, cache_bytes=bound)
            open_and_wait(app, window, args.sequence)
            total = window.model.frame_count
            frames = min(total, args.memory_frames) if args.memory_frames else total
            before = rss_mb()
            peak = before
            navigator, view = window.navigator, window.view
            start = time.perf_counter()
            for index in range(1, frames):
                navigator.step(1)
                wait_until(app, lambda i=index: view.displayed_index == i)
                if index % 100 == 0:
                    peak = max(peak, rss_mb())
            elapsed = time.perf_counter() - start
            cache = window.model.video.source.cache.stats()
            peak = max(peak, rss_mb())
            print(
                f"memory: stepped {frames} frames of {args.sequence.name} "
                f"({frames / elapsed:.0f} fps, cold); cache {cache.nbytes / 2**20:.0f} MiB of "
                f"{cache.max_bytes / 2**20:.0f} MiB bound, {cache.evictions} evictions; "
                f"RSS {before:.0f} -> peak {peak:.0f} MiB "
                f"(growth {peak - before:.0f} MiB <= bound {args.cache_mb} MiB: "
                f"{'OK' if peak - before <= args.cache_mb * 1.1 else 'OVER'})"
            )
            window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
