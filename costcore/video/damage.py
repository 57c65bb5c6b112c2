"""What a damaged video file lost: the frames its container declares but that do not decode.

A video with flipped bytes or cut short still opens, and the frames that decode are frame
exact; the others are simply not there. Tracking or annotating such a file without saying so
gives results silently shorter than the video (and misaligned with any ground truth), so the
index scan records how much it skipped and this module turns that into a report for people:
how many frames the container declares, how many decode, and where the missing ones were.

Frames are located by their timestamps at the container's frame rate, so the ranges are
exact for constant-frame-rate video; when the timestamps do not fit that (variable frame
rate), only the counts are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: a container's frame count may be an estimate (duration x rate): this many frames (or 1 %)
#: fewer decoded frames than declared is not taken for damage, unless the decoder failed
COUNT_TOLERANCE = 2


@dataclass(frozen=True)
class VideoDamage:
    """Frames of a video file that could not be decoded.

    ``expected`` is the container's frame count, ``decodable`` the frames the scan decoded
    (the source's ``frame_count``), ``missing`` 0-based inclusive ``(first, last)`` ranges in
    the container's numbering (empty when they could not be located), ``decode_errors`` the
    decoder failures the scan stepped over.
    """

    path: Path
    expected: int
    decodable: int
    missing: tuple[tuple[int, int], ...] = ()
    decode_errors: int = 0

    @property
    def missing_count(self) -> int:
        return max(self.expected - self.decodable, 0)

    def ranges_text(self) -> str:
        """``"frame 59, frames 61-120"`` (1-based, as everywhere users read frame numbers)."""
        parts = [
            f"frame {first + 1}" if first == last else f"frames {first + 1}-{last + 1}"
            for first, last in self.missing
        ]
        if len(parts) > 6:
            parts = [*parts[:6], f"and {len(parts) - 6} more ranges"]
        return ", ".join(parts)

    def describe(self) -> str:
        """One sentence naming the file, for a warning in the CLI or the app."""
        if self.expected > self.decodable:
            text = (
                f"{self.path}: the video is damaged: only {self.decodable} of its "
                f"{self.expected} frames can be decoded"
            )
        else:
            text = (
                f"{self.path}: the video is damaged: the decoder failed "
                f"{self.decode_errors} time(s); {self.decodable} frames can be decoded"
            )
        if self.missing:
            text += f"; missing: {self.ranges_text()}"
        return text + ". Frame numbers count the decodable frames only."


def find_damage(
    path: Path,
    timestamps_us: np.ndarray,
    container_frame_count: int,
    container_fps: float,
    decode_errors: int,
    *,
    timestamps_locate_frames: bool = True,
) -> VideoDamage | None:
    """The damage a scan found, or None for a healthy file.

    ``timestamps_locate_frames`` is False for containers whose timestamps are renumbered past
    a damaged chunk (AVI): then only the counts are reported.
    """
    decodable = len(timestamps_us)
    expected = container_frame_count
    short = expected - decodable > max(COUNT_TOLERANCE, expected // 100)
    if not short and decode_errors == 0:
        return None
    missing: tuple[tuple[int, int], ...] = ()
    if timestamps_locate_frames:
        missing = _missing_ranges(timestamps_us, max(expected, decodable), container_fps)
    return VideoDamage(path, expected, decodable, missing, decode_errors)


def _missing_ranges(
    timestamps_us: np.ndarray, expected: int, fps: float
) -> tuple[tuple[int, int], ...]:
    """Frame numbers (timestamp x rate) absent among the decoded frames, as ranges."""
    if not (np.isfinite(fps) and fps > 0) or not len(timestamps_us):
        return ()
    numbers = np.floor(timestamps_us.astype(np.float64) * fps / 1e6 + 0.5).astype(np.int64)
    if np.any(np.diff(numbers) <= 0) or numbers[0] < 0 or numbers[-1] >= expected:
        return ()  # not constant-rate numbering: the gaps would be guesses
    present = np.zeros(expected, dtype=bool)
    present[numbers] = True
    if int(present.sum()) != len(numbers):
        return ()
    ranges = []
    start = None
    for index, here in enumerate(present.tolist()):
        if not here and start is None:
            start = index
        elif here and start is not None:
            ranges.append((start, index - 1))
            start = None
    if start is not None:
        ranges.append((start, expected - 1))
    return tuple(ranges)
