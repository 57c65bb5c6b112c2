"""Frame-exact random access to a video file through OpenCV's FFmpeg backend.

OpenCV's frame-number seek is time-based and lands on the wrong frame for some files, so every
position is checked: the file is indexed once at open (frame count and per-frame timestamps,
see ``scan.py``), and after a seek the decoder's timestamp says where it really is. Reading
forward never seeks; a seek that cannot be verified falls back to seeking further back and
finally to reopening the file and reading from frame 0. Correctness over speed, but sequential
reading costs one ``grab()`` per frame.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from costcore.errors import VideoError
from costcore.fileio import check_regular_file
from costcore.video.base import FrameSource
from costcore.video.damage import VideoDamage, find_damage
from costcore.video.indexing import check_index
from costcore.video.scan import (
    CancelCallback,
    ProgressCallback,
    VideoIndex,
    frame_digest,
    grab_next,
    open_capture,
    scan_video,
    timestamp_key,
)

#: read forward instead of seeking when at most this many extra frames must be decoded
FORWARD_READ_LIMIT = 30
#: how far before the target (in frames) successive seek attempts aim
_SEEK_BACKOFF = (0, 32, 256)


@dataclass
class DecoderStats:
    """How the decoder reached its frames; for tests and benchmarks."""

    grabs: int = 0
    seeks: int = 0
    reopens: int = 0


class VideoFileSource(FrameSource):
    """Frames of a video file; opening decodes the file once to index it (see ``scan.py``).

    ``progress(done, estimated_total)`` is called during that scan and ``cancel()`` returning
    True stops it with ``Cancelled``. ``fps`` overrides the container's frame rate.
    """

    #: reading frames in increasing order is much cheaper than any other order
    prefers_forward_reads = True

    def __init__(
        self,
        path: str | Path,
        *,
        fps: float | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelCallback | None = None,
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise VideoError(self.path, "no such file")
        if self.path.is_dir():
            raise VideoError(self.path, "is a folder, not a video file")
        try:
            check_regular_file(self.path)  # FFmpeg would wait forever on a FIFO
        except OSError as error:
            raise VideoError(self.path, f"cannot read the video: {error.strerror}") from None
        self._index: VideoIndex = scan_video(self.path, progress=progress, cancel=cancel)
        self._damage = find_damage(
            self.path,
            self._index.timestamps_us,
            self._index.container_frame_count,
            self._index.container_fps,
            self._index.decode_errors,
            timestamps_locate_frames=not _counts_frames_by_chunk(self.path),
        )
        self.fps = fps if fps is not None else self._index.nominal_fps()
        self.stats = DecoderStats()
        self._verifiable = self._index.timestamps_unique
        self._frame_by_timestamp = (
            {int(t): i for i, t in enumerate(self._index.timestamps_us)} if self._verifiable else {}
        )
        self._opencv_numbers = _opencv_frame_numbers(self._index)
        self._lock = threading.RLock()
        self._capture: cv2.VideoCapture | None = open_capture(self.path)
        self._position: int | None = -1  # frame last grabbed; -1 before frame 0; None unknown
        if self._verifiable:
            self._verifiable = self._seeking_is_trustworthy()

    # -- FrameSource ------------------------------------------------------------------------

    @property
    def frame_count(self) -> int:
        return self._index.frame_count

    @property
    def frame_size(self) -> tuple[int, int]:
        return self._index.frame_size

    @property
    def fps(self) -> float:
        return self._fps

    @fps.setter
    def fps(self, value: float) -> None:
        value = float(value)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"fps must be a positive number, got {value}")
        self._fps = value

    def previous_keyframe(self, index: int) -> int | None:
        """The keyframe at or before frame ``index`` (where reading forward to it starts);
        None when the file does not say (readers that go backwards plan their chunks by it)."""
        return self._index.previous_keyframe(index)

    @property
    def damage(self) -> VideoDamage | None:
        """The frames the container declares that do not decode (None: a healthy file)."""
        return self._damage

    @property
    def timestamps_ms(self) -> np.ndarray:
        """Presentation time of every frame in milliseconds (from the container)."""
        return self._index.timestamps_us / 1000.0

    def frame(self, index: int) -> np.ndarray:
        i = check_index(index, self.frame_count)
        with self._lock:
            bgr = self._read(i)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        with self._lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None
            self._position = None

    def __repr__(self) -> str:
        return f"VideoFileSource({str(self.path)!r}, frames={self.frame_count})"

    # -- decoder positioning (all under self._lock) -------------------------------------------

    def _read(self, i: int) -> np.ndarray:
        if self._capture is None:
            raise VideoError(self.path, "the video has been closed", i)
        if self._forward_is_cheaper(i) and self._advance_to(i):
            return self._retrieve(i)
        if self._seek_before(i) and self._advance_to(i):
            return self._retrieve(i)
        self._reopen()
        if self._advance_to(i):
            return self._retrieve(i)
        raise VideoError(self.path, "this frame cannot be decoded", i)

    def _seeking_is_trustworthy(self) -> bool:
        """Whether a timestamp reached by seeking names the frame the scan saw with it.

        Only checked when the scan's count differs from the container's (a damaged file, or a
        container that only estimates). In a damaged AVI, reading in order skips broken chunks
        and renumbers the timestamps while a seek goes by the index, so a timestamp no longer
        names one frame: then only reading forward from a known position is trustworthy.
        """
        if self._index.frame_count == self._index.container_frame_count:
            return True
        return not _counts_frames_by_chunk(self.path) and self._seeks_match_scan()

    def _seeks_match_scan(self) -> bool:
        """Whether frames reached by seeking are the frames the scan saw at those indices."""
        for i, digest in self._index.samples:
            if self._seek_before(i) and self._advance_to(i):
                ok, image = self._capture.retrieve()
                if ok and image is not None and frame_digest(image) != digest:
                    return False
        return True

    @property
    def seeks_verified(self) -> bool:
        """False when seeking proved unreliable and frames are only ever read forward."""
        return self._verifiable

    def _forward_is_cheaper(self, i: int) -> bool:
        """Whether grabbing forward from the current position beats a seek."""
        position = self._position
        if position is None or position > i:
            return False
        if not self._verifiable:
            return True  # seeks cannot be checked, so never seek forward
        keyframe = self._index.previous_keyframe(i)
        if keyframe is None:
            return i - position <= FORWARD_READ_LIMIT
        # A seek decodes from the keyframe before i at best; reading on decodes from here.
        return keyframe <= position or i - position <= (i - keyframe) + FORWARD_READ_LIMIT

    def _seek_before(self, i: int) -> bool:
        """Seek to a verified position at or before frame ``i``; False when that fails."""
        if not self._verifiable:
            return False
        capture = self._capture
        assert capture is not None
        for back in _SEEK_BACKOFF:
            # OpenCV's seek to n leaves frame n-1 grabbed, so n >= 1 gives a timestamp to check.
            target = int(self._opencv_numbers[i]) + 1 - back
            if target < 1:
                break
            self.stats.seeks += 1
            self._position = None
            try:
                capture.set(cv2.CAP_PROP_POS_FRAMES, target)
                landed = self._frame_by_timestamp.get(
                    timestamp_key(capture.get(cv2.CAP_PROP_POS_MSEC))
                )
            except cv2.error:
                return False
            if landed is not None and landed <= i:
                self._position = landed
                return True
            if target == 1:
                break
        return False

    def _advance_to(self, i: int) -> bool:
        """Grab forward until frame ``i`` is the current one and its timestamp agrees.

        Failed grabs are stepped over as the scan did (a damaged stretch of the file), so the
        n-th frame that decodes is frame n; with verifiable timestamps every grabbed frame is
        located by its timestamp instead of by counting.
        """
        capture = self._capture
        assert capture is not None and self._position is not None
        while self._position < i:
            grabbed, _ = grab_next(capture)
            if not grabbed:
                self._position = None
                return False
            self.stats.grabs += 1
            if not self._verifiable:
                self._position += 1
                continue
            landed = self._frame_by_timestamp.get(timestamp_key(capture.get(cv2.CAP_PROP_POS_MSEC)))
            if landed is None or landed <= self._position:
                self._position = None  # a frame the scan never saw: lost our place
                return False
            self._position = landed
        if self._verifiable:
            now = timestamp_key(capture.get(cv2.CAP_PROP_POS_MSEC))
            if now != int(self._index.timestamps_us[i]):
                self._position = None
                return False
        return True

    def _retrieve(self, i: int) -> np.ndarray:
        capture = self._capture
        assert capture is not None
        try:
            ok, image = capture.retrieve()
        except cv2.error:
            ok, image = False, None
        if not ok or image is None:
            raise VideoError(self.path, "this frame cannot be decoded", i)
        size = (image.shape[1], image.shape[0])
        if size != self.frame_size or image.ndim != 3 or image.shape[2] != 3:
            expected = "x".join(map(str, self.frame_size))
            got = "x".join(map(str, size))
            raise VideoError(self.path, f"frame is {got}, but the video is {expected}", i)
        return image

    def _reopen(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture = None
        self._position = None
        self._capture = open_capture(self.path)
        self._position = -1
        self.stats.reopens += 1


def _counts_frames_by_chunk(path: Path) -> bool:
    """AVI timestamps are chunk counters, so they shift after a damaged chunk."""
    return path.suffix.lower() in {".avi", ".divx"}


def _opencv_frame_numbers(index: VideoIndex) -> np.ndarray:
    """The frame number OpenCV's seek associates with each frame (timestamp x fps).

    Equal to the frame index for constant frame rate; for variable rate, aiming OpenCV's seek
    by this number lands near the wanted frame instead of at index/fps seconds.
    """
    fps = index.container_fps
    if not (math.isfinite(fps) and fps > 0):
        return np.arange(index.frame_count, dtype=np.int64)
    seconds = index.timestamps_us.astype(np.float64) / 1e6
    numbers = np.floor(seconds * fps + 0.5).astype(np.int64)
    return numbers - numbers[0]
