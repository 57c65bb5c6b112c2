"""What can still be read from a damaged session file: a tolerant parse of its complete parts.

A session cut short by a full disk or a crash outside our atomic save (a copy, a sync tool)
fails to load as a whole, yet its first part usually holds the video fields, the language, the
attributes and many frames, often every keyframe. The file is written header first (``video``,
``language``, ``attributes``), then one short entry per frame in frame order, so the salvage
reads the header, then frame entries one by one, and stops at the first entry that does not
parse or does not validate: past a damaged entry the index of the next one is no longer
certain, and a keyframe at the wrong index is worse than a lost one. Nothing is guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from costcore.annotation.model import Provenance, VideoAnnotation
from costcore.annotation.session_codec import _Decoder
from costcore.errors import SessionError

_FRAMES_KEY = '"frames":['


@dataclass(frozen=True)
class Salvage:
    """The readable part of a damaged session: frames after ``frames_read`` are unannotated."""

    annotation: VideoAnnotation
    frames_read: int
    keyframes: int

    def describe(self) -> str:
        total = self.annotation.frame_count
        return (
            f"{self.frames_read} of {total} frames could be read back "
            f"({self.keyframes} keyframes among them)"
        )


def salvage_session(path: str | Path, data: bytes) -> Salvage | None:
    """The complete parts of session bytes ``data``; None when not even the header is whole.

    ``path`` only names the file in messages. The result is validated like a normal load
    (every frame entry through the session decoder), so it is safe to resume from.
    """
    path = Path(path)
    text = data.decode("utf-8", errors="replace")
    start = text.find(_FRAMES_KEY)
    if start < 0:
        return None
    header = text[:start].rstrip().rstrip(",") + "}"
    try:
        document = json.loads(header)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    decoder = _Decoder(path)
    video = document.get("video")
    frame_count = video.get("frame_count") if isinstance(video, dict) else None
    if not isinstance(frame_count, int) or isinstance(frame_count, bool) or frame_count < 1:
        return None
    rows = _frame_rows(text, start + len(_FRAMES_KEY), frame_count, decoder)
    document["frames"] = rows + [None] * (frame_count - len(rows))
    document["ui"] = {}
    try:
        annotation, _ui = decoder.session(document)
    except SessionError:
        return None
    keyframes = sum(
        1 for f in annotation.frames[: len(rows)] if f.provenance is Provenance.KEYFRAME
    )
    return Salvage(annotation, len(rows), keyframes)


def _frame_rows(text: str, at: int, limit: int, decoder: _Decoder) -> list[object]:
    """Frame entries from position ``at`` up to the first one that does not read or validate."""
    parse = json.JSONDecoder().raw_decode
    rows: list[object] = []
    while len(rows) < limit:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        try:
            row, end = parse(text, at)
            decoder.frame(len(rows), row)
        except (ValueError, RecursionError, SessionError):
            break
        rows.append(row)
        at = end
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if at >= len(text) or text[at] != ",":
            break  # the end of the list (or of what is left of the file)
        at += 1
    return rows
