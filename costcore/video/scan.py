"""One pass over a video file that learns what OpenCV's properties cannot be trusted to say.

``CAP_PROP_FRAME_COUNT`` is an estimate from the container (wrong for many files, and for
truncated ones), and seeking by frame number lands on the wrong frame for variable frame rate
or badly indexed files. So a video is decoded once with ``grab()`` (no colour conversion) to
count the frames that really decode and to record each one's timestamp; later seeks are
verified against those timestamps.

A damaged stretch of a file makes ``grab()`` fail and then go on with the next frames, so a
failure does not end the scan: :func:`grab_next` steps over up to
:data:`MAX_CONSECUTIVE_FAILURES` of them (reading does the same), the frames after the damage
stay reachable, and :mod:`costcore.video.damage` reports what was lost.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from costcore.errors import Cancelled, VideoError

#: ``progress(frames_scanned, estimated_total)``; the estimate is the container's and may be 0
ProgressCallback = Callable[[int, int], None]
#: returns True when the user wants the scan to stop (``threading.Event.is_set`` fits)
CancelCallback = Callable[[], bool]

_I_FRAME = ord("I")
# OpenCV < 4.10 has no frame-type property: no keyframes are known then, which only costs speed
_FRAME_TYPE = getattr(cv2, "CAP_PROP_FRAME_TYPE", None)
_PROGRESS_INTERVAL_S = 0.1
#: at most this many frames are fingerprinted during the scan (see ``VideoIndex.samples``)
MAX_SAMPLES = 4
_MIN_SAMPLE_STRIDE = 32
#: failed grabs in a row after which the stream is taken to have ended (at the true end every
#: grab fails at once, so this costs nothing there)
MAX_CONSECUTIVE_FAILURES = 32


def grab_next(capture: cv2.VideoCapture) -> tuple[bool, int]:
    """Grab the next frame that decodes: ``(grabbed, failed grabs stepped over)``.

    ``(False, n)`` means the end of the stream (or of everything readable in it).
    """
    failures = 0
    while failures < MAX_CONSECUTIVE_FAILURES:
        try:
            if capture.grab():
                return True, failures
        except cv2.error:
            pass
        failures += 1
    return False, failures


def open_capture(path: Path) -> cv2.VideoCapture:
    """An FFmpeg ``VideoCapture`` on ``path``; ``VideoError`` when FFmpeg cannot open it."""
    try:
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    except cv2.error as error:
        raise VideoError(path, f"cannot open video: {error.err}") from None
    if not capture.isOpened():
        capture.release()
        raise VideoError(path, "cannot open video (not a video file, or an unsupported codec)")
    return capture


def timestamp_key(milliseconds: float) -> int:
    """A timestamp as whole microseconds, so equal frames compare equal as integers."""
    return round(milliseconds * 1000.0)


@dataclass(frozen=True)
class VideoIndex:
    """What one decoding pass learned about a video.

    ``timestamps_us[i]`` is frame i's presentation time (µs, from ``CAP_PROP_POS_MSEC``);
    ``keyframes`` are the indices of the intra-coded frames, used only to estimate whether
    reading forward is cheaper than seeking (empty when the decoder does not say).
    ``samples`` pairs a few frame indices with a digest of the frame as read in order, so a
    frame reached by seeking can be compared with the same frame reached by reading.
    ``container_frame_count`` is what the container claims (0 when it does not say);
    ``decode_errors`` counts the failed grabs the scan stepped over between decoded frames.
    """

    timestamps_us: np.ndarray
    keyframes: np.ndarray
    frame_size: tuple[int, int]
    container_fps: float
    container_frame_count: int = 0
    samples: tuple[tuple[int, bytes], ...] = ()
    decode_errors: int = 0

    @property
    def frame_count(self) -> int:
        return len(self.timestamps_us)

    @property
    def timestamps_unique(self) -> bool:
        """Whether a timestamp identifies its frame, i.e. whether seeks can be verified."""
        return len(np.unique(self.timestamps_us)) == len(self.timestamps_us)

    def nominal_fps(self) -> float:
        """The container's frame rate, else one derived from the timestamps, else 30."""
        fps = self.container_fps
        if math.isfinite(fps) and 0.0 < fps <= 1000.0:
            return fps
        steps = np.diff(self.timestamps_us)
        steps = steps[steps > 0]
        if len(steps):
            derived = 1e6 / float(np.median(steps))
            if 0.0 < derived <= 1000.0:
                return derived
        return 30.0

    def previous_keyframe(self, index: int) -> int | None:
        """The last intra frame at or before ``index``; None when keyframes are unknown."""
        if not len(self.keyframes):
            return None
        position = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[position]) if position >= 0 else 0


