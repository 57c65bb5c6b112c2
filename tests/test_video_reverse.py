"""Backward reading decodes forward in chunks and hands frames out in reverse (no Qt)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from costcore.assist.jobs import EngineRunner
from costcore.assist.updates import Anchor
from costcore.boxes import Box
from costcore.errors import VideoError
from costcore.video import open_frame_source
from costcore.video.reverse import ReverseFrames
from tests.assist_fakes import ScriptedEngine


def long_gop_video(folder: Path, crossing: Path, gop: int = 250) -> Path:
    """Crossing's 120 frames as an mp4 with one keyframe every ``gop`` frames (like a camera
    file: decoding frame i means decoding every frame from the keyframe before it)."""
    path = folder / "crossing.mp4"
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")
    params = [cv2.VIDEOWRITER_PROP_GOP_SIZE, gop]
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, fourcc, 30.0, (360, 240), params)
    assert writer.isOpened()
    for image in sorted((crossing / "img").glob("*.jpg")):
        writer.write(cv2.imread(str(image)))
    writer.release()
    return path


@pytest.fixture
def video(tmp_path: Path, crossing: Path) -> Path:
    return long_gop_video(tmp_path, crossing)


def test_frames_read_backwards_are_the_sources_frames(video: Path) -> None:
    source = open_frame_source(video, cache_bytes=0)
    forward = [source.frame(i) for i in range(source.frame_count)]
    with ReverseFrames(
        open_frame_source(video, cache_bytes=0), budget_bytes=30 * 360 * 240 * 3
    ) as reader:
        for i in range(119, -1, -1):
            assert np.array_equal(reader.frame(i), forward[i]), i
        assert reader.chunks_decoded >= 3  # small chunks: the budget holds ~20 frames
        # a jump and a step forward are served too (directly)
        assert np.array_equal(reader.frame(90), forward[90])
        assert np.array_equal(reader.frame(91), forward[91])
        assert np.array_equal(reader.frame(40), forward[40])


def test_a_backward_run_decodes_each_frame_about_once(video: Path) -> None:
    """What made backward propagation crawl: a seek per frame, and every seek decodes from
    the keyframe before the frame (here the only one, frame 1) up to it."""
    direct = open_frame_source(video, cache_bytes=0)
    for i in range(119, 79, -1):
        direct.frame(i)
    assert direct.stats.seeks >= 35

    source = open_frame_source(video, cache_bytes=0)
    runner = EngineRunner(lambda: ScriptedEngine(frame_to_index=lambda frame: 0), source)
    updates = list(runner.run(Anchor(119, Box(200, 100, 20, 40)), 79, backwards=True))
    assert [u.index for u in updates] == list(range(118, 79, -1))
    assert source.stats.seeks <= 3  # one pass up from a seek point per chunk
    assert source.stats.grabs <= 130


def test_memory_stays_within_the_budget_and_the_reader_stops(video: Path) -> None:
    frame_bytes = 360 * 240 * 3
    reader = ReverseFrames(open_frame_source(video, cache_bytes=0), budget_bytes=12 * frame_bytes)
    held = []
    for i in range(119, 59, -1):
        reader.frame(i)
        ahead = reader._next.result() if reader._next is not None else {}
        held.append(len(reader._chunk) + len(ahead))
    assert max(held) <= 12
    reader.close()
    assert reader._chunk == {}


class _Damaged:
    """Frames 0..29; frame 20 cannot be decoded."""

    frame_count = 30

    def frame(self, index: int) -> np.ndarray:
        if index == 20:
            raise VideoError(Path("damaged.mp4"), "this frame cannot be decoded", index)
        return np.full((4, 4, 3), index, np.uint8)


def test_an_undecodable_frame_fails_in_its_turn_not_before() -> None:
    with ReverseFrames(_Damaged(), budget_bytes=300) as reader:
        for i in range(29, 20, -1):
            assert reader.frame(i)[0, 0, 0] == i
        with pytest.raises(VideoError, match="cannot be decoded"):
            reader.frame(20)
        assert reader.frame(19)[0, 0, 0] == 19
