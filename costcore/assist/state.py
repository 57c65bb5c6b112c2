"""Per-frame diagnostics of automatic work, kept beside the annotation (not inside it).

The annotation holds what a frame *is* (box, provenance, score); :class:`AssistState` holds
what the tools found out *about* it: the forward/backward agreement of a segment fill, whether
the engine said "lost", and the score map. Each diagnostic remembers the box it was made for
and is ignored once the frame holds a different box (after an undo, a correction or another
run), so flags never rest on stale numbers. Saved next to ``session.json`` as one ``.npz``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcore.annotation import VideoAnnotation
from costcore.assist.scoremaps import ScoreMapStore, load_npz, save_npz
from costcore.assist.updates import FrameUpdate
from costcore.errors import FormatError

#: the file beside session.json
STATE_FILE = "assist.npz"


@dataclass(frozen=True)
class Diagnostics:
    """Arrays over all frames (valid for the annotation they were read against)."""

    agreement: np.ndarray  # (N,) float64, NaN = no forward/backward comparison
    resolved: np.ndarray  # (N,) bool
    lost: np.ndarray  # (N,) bool
    #: (N,) float64, the box's likeness to its run's anchor (``assist.appearance``), NaN = none
    appearance: np.ndarray | None = None
    #: (N,) bool, a run was interrupted before it re-tracked this box (``assist.interrupted``)
    stale: np.ndarray | None = None

    def appearance_or_nan(self) -> np.ndarray:
        if self.appearance is not None:
            return self.appearance
        return np.full(len(self.agreement), np.nan)


class AssistState:
    """Diagnostics and score maps of one video."""

    def __init__(self, frame_count: int) -> None:
        self.frame_count = int(frame_count)
        self._box = np.full((self.frame_count, 4), np.nan)
        self._agreement = np.full(self.frame_count, np.nan)
        self._resolved = np.zeros(self.frame_count, dtype=bool)
        self._lost = np.zeros(self.frame_count, dtype=bool)
        self._appearance = np.full(self.frame_count, np.nan)
        self._stale = np.zeros(self.frame_count, dtype=bool)
        self.score_maps = ScoreMapStore()

    def record(self, update: FrameUpdate) -> None:
        """Remember what a job found about one frame (the box it wrote included)."""
        i = update.index
        self._box[i] = update.box
        self._agreement[i] = np.nan if update.agreement is None else update.agreement
        self._resolved[i] = update.resolved
        self._lost[i] = update.lost
        self._appearance[i] = np.nan if update.appearance is None else update.appearance
        self._stale[i] = False  # a run reached it
        if update.score_map is not None and update.search_region is not None:
            self.score_maps.put(i, update.score_map, update.search_region)

    def record_all(self, updates: Iterable[FrameUpdate]) -> None:
        for update in updates:
            self.record(update)

    def forget(self, indices: Iterable[int]) -> None:
        for i in indices:
            self._box[i] = np.nan
            self._agreement[i] = np.nan
            self._resolved[i] = False
            self._lost[i] = False
            self._appearance[i] = np.nan
            self._stale[i] = False

    def mark_stale(self, indices: Iterable[int], annotation: VideoAnnotation) -> None:
        """Frames an interrupted run did not re-track: stale for as long as they hold the
        box they hold now (other diagnostics of the frame are kept if made for that box)."""
        boxes = annotation.boxes_array()
        for i in indices:
            if not np.all(np.abs(boxes[i] - self._box[i]) < 1e-6):
                self.forget([i])
                self._box[i] = boxes[i]
            self._stale[i] = True

    def diagnostics(self, annotation: VideoAnnotation) -> Diagnostics:
        """The diagnostics that still describe the boxes ``annotation`` holds now."""
        boxes = annotation.boxes_array()
        valid = np.all(np.abs(boxes - self._box) < 1e-6, axis=1)
        return Diagnostics(
            agreement=np.where(valid, self._agreement, np.nan),
            resolved=valid & self._resolved,
            lost=valid & self._lost,
            appearance=np.where(valid, self._appearance, np.nan),
            stale=valid & self._stale,
        )

    # ------------------------------------------------------------------ file
    def save(self, path: str | Path) -> None:
        arrays = {
            "diag_box": self._box,
            "diag_agreement": self._agreement,
            "diag_resolved": self._resolved,
            "diag_lost": self._lost,
            "diag_appearance": self._appearance,
            "diag_stale": self._stale,
            **self.score_maps.arrays(),
        }
        save_npz(path, arrays)

    @classmethod
    def load(cls, path: str | Path, frame_count: int) -> AssistState:
        """Read a state file; FormatError when it is damaged or made for another length."""
        path = Path(path)
        arrays = load_npz(path)
        state = cls(frame_count)
        try:
            box = np.asarray(arrays["diag_box"], dtype=np.float64)
            agreement = np.asarray(arrays["diag_agreement"], dtype=np.float64)
            resolved = np.asarray(arrays["diag_resolved"], dtype=bool)
            lost = np.asarray(arrays["diag_lost"], dtype=bool)
        except KeyError as error:
            raise FormatError(path, f"missing {error}") from None
        if box.shape != (frame_count, 4) or any(
            len(a) != frame_count for a in (agreement, resolved, lost)
        ):
            raise FormatError(path, f"made for another video (not {frame_count} frames)")
        state._box, state._agreement, state._resolved, state._lost = box, agreement, resolved, lost
        if "diag_appearance" in arrays:  # files from before it was measured have none
            appearance = np.asarray(arrays["diag_appearance"], dtype=np.float64)
            if appearance.shape != (frame_count,):
                raise FormatError(path, f"made for another video (not {frame_count} frames)")
            state._appearance = appearance
        if "diag_stale" in arrays:
            stale = np.asarray(arrays["diag_stale"], dtype=bool)
            if stale.shape != (frame_count,):
                raise FormatError(path, f"made for another video (not {frame_count} frames)")
            state._stale = stale
        state.score_maps = ScoreMapStore.from_arrays(arrays, path)
        if any(not 0 <= i < frame_count for i in state.score_maps):
            raise FormatError(path, "score map of a frame outside the video")
        return state
