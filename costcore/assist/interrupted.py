"""A tracking run the session file remembers while it goes, so a crash leaves a trace.

A re-propagation rewrites the frames after a correction one by one. Killed half-way, it leaves
the frames it had not reached holding boxes from before the correction, and nothing says so:
they look like any tracked frame. So a run writes what it plans to fill into the session
before it changes anything, and which frames got their final value as it goes; the record is
saved with every batch of frames (the same atomic write), and removed when the run ends in
any orderly way (done, cancelled, failed, stopped by an edit). A record found when a session
is opened means the run never ended: :func:`stale_frames` names the automatic frames it
planned but did not finish, and the app flags them (``FlagReason.STALE``) and says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from costcore.annotation import Provenance, VideoAnnotation

#: where the record lives in the session's app state (``ui``)
RUN_KEY = "running_job"

_AUTOMATIC = (Provenance.TRACKED, Provenance.INTERPOLATED)


@dataclass(frozen=True)
class RunRecord:
    """The frames a run plans to write and those it has finished (sets of frame indices)."""

    text: str
    planned: frozenset[int]
    finished: frozenset[int] = field(default_factory=frozenset)

    def finish(self, indices: Iterable[int]) -> RunRecord:
        return RunRecord(self.text, self.planned, self.finished | frozenset(indices))

    def unfinished(self) -> list[int]:
        return sorted(self.planned - self.finished)

    def to_json(self) -> dict[str, object]:
        """Plain JSON, compact for long runs: frames as ``[first, last]`` ranges."""
        return {
            "text": self.text,
            "planned": _ranges(self.planned),
            "finished": _ranges(self.finished),
        }

    @classmethod
    def from_json(cls, value: object, frame_count: int) -> RunRecord | None:
        """The record in ``value``; None when it is not one (damaged or foreign data is
        ignored: at worst a stale frame goes unmarked, never a good one marked)."""
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            return None
        planned = _indices(value.get("planned"), frame_count)
        finished = _indices(value.get("finished"), frame_count)
        if planned is None or finished is None:
            return None
        return cls(value["text"], planned, finished)


def stale_frames(annotation: VideoAnnotation, record: RunRecord) -> list[int]:
    """Frames the interrupted run planned but did not finish that hold an automatic box:
    values from before the run (or its provisional ones), not what it would have written."""
    return [
        i
        for i in record.unfinished()
        if annotation.frame(i).provenance in _AUTOMATIC and annotation.frame(i).box is not None
    ]


def _ranges(indices: Iterable[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in sorted(indices):
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _indices(value: object, frame_count: int) -> frozenset[int] | None:
    if not isinstance(value, list):
        return None
    out: set[int] = set()
    for item in value:
        if not (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
            and 0 <= item[0] <= item[1] < frame_count
        ):
            return None
        out.update(range(item[0], item[1] + 1))
    return frozenset(out)
