"""Session files: exact round trips, clear errors, and surviving crashes mid-save."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from costcore import fileio
from costcore.annotation import (
    UNANNOTATED,
    FrameAnnotation,
    Provenance,
    SetBox,
    SetLanguage,
    UndoStack,
    VideoAnnotation,
    backup_path,
    load_session,
    recover_session,
    save_session,
)
from costcore.annotation.session_codec import decode_session, encode_session
from costcore.errors import SessionError


def make_video(frame_count: int = 50, seed: int = 1) -> VideoAnnotation:
    rng = random.Random(seed)
    frames = []
    for _ in range(frame_count):
        kind = rng.randrange(6)
        box = (rng.uniform(-5, 600), rng.uniform(0, 400), rng.uniform(0, 80), rng.uniform(0, 80))
        if kind == 0:
            frames.append(UNANNOTATED)
        elif kind == 1:
            frames.append(FrameAnnotation(absent=True, provenance=rng.choice(list(Provenance))))
        elif kind == 2:
            frames.append(FrameAnnotation(box, provenance=Provenance.TRACKED,
                                          score=rng.random(), engine="cost"))  # fmt: skip
        else:
            frames.append(FrameAnnotation(box, provenance=rng.choice(list(Provenance))))
    frames[0] = FrameAnnotation((0.1, 0.2, 1e-300, 1.7976931348623157e308),
                                provenance=Provenance.KEYFRAME)  # fmt: skip
    attributes = [rng.randrange(3 if i in (12, 16) else 2) for i in range(17)]
    return VideoAnnotation("Bird 1", frame_count, source="/videos/bird – 1.mp4",
                           frame_size=(1920, 1080), fps=29.97002997002997,
                           language="a small bird ‘flying’ left", attributes=attributes,
                           frames=frames)  # fmt: skip


def test_round_trip_is_exact(tmp_path: Path) -> None:
    video = make_video()
    path = tmp_path / "bird.session.json"
    ui = {"frame": 17, "zoom": 2.5, "panels": ["plot"]}
    save_session(path, video, ui)
    loaded = load_session(path)
    assert loaded.annotation == video
    assert loaded.annotation.to_dict() == video.to_dict()
    assert loaded.ui == ui and loaded.path == path and not loaded.from_backup
    for a, b in zip(loaded.annotation.frames, video.frames, strict=True):
        assert a == b
        if b.box is not None:
            assert all(x.hex() == y.hex() for x, y in zip(a.box, b.box, strict=True))
    assert loaded.annotation.fps == 29.97002997002997


def test_round_trip_minimal_video(tmp_path: Path) -> None:
    video = VideoAnnotation("v", 1)
    save_session(tmp_path / "s.json", video)
    loaded = load_session(tmp_path / "s.json")
    assert loaded.annotation == video and loaded.ui == {}


def test_file_header(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_session(path, make_video(3))
    document = json.loads(path.read_text("utf-8"))
    assert document["schema"] == "cost-annotator-session"
    assert document["version"] == 1
    assert len(document["frames"]) == document["video"]["frame_count"] == 3


def test_save_keeps_previous_version_as_backup(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first, second = VideoAnnotation("v", 2, language="first"), VideoAnnotation("v", 2)
    save_session(path, first)
    assert not backup_path(path).exists()
    save_session(path, second)
    assert backup_path(path) == tmp_path / "s.json.bak"
    assert load_session(backup_path(path)).annotation == first
    assert load_session(path).annotation == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.json.bak"]


def test_damaged_main_file_does_not_replace_a_good_backup(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    good = VideoAnnotation("v", 2, language="good")
    save_session(path, good)
    save_session(path, VideoAnnotation("v", 2, language="newer"))
    path.write_text('{"schema": "cost-annotator-sess', "utf-8")  # damaged outside our control
    save_session(path, VideoAnnotation("v", 2, language="latest"))
    assert load_session(backup_path(path)).annotation == good  # not the damaged file
    assert load_session(path).annotation.language == "latest"


def test_crash_during_replace_leaves_previous_session(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    old = make_video(20, seed=2)
    save_session(path, old)
    real_replace = os.replace

    def crash_on_main(src, dst):
        if Path(dst) == path:
            raise OSError("simulated power loss")
        return real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", crash_on_main)
    with pytest.raises(SessionError, match="simulated power loss") as error:
        save_session(path, make_video(20, seed=3))
    assert str(path) in str(error.value)
    monkeypatch.undo()
    assert load_session(path).annotation == old
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_failure_while_making_the_backup(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    save_session(path, VideoAnnotation("v", 2, language="a"))
    save_session(path, VideoAnnotation("v", 2, language="b"))
    real_replace = os.replace

    def fail_on_backup(src, dst):
        if Path(dst) == backup_path(path):
            raise OSError("disk full")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_backup)
    with pytest.raises(SessionError, match="disk full"):
        save_session(path, VideoAnnotation("v", 2, language="c"))
    monkeypatch.undo()
    assert load_session(path).annotation.language == "b"
    assert load_session(backup_path(path)).annotation.language == "a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.json.bak"]


def test_backup_without_hard_links(tmp_path: Path, monkeypatch) -> None:
    """File systems without hard links (FAT, some network shares) get a copied backup."""

    def no_links(src, dst):
        raise OSError("operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "s.json"
    save_session(path, VideoAnnotation("v", 2, language="a"))
    save_session(path, VideoAnnotation("v", 2, language="b"))
    assert load_session(backup_path(path)).annotation.language == "a"
    assert load_session(path).annotation.language == "b"


def test_crash_while_writing_temp_file(tmp_path: Path, monkeypatch) -> None:
    """A kill mid-write leaves a half-written temp file; the session itself is intact."""
    path = tmp_path / "s.json"
    old = make_video(20, seed=4)
    save_session(path, old)
    real_write = fileio.atomic_write_bytes

    def half_write_then_die(target, data):
        if Path(target) == path:
            (tmp_path / f".{path.name}.crash.tmp").write_bytes(data[: len(data) // 2])
            raise KeyboardInterrupt  # the process dies; nothing runs after this
        return real_write(target, data)

    monkeypatch.setattr("costcore.annotation.session.atomic_write_bytes", half_write_then_die)
    with pytest.raises(KeyboardInterrupt):
        save_session(path, make_video(20, seed=5))
    monkeypatch.undo()
    assert load_session(path).annotation == old
    assert recover_session(path).annotation == old


_SAVE_KILLED_AT = """
import os, sys, time
from pathlib import Path
from costcore import fileio
from costcore.annotation import VideoAnnotation, save_session
path, stop_in = Path(sys.argv[1]), sys.argv[2]
real = {"fsync": os.fsync, "replace": os.replace}
def fsync(fd):  # the new session is in its temp file, not yet renamed over the old one
    if stop_in == "write":
        print("stopped", flush=True)
        time.sleep(60)
    real["fsync"](fd)
