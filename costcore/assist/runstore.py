"""Engine runs kept on disk, so a repeated effort benchmark does not track again.

An engine run is a pure function of the sequence, the engine, the start frame, the start box
and the direction; the effort simulation starts runs only from a person's boxes (the ground
truth), so the same runs come back in every benchmark of a sequence. ``bench effort
--run-cache DIR`` keeps them in ``DIR`` (a long sequence takes a quarter of an hour of CSRT the
first time, seconds after that). Boxes, scores, "lost" and the appearance measure are kept;
score maps are not.

Files are plain ``.npz`` arrays read with ``allow_pickle=False``: a damaged or foreign file is
ignored and the run is tracked again, never trusted or unpickled.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcore.assist.updates import Anchor, FrameUpdate
from costcore.boxes import Box
from costcore.fileio import atomic_write_bytes


@dataclass(frozen=True)
class StoredRun:
    """What is kept of one run: its steps in tracking order, and whether it reached the end."""

    updates: list[FrameUpdate]
    complete: bool


class RunStore:
    """Runs of one engine on one sequence, one ``.npz`` file per run under ``folder``."""

    def __init__(self, folder: str | Path, engine: str, sequence: str, frame_count: int) -> None:
        self.engine = engine
        self.frame_count = int(frame_count)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{sequence}")
        tag = hashlib.sha1(f"{engine}\0{sequence}\0{frame_count}".encode()).hexdigest()[:10]
        self.folder = Path(folder) / f"{safe}-{self.frame_count}-{tag}"

    def path(self, anchor: Anchor, backwards: bool) -> Path:
        box = ",".join(f"{float(v):.4f}" for v in anchor.box)
        digest = hashlib.sha1(box.encode()).hexdigest()[:12]
        return self.folder / f"{anchor.index}-{'b' if backwards else 'f'}-{digest}.npz"

    def load(self, anchor: Anchor, backwards: bool) -> StoredRun | None:
        """The stored run, or None when there is none or the file cannot be read as one."""
        path = self.path(anchor, backwards)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                index = np.asarray(data["index"], dtype=np.int64)
                boxes = np.asarray(data["box"], dtype=np.float64)
                scores = np.asarray(data["score"], dtype=np.float64)
                lost = np.asarray(data["lost"], dtype=bool)
                complete = bool(data["complete"])
                start = np.asarray(data["start"], dtype=np.float64)
                # runs stored before the appearance was measured have none
                looks = (
                    np.asarray(data["appearance"], dtype=np.float64)
                    if "appearance" in data.files
                    else np.full(len(index), np.nan)
                )
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None
        count = len(index)
        step = -1 if backwards else 1
        expected = np.arange(anchor.index + step, anchor.index + step * (count + 1), step)
        if (
            boxes.shape != (count, 4)
            or scores.shape != (count,)
            or lost.shape != (count,)
            or looks.shape != (count,)
            or start.shape != (5,)
            or not np.array_equal(index, expected)
            or not np.allclose(start, [anchor.index, *anchor.box], atol=1e-4)
        ):
            return None
        direction = "backward" if backwards else "forward"
        updates = [
            FrameUpdate(
                int(i),
                Box(*b),
                self.engine,
                score=None if np.isnan(s) else float(s),
                lost=bool(x),
                source=direction,
                appearance=None if np.isnan(a) else float(a),
            )
            for i, b, s, x, a in zip(index, boxes.tolist(), scores, lost, looks, strict=True)
        ]
        return StoredRun(updates, complete)

    def save(self, anchor: Anchor, backwards: bool, run: StoredRun) -> None:
        """Write ``run`` (atomically: an interrupted benchmark leaves no half file)."""
        arrays = {
            "index": np.array([u.index for u in run.updates], dtype=np.int64),
            "box": np.array([tuple(u.box) for u in run.updates], dtype=np.float64).reshape(-1, 4),
            "score": np.array(
                [np.nan if u.score is None else u.score for u in run.updates], dtype=np.float64
            ),
            "lost": np.array([u.lost for u in run.updates], dtype=bool),
            "appearance": np.array(
                [np.nan if u.appearance is None else u.appearance for u in run.updates],
                dtype=np.float64,
            ),
            "complete": np.array(run.complete),
            "start": np.array([anchor.index, *anchor.box], dtype=np.float64),
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(self.path(anchor, backwards), buffer.getvalue())