def scan_video(
    path: Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> VideoIndex:
    """Decode ``path`` once (grab only) and index every frame that decodes.

    Raises ``VideoError`` when the file cannot be opened or not a single frame decodes, and
    ``Cancelled`` when ``cancel()`` turns true.
    """
    capture = open_capture(path)
    try:
        estimate = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        estimate = int(estimate) if math.isfinite(estimate) and estimate > 0 else 0
        container_fps = float(capture.get(cv2.CAP_PROP_FPS))
        timestamps: list[int] = []
        keyframes: list[int] = []
        frame_size: tuple[int, int] | None = None
        samples = _Sampler(estimate)
        decode_errors = 0
        next_report = time.monotonic() + _PROGRESS_INTERVAL_S
        while True:
            if cancel is not None and cancel():
                raise Cancelled(f"{path}: reading the video was cancelled")
            grabbed, skipped = grab_next(capture)
            if not grabbed:
                break
            decode_errors += skipped
            index = len(timestamps)
            timestamps.append(timestamp_key(capture.get(cv2.CAP_PROP_POS_MSEC)))
            if _FRAME_TYPE is not None and capture.get(_FRAME_TYPE) == _I_FRAME:
                keyframes.append(index)
            if frame_size is None:
                frame_size = _first_frame_size(capture, path)
            elif samples.wants(index):
                samples.add(index, capture)
            if progress is not None and time.monotonic() >= next_report:
                progress(index + 1, estimate)
                next_report = time.monotonic() + _PROGRESS_INTERVAL_S
    finally:
        capture.release()
    if not timestamps or frame_size is None:
        raise VideoError(path, "no frame of the video can be decoded")
    if progress is not None:
        progress(len(timestamps), len(timestamps))
    return VideoIndex(
        timestamps_us=np.asarray(timestamps, dtype=np.int64),
        keyframes=np.asarray(keyframes, dtype=np.int64),
        frame_size=frame_size,
        container_fps=container_fps,
        container_frame_count=estimate,
        samples=samples.collected(),
        decode_errors=decode_errors,
    )


def frame_digest(image: np.ndarray) -> bytes:
    """A short digest identifying a decoded frame's exact pixels."""
    return hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).digest()


class _Sampler:
    """Fingerprints frames at a regular stride, doubling it to keep at most ``MAX_SAMPLES``.

    The stride comes from the container's frame-count estimate (which may be wrong or 0);
    thinning keeps the samples spread over the whole file however long it turns out to be.
    """

    def __init__(self, estimate: int) -> None:
        self.stride = max(_MIN_SAMPLE_STRIDE, estimate // (MAX_SAMPLES + 1))
        self._samples: dict[int, bytes] = {}

    def wants(self, index: int) -> bool:
        return index % self.stride == 0

    def add(self, index: int, capture: cv2.VideoCapture) -> None:
        ok, image = capture.retrieve()
        if not ok or image is None:
            return
        self._samples[index] = frame_digest(image)
        if len(self._samples) > MAX_SAMPLES:
            self.stride *= 2
            self._samples = {i: d for i, d in self._samples.items() if i % self.stride == 0}

    def collected(self) -> tuple[tuple[int, bytes], ...]:
        return tuple(sorted(self._samples.items()))


def _first_frame_size(capture: cv2.VideoCapture, path: Path) -> tuple[int, int]:
    """Size of the decoded first frame, after any rotation OpenCV applies from metadata."""
    ok, image = capture.retrieve()
    if not ok or image is None:
        raise VideoError(path, "the first frame cannot be decoded", 0)
    return (int(image.shape[1]), int(image.shape[0]))
