"""How fast frames reach the view: opening, stepping, prefetching, video index scan.

Run from the project root: ``python benchmarks/bench_frames.py``. It uses the real airplane-1
sequence (640x360 JPEGs) from ../shared when present, and writes temporary MP4 videos
(mp4v, 640x360 and 1280x720, made from those frames, or synthetic ones without them).

"Tight loop" rates read frames as fast as possible (decoder throughput). "Paced" numbers
imitate an annotator's view, which spends ``--work-ms`` per frame drawing before asking for
the next; they report how long ``frame()`` itself blocked.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from costcore.video import (  # noqa: E402
    CachedFrameSource,
    FrameSource,
    VideoFileSource,
    open_frame_source,
)

AIRPLANE = ROOT.parent / "shared" / "data" / "sequences" / "airplane-1"
GiB = 1024**3


def timed(source: FrameSource, indices: Iterable[int], work_s: float = 0.0) -> list[float]:
    """Seconds each ``frame()`` call took; sleeps ``work_s`` after each (the view drawing)."""
    waits = []
    for i in indices:
        start = time.perf_counter()
        source.frame(i)
        waits.append(time.perf_counter() - start)
        if work_s:
            time.sleep(work_s)
    return waits


def rate(waits: list[float]) -> str:
    return f"{len(waits) / sum(waits):8.0f} frames/s"


def latency(waits: list[float]) -> str:
    ms = sorted(w * 1000 for w in waits)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return f"mean {statistics.fmean(ms):6.2f} ms, p95 {p95:6.2f} ms, max {ms[-1]:6.1f} ms"


def source_frames(count: int, size: tuple[int, int]) -> Iterable[np.ndarray]:
    """BGR frames for a test video: airplane-1 resized, else a moving synthetic scene."""
    width, height = size
    files = sorted((AIRPLANE / "img").glob("*.jpg"))[:count] if AIRPLANE.is_dir() else []
    if files:
        for path in files:
            yield cv2.resize(cv2.imread(str(path)), size, interpolation=cv2.INTER_LINEAR)
        return
    rng = np.random.default_rng(0)
    field = cv2.resize(rng.integers(0, 255, (height // 16, width // 16, 3), np.uint8), size)
    for i in range(count):
        image = np.roll(field, 3 * i, axis=1).copy()
        cv2.circle(image, (50 + 2 * i % (width - 100), height // 2), 20, (0, 0, 255), -1)
        yield image


def write_video(path: Path, count: int, size: tuple[int, int], fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for image in source_frames(count, size):
        writer.write(image)
    writer.release()
    return path


def bench_image_folder(args: argparse.Namespace) -> None:
    if not AIRPLANE.is_dir():
        print(f"airplane-1 not found at {AIRPLANE}; skipping the image-folder benchmark")
        return
    print(f"\n== airplane-1 image folder, 640x360 JPEG, {args.frames} frames stepped ==")
    start = time.perf_counter()
    source = open_frame_source(AIRPLANE, cache_bytes=2 * GiB)
    source.frame(0)
    first = time.perf_counter() - start
    print(f"time to first frame (open + decode frame 0): {1000 * first:.1f} ms")
    n = min(args.frames, source.frame_count)
    cold = timed(source, range(n))
    print(f"forward, cold cache, no prefetch, tight loop: {rate(cold)}")
    warm = timed(source, range(n))
    print(f"forward, warm cache, tight loop:              {rate(warm)}  ({latency(warm)})")
    source.close()
    _paced_pair(AIRPLANE, n, args)


def _paced_pair(path: Path, n: int, args: argparse.Namespace, start: int = 0) -> None:
    work = args.work_ms / 1000.0
    for prefetch in (0, args.prefetch):
        with open_frame_source(path, cache_bytes=2 * GiB, prefetch=prefetch) as source:
            source.frame(start)
            if isinstance(source, CachedFrameSource) and source.prefetcher:
                source.prefetcher.wait_idle(2)
            tight = timed(source, range(start + 1, start + 1 + n // 2))
            paced = timed(source, range(start + 1 + n // 2, start + n), work)
            label = f"prefetch={prefetch:<2}"
            print(f"forward, cold cache, {label}, tight loop:  {rate(tight)}")
            print(f"forward, cold cache, {label}, paced {args.work_ms:.0f} ms: {latency(paced)}")


def bench_video(args: argparse.Namespace, size: tuple[int, int], folder: Path) -> None:
    width, height = size
    n = args.video_frames
    path = write_video(folder / f"bench_{width}x{height}.mp4", n, size)
    print(f"\n== mp4v video {width}x{height}, {n} frames ({path.stat().st_size / 1e6:.1f} MB) ==")
    start = time.perf_counter()
    plain = VideoFileSource(path)
    scan = time.perf_counter() - start
    plain.frame(0)
    first = time.perf_counter() - start
    per_1000 = 1000 * scan / n * 1000
    print(f"open (index scan): {1000 * scan:.0f} ms = {per_1000:.0f} ms per 1000 frames")
    print(f"time to first frame: {1000 * first:.0f} ms")
    print(f"forward, no cache, tight loop:  {rate(timed(plain, range(1, n)))}")
    back = timed(plain, range(n - 1, n - 61, -1))
    print(f"backward, no cache, 60 steps:   {rate(back)}  ({latency(back)})")
    rng = np.random.default_rng(1)
    jumps = timed(plain, rng.integers(0, n, 40).tolist())
    print(f"random jumps, no cache:         {rate(jumps)}  ({latency(jumps)})")
    print(f"decoder work: {plain.stats}")
    plain.close()

    cached = CachedFrameSource(VideoFileSource(path), 2 * GiB)
    timed(cached, range(n))
    warm = timed(cached, range(n))
    print(f"forward, warm cache, tight loop: {rate(warm)}  ({latency(warm)})")
    cached.close()
    _paced_pair(path, min(n - 1, args.frames), args)
    work = args.work_ms / 1000.0
    for prefetch in (0, args.prefetch):
        with open_frame_source(path, cache_bytes=2 * GiB, prefetch=prefetch) as source:
            top = n - 1
            source.frame(top)
            back = timed(source, range(top - 1, top - 1 - min(150, n - 2), -1), work)
            print(
                f"backward, cold cache, prefetch={prefetch:<2}, paced {args.work_ms:.0f} ms: "
                f"{latency(back)}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600, help="frames stepped per run")
    parser.add_argument("--video-frames", type=int, default=300, help="length of test videos")
    parser.add_argument("--prefetch", type=int, default=16, help="prefetch depth to compare")
    parser.add_argument("--work-ms", type=float, default=10.0, help="paced: view time per frame")
    args = parser.parse_args()
    print(f"OpenCV {cv2.__version__}, {cv2.getNumberOfCPUs()} CPUs")
    bench_image_folder(args)
    with tempfile.TemporaryDirectory() as folder:
        for size in ((640, 360), (1280, 720)):
            bench_video(args, size, Path(folder))


if __name__ == "__main__":
    main()
