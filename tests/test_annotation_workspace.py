"""Which session folder a video gets: by resolved path, then by content for a moved video;
older name-keyed folders keep loading (no Qt)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from costcore.annotation import VideoAnnotation, save_session
from costcore.annotation.workspace import (
    VIDEO_FILE,
    VideoIdentity,
    claim,
    find_session,
    read_identity,
    relocated,
    video_fingerprint,
)


def frames(folder: Path, count: int = 5, seed: int = 0) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        (folder / f"{i + 1:06d}.jpg").write_bytes(bytes([seed, i]) * 5000)
    return folder


def identity(path: Path) -> VideoIdentity:
    return VideoIdentity(str(path.resolve()), video_fingerprint(path))


def start(workspace: Path, path: Path, name: str = "clip") -> Path:
    """Open ``path`` as the app does: find its place, claim it, save a session there."""
    place = find_session(workspace, name, identity(path))
    claim(place, name)
    annotation = VideoAnnotation(name, 5, source=str(path.resolve()))
    save_session(place.session_path, annotation)
    return place.folder


def test_the_fingerprint_follows_content_not_place_or_time(tmp_path) -> None:
    a = frames(tmp_path / "a")
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    os.utime(copy / "000001.jpg", (1, 1))
    assert video_fingerprint(copy) == video_fingerprint(a)
    assert video_fingerprint(frames(tmp_path / "b", seed=1)) != video_fingerprint(a)
    assert video_fingerprint(sorted(a.iterdir())) == video_fingerprint(a)  # a list of frames
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 300_000)
    before = video_fingerprint(video)
    with open(video, "r+b") as handle:  # a change in the middle goes unseen: cheap by design
        handle.seek(150_000)
        handle.write(b"y")
    assert video_fingerprint(video) == before
    with open(video, "ab") as handle:
        handle.write(b"z")
    assert video_fingerprint(video) != before


def test_an_export_named_like_its_source_gets_a_session_of_its_own(tmp_path) -> None:
    workspace = tmp_path / "ws"
    source = frames(tmp_path / "data" / "clip")
    export = tmp_path / "exports" / "clip"
    shutil.copytree(source, export)  # byte copies of the frames: the same fingerprint
    first = start(workspace, source)
    second = start(workspace, export)
    assert first == workspace / "clip" and second == workspace / "clip-2"
    assert find_session(workspace, "clip", identity(source)).folder == first
    assert find_session(workspace, "clip", identity(export)).folder == second
    assert read_identity(second).source == str(export.resolve())


def test_a_moved_video_finds_its_session_by_content(tmp_path) -> None:
    workspace = tmp_path / "ws"
    old = frames(tmp_path / "old" / "clip")
    folder = start(workspace, old)
    new = tmp_path / "new" / "clip"
    new.parent.mkdir()
    old.rename(new)
    place = find_session(workspace, "clip", identity(new))
    assert place.folder == folder and place.moved_from == str(old.resolve())
    annotation = relocated(VideoAnnotation("clip", 5, source=str(old), language="x"), str(new))
    assert annotation.source == str(new) and annotation.language == "x"


def test_older_folders_keyed_by_name_are_kept_with_their_video(tmp_path) -> None:
    workspace = tmp_path / "ws"
    mine = frames(tmp_path / "mine" / "clip")
    other = frames(tmp_path / "other" / "clip", seed=3)
    legacy = workspace / "clip"  # the old layout: no video.json, the name is the key
    save_session(legacy / "session.json", VideoAnnotation("clip", 5, source=str(mine)))
    assert read_identity(legacy) == VideoIdentity(str(mine))
    place = find_session(workspace, "clip", identity(other))
    assert place.folder == workspace / "clip-2"  # another video: not offered this session
    place = find_session(workspace, "clip", identity(mine))
    assert place.folder == legacy and place.migrated and place.has_session()
    claim(place, "clip")
    assert (legacy / VIDEO_FILE).is_file()
    assert read_identity(legacy).fingerprint == video_fingerprint(mine)


def test_a_damaged_older_session_still_says_which_video_it_was_for(tmp_path) -> None:
    mine = frames(tmp_path / "mine" / "clip")
    legacy = tmp_path / "ws" / "clip"
    save_session(legacy / "session.json", VideoAnnotation("clip", 5, source=str(mine)))
    data = (legacy / "session.json").read_bytes()
    (legacy / "session.json").write_bytes(data[: len(data) - 20])  # cut in the frames
    assert read_identity(legacy).source == str(mine)
    assert find_session(tmp_path / "ws", "clip", identity(mine)).folder == legacy


@pytest.mark.parametrize("name", ["clip", "a-2"])
def test_names_with_numbers_do_not_confuse_the_folders(tmp_path, name) -> None:
    workspace = tmp_path / "ws"
    a = start(workspace, frames(tmp_path / "a" / name), name)
    b = start(workspace, frames(tmp_path / "b" / name, seed=5), name)
    assert a == workspace / name and b == workspace / f"{name}-2"
