"""Salvaging a damaged session file: the frames that parse, at their exact indices; and
keeping a session that could not be loaded aside instead of overwriting it (no Qt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from costcore.annotation import (
    UNANNOTATED,
    FrameAnnotation,
    Provenance,
    VideoAnnotation,
    encode_session,
)
from costcore.annotation.salvage import salvage_session
from costcore.annotation.workspace import set_aside

COUNT = 200


def annotated() -> VideoAnnotation:
    """Keyframes every 10 frames in the first half, tracked frames between, nothing after."""
    frames = [UNANNOTATED] * COUNT
    for i in range(100):
        box = (10.0 + i, 20.0, 30.0, 15.5)
        if i % 10 == 0:
            frames[i] = FrameAnnotation(box, provenance=Provenance.KEYFRAME)
        else:
            frames[i] = FrameAnnotation(box, provenance=Provenance.TRACKED, score=0.5, engine="x")
    frames[55] = FrameAnnotation(absent=True, provenance=Provenance.KEYFRAME)
    attributes = [0] * 17
    attributes[3] = 1
    return VideoAnnotation("plane", COUNT, source="/v/plane.mp4", frame_size=(640, 360),
                           fps=25.0, language="a white plane", attributes=attributes,
                           frames=frames)  # fmt: skip


def test_a_truncated_file_gives_back_every_complete_frame_at_its_index(tmp_path) -> None:
    video = annotated()
    data = encode_session(video, {"frame": 3})
    frames_start = data.index(b'"frames":[')
    cut = data[: frames_start + (len(data) - frames_start) // 3]  # mid-way through the frames
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut)
    result = salvage_session(tmp_path / "session.json", cut)
    assert result is not None
    got = result.annotation
    assert got.frame_count == COUNT and got.name == "plane" and got.language == "a white plane"
    assert got.attributes == video.attributes and got.source == video.source
    n = result.frames_read
    assert 10 < n < COUNT
    assert list(got.frames[:n]) == list(video.frames[:n])  # exact, index for index
    assert all(f == UNANNOTATED for f in got.frames[n:])
    assert result.keyframes == len([i for i in video.keyframes() if i < n])
    assert "frames" in result.describe() and str(n) in result.describe()


def test_the_salvage_stops_at_the_first_damaged_frame(tmp_path) -> None:
    """Past a damaged entry the indices of the rest are not certain: nothing is guessed."""
    video = annotated()
    data = bytearray(encode_session(video))
    at = data.index(b'"keyframe"', data.index(b'"frames":[') + 2000)
    data[at + 3] = ord("#")  # a flipped byte inside a frame entry, the file stays whole
    result = salvage_session(tmp_path / "session.json", bytes(data))
    assert result is not None and 0 < result.frames_read < COUNT
    n = result.frames_read
    assert list(result.annotation.frames[:n]) == list(video.frames[:n])


def test_a_file_damaged_before_its_frames_salvages_nothing(tmp_path) -> None:
    data = encode_session(annotated())
    assert salvage_session(tmp_path / "s.json", data[:40]) is None
    assert salvage_session(tmp_path / "s.json", b"\x00\xff garbage") is None
    assert salvage_session(tmp_path / "s.json", b"") is None


def test_set_aside_keeps_both_files_under_recognisable_names(tmp_path) -> None:
    session = tmp_path / "session.json"
    session.write_bytes(b"main")
    Path(str(session) + ".bak").write_bytes(b"backup")
    kept = set_aside(session, "damaged")
    assert not session.exists() and not Path(str(session) + ".bak").exists()
    assert [p.read_bytes() for p in kept] == [b"main", b"backup"]
    assert all("damaged" in p.name and p.parent == tmp_path for p in kept)
    # a second set-aside in the same second never overwrites the first
    session.write_bytes(b"again")
    again = set_aside(session, "damaged")
    assert again[0] != kept[0] and again[0].read_bytes() == b"again"
    assert kept[0].read_bytes() == b"main"
    assert set_aside(tmp_path / "missing.json", "damaged") == []