def replace(src, dst):  # the hard link of the old session is made, not yet the backup
    if stop_in == "backup" and Path(dst).name.endswith(".bak"):
        print("stopped", flush=True)
        time.sleep(60)
    real["replace"](src, dst)
fileio.os.fsync, fileio.os.replace = fsync, replace
os.replace = replace
save_session(path, VideoAnnotation("v", 2, language="new"))
"""


@pytest.mark.parametrize("stop_in", ["write", "backup"])
def test_temp_files_of_a_killed_save_are_removed_by_the_next_run(
    tmp_path: Path, stop_in: str
) -> None:
    """SIGKILL a real process mid-save: the session survives, and the next save (another
    process) removes the temp file the dead one left."""
    path = tmp_path / "s.json"
    save_session(path, VideoAnnotation("v", 2, language="old"))
    save_session(path, VideoAnnotation("v", 2, language="older is the backup"))
    child = subprocess.Popen(
        [sys.executable, "-c", _SAVE_KILLED_AT, str(path), stop_in],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "stopped"
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].endswith(".tmp")
    assert load_session(path).annotation.language == "older is the backup"

    next_run = subprocess.run(
        [sys.executable, "-c", _SAVE_KILLED_AT, str(path), "nowhere"], timeout=60, check=True
    )
    assert next_run.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.json.bak"]
    assert load_session(path).annotation.language == "new"
    assert load_session(backup_path(path)).annotation.language == "older is the backup"


def test_truncated_main_file_recovers_from_backup(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    old, new = make_video(30, seed=6), make_video(30, seed=7)
    save_session(path, old)
    save_session(path, new)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(SessionError) as error:
        load_session(path)
    assert str(path) in str(error.value)
    recovered = recover_session(path)
    assert recovered.from_backup and recovered.path == backup_path(path)
    assert recovered.annotation == old


def test_recover_prefers_the_main_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_session(path, VideoAnnotation("v", 2, language="a"))
    save_session(path, VideoAnnotation("v", 2, language="b"))
    recovered = recover_session(path)
    assert recovered.annotation.language == "b" and not recovered.from_backup


def test_recover_from_backup_when_main_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    save_session(path, VideoAnnotation("v", 2, language="a"))
    save_session(path, VideoAnnotation("v", 2, language="b"))
    path.unlink()
    assert recover_session(path).annotation.language == "a"


def test_recover_fails_clearly_when_nothing_is_usable(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("garbage", "utf-8")
    with pytest.raises(SessionError) as error:
        recover_session(path)
    message = str(error.value)
    assert str(path) in message and "backup" in message and "not found" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match="not found"):
        load_session(tmp_path / "nope.json")


def _document() -> dict:
    return json.loads(encode_session(make_video(4, seed=8), {"frame": 2}))


def _mutations():
    def setter(*keys_and_value):
        *keys, value = keys_and_value

        def mutate(doc: dict) -> None:
            target = doc
            for key in keys[:-1]:
                target = target[key]
            target[keys[-1]] = value

        return mutate

    def delete(*keys):
        def mutate(doc: dict) -> None:
            target = doc
            for key in keys[:-1]:
                target = target[key]
            del target[keys[-1]]

        return mutate

    return {
        "wrong schema": (setter("schema", "something-else"), "not a session file"),
        "no schema": (delete("schema"), "not a session file"),
        "newer version": (setter("version", 2), "newer"),
        "version string": (setter("version", "1"), "version"),
        "version bool": (setter("version", True), "version"),
        "no video": (delete("video"), "missing 'video'"),
        "no frames": (delete("frames"), "missing 'frames'"),
        "frame count": (setter("video", "frame_count", 5), "frame_count is 5"),
        "frame count type": (setter("video", "frame_count", 4.0), "frame_count"),
        "zero frames": (setter("video", "frame_count", 0), "frame_count"),
        "frames not list": (setter("frames", {"0": None}), "frames"),
        "frame row": (setter("frames", 1, [1, 2]), r"frames\[1\] \(frame 2\)"),
        "frame row type": (setter("frames", 1, "keyframe"), r"frames\[1\]"),
        "provenance": (setter("frames", 1, ["drawn", 0, [1, 2, 3, 4], None, None]), "drawn"),
        "provenance list": (setter("frames", 1, [["x"], 0, [1, 2, 3, 4], None, None]), "prov"),
        "negative box": (
            setter("frames", 1, ["keyframe", 0, [1, 2, -3, 4], None, None]),
            "negative",
        ),
        "short box": (setter("frames", 1, ["keyframe", 0, [1, 2, 4], None, None]), "box"),
        "string box": (setter("frames", 1, ["keyframe", 0, [1, "2", 3, 4], None, None]), "box"),
        "dict box": (setter("frames", 1, ["keyframe", 0, {"x": 1}, None, None]), "box"),
        "huge box": (setter("frames", 1, ["keyframe", 0, [1, 2, 10**400, 4], None, None]), "box"),
        "box and absent": (
            setter("frames", 1, ["keyframe", 1, [1, 2, 3, 4], None, None]),
            "not both",
        ),
        "absent 2": (setter("frames", 1, ["keyframe", 2, None, None, None]), "absent"),
        "score": (setter("frames", 1, ["tracked", 0, [1, 2, 3, 4], "high", None]), "score"),
        "engine": (setter("frames", 1, ["tracked", 0, [1, 2, 3, 4], 0.5, 7]), "engine"),
        "attributes short": (setter("attributes", [0] * 16), "attributes"),
        "attribute range": (setter("attributes", [2] * 17), "attribute"),
        "attributes type": (setter("attributes", "0,0"), "attributes"),
        "language type": (setter("language", 5), "language"),
        "language lines": (setter("language", "a\nb"), "language"),
        "name type": (setter("video", "name", None), "name"),
        "frame size": (setter("video", "frame_size", [0, 10]), "frame_size"),
        "frame size type": (setter("video", "frame_size", "big"), "frame_size"),
        "fps": (setter("video", "fps", "fast"), "fps"),
        "ui": (setter("ui", [1, 2]), "ui"),
        "top level list": (lambda doc: doc.clear(), "not a session file"),
    }


@pytest.mark.parametrize("name", list(_mutations()))
def test_bad_documents_raise_session_error_naming_the_file(tmp_path: Path, name: str) -> None:
    mutate, expected = _mutations()[name]
    document = _document()
    mutate(document)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(SessionError, match=expected) as error:
        load_session(path)
    assert str(path) in str(error.value) and error.value.path == path


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"{", b"[1, 2]", b"null", b"\xff\xfe\x00", b"[" * 100_000,
     b'{"schema": "cost-annotator-session", "version": 1e999}', b"1" * 5000],
)  # fmt: skip
def test_garbage_raises_session_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "garbage.json"
    path.write_bytes(data)
    with pytest.raises(SessionError) as error:
        load_session(path)
    assert str(path) in str(error.value)


def test_newer_version_message_is_clear(tmp_path: Path) -> None:
    document = _document()
    document["version"] = 7
    path = tmp_path / "future.json"
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(SessionError, match="newer COST Annotator .*version 7"):
        load_session(path)


def test_ui_that_is_not_json_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with pytest.raises(SessionError, match="JSON"):
        save_session(path, VideoAnnotation("v", 2), ui={"when": object()})
    with pytest.raises(SessionError, match="JSON"):
        save_session(path, VideoAnnotation("v", 2), ui={"zoom": float("nan")})
    assert not path.exists()


def test_decode_accepts_integer_boxes() -> None:
    document = _document()
    document["frames"][1] = ["keyframe", 0, [1, 2, 3, 4], None, None]
    video, _ = decode_session("mem.json", json.dumps(document).encode())
    assert video.frame(1).box == (1.0, 2.0, 3.0, 4.0)
    assert all(type(v) is float for v in video.frame(1).box)


def test_session_of_an_edited_video(tmp_path: Path) -> None:
    """The stack's clean marker follows saves, as the app's title bar does."""
    video = make_video(10)
    stack = UndoStack(video)
    path = tmp_path / "s.json"
    stack.push(SetBox(3, (1, 2, 3, 4)))
    stack.push(SetLanguage("edited"))
    save_session(path, stack.video, {"frame": 3})
    stack.mark_clean()
    assert stack.is_clean
    assert load_session(path).annotation == video
