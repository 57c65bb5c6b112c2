"""open_frame_source: recognising video files, image folders and dataset sequence folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from costcore.errors import VideoError
from costcore.video import (
    CachedFrameSource,
    FrameSource,
    ImageFolderSource,
    VideoFileSource,
    is_video_file,
    open_frame_source,
)
from tests.test_video_file import FRAMES, pattern_index, write_pattern_video


def make_images(folder: Path, count: int, start: int = 1, digits: int = 8) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{start + i:0{digits}d}.jpg"
        ok, data = cv2.imencode(".jpg", np.full((24, 32, 3), 10 * i, np.uint8))
        assert ok
        path.write_bytes(data.tobytes())
        paths.append(path)
    return paths


def plain(source: FrameSource) -> FrameSource:
    return source.source if isinstance(source, CachedFrameSource) else source


@pytest.mark.parametrize("name", ["clip.mp4", "CLIP.MP4", "clip.Mp4"])
def test_video_file_any_case(tmp_path, name):
    written = write_pattern_video(tmp_path / "clip.mp4", "mp4v")
    path = written.rename(tmp_path / name)
    with open_frame_source(path) as source:
        assert isinstance(source, CachedFrameSource)
        assert isinstance(plain(source), VideoFileSource)
        assert source.frame_count == FRAMES
        assert pattern_index(source.frame(33)) == 33
        assert source.path == path


def test_video_options(tmp_path):
    path = write_pattern_video(tmp_path / "clip.avi", "MJPG")
    progress = []
    with open_frame_source(
        str(path), cache_bytes=0, fps=50.0, progress=lambda d, t: progress.append(d)
    ) as source:
        assert isinstance(source, VideoFileSource)
        assert source.fps == 50.0
        assert progress[-1] == FRAMES
    with open_frame_source(path, cache_bytes=10**7, prefetch=4) as source:
        assert source.prefetcher is not None
        assert pattern_index(source.frame(10)) == 10


def test_plain_image_folder(tmp_path):
    make_images(tmp_path / "frames", 5)
    with open_frame_source(tmp_path / "frames") as source:
        assert isinstance(plain(source), ImageFolderSource)
        assert source.frame_count == 5 and source.fps == 30.0
        assert source.frame_path(4) == tmp_path / "frames" / "00000005.jpg"
        source.fps = 12.5  # the annotator can say what rate an image sequence was taken at
        assert source.fps == 12.5 == plain(source).fps


@pytest.mark.parametrize("subfolder", ["img", "imgs"])
def test_dataset_folder_prefers_frame_subfolder(tmp_path, subfolder):
    sequence = tmp_path / "Seq"
    make_images(sequence / subfolder, 4, digits=6)
    make_images(sequence, 1, digits=6)  # VL-SOT500 puts a copy of frame 1 beside imgs/
    (sequence / "groundtruth_rect.txt").write_text("1,2,3,4\n" * 4)
    with open_frame_source(sequence, fps=10) as source:
        assert source.frame_count == 4
        assert source.fps == 10.0
        assert source.frame_path(0).parent == sequence / subfolder
        assert source.path == sequence


def test_got10k_style_folder(tmp_path):
    sequence = tmp_path / "GOT-10k_Val_000001"
    make_images(sequence, 6)
    (sequence / "groundtruth.txt").write_text("1,2,3,4\n" * 6)
    (sequence / "absence.label").write_text("0\n" * 6)
    with open_frame_source(sequence) as source:
        assert source.frame_count == 6
        assert source.frame_path(5).name == "00000006.jpg"


def test_real_sequences(airplane_1, crossing, tmp_path):
    with open_frame_source(airplane_1) as source:
        assert source.frame_count == 2788 and source.frame_size == (640, 360)
    with open_frame_source(crossing) as source:
        assert source.frame_count == 120 and source.frame_size == (360, 240)


def test_list_of_paths(tmp_path):
    paths = make_images(tmp_path / "frames", 5)
    with open_frame_source(list(reversed(paths))) as source:
        assert source.frame_count == 5
        assert source.frame_path(0) == paths[4]  # a list is taken in the order given
    with pytest.raises(VideoError):
        open_frame_source([])


def test_single_image_file(tmp_path):
    (path,) = make_images(tmp_path, 1)
    with open_frame_source(path) as source:
        assert source.frame_count == 1


def test_errors(tmp_path):
    with pytest.raises(VideoError, match="missing"):
        open_frame_source(tmp_path / "missing")
    with pytest.raises(VideoError, match="missing.mp4"):
        open_frame_source(tmp_path / "missing.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="no image files"):
        open_frame_source(tmp_path / "empty")
    text = tmp_path / "groundtruth.txt"
    text.write_text("1,2,3,4\n")
    with pytest.raises(VideoError, match="groundtruth.txt"):
        open_frame_source(text)
    fake = tmp_path / "fake.mkv"
    shutil.copy(text, fake)
    with pytest.raises(VideoError, match="fake.mkv"):
        open_frame_source(fake)


def test_is_video_file():
    for name in ["a.mp4", "a.AVI", "a.mov", "a.mkv", "a.webm", "a.m4v", "a.mpg", "a.MPEG", "a.wmv"]:
        assert is_video_file(name)
    for name in ["a.jpg", "a.txt", "mp4", "a.mp4.txt"]:
        assert not is_video_file(name)
