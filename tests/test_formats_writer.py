"""The VL-SOT500 writer: exact file contents, image handling and atomicity."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import cv2
import numpy as np
import pytest

from costcore.errors import Cancelled, ExportError, VideoError
from costcore.formats import read_sequence, validate_vlsot500, write_vlsot500
from costcore.formats.vlsot500_writer import groundtruth_text, round_half_up
from costcore.video.base import FrameSource
from tests.test_formats_support import default_boxes, image_bytes, write_images

ATTRIBUTES = [0] * 12 + [1, 0, 0, 0, 2]


class ArraySource(FrameSource):
    """Frames held in memory, optionally backed by files (like an image-folder source)."""

    def __init__(self, frames: list[np.ndarray], paths: list[Path] | None = None, fail_at=None):
        self.path = Path("memory")
        self._frames = frames
        self._paths = paths
        self._fail_at = fail_at

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    @property
    def frame_size(self) -> tuple[int, int]:
        return self._frames[0].shape[1], self._frames[0].shape[0]

    @property
    def fps(self) -> float:
        return 30.0

    def frame(self, index: int) -> np.ndarray:
        if index == self._fail_at:
            raise VideoError(self.path, "cannot decode", index)
        return self._frames[index]

    def frame_path(self, index: int) -> Path | None:
        return None if self._paths is None else self._paths[index]


def _jpeg_frames(folder: Path, count: int) -> list[Path]:
    return write_images(folder, [f"{i + 1:04d}.jpg" for i in range(count)])


def _export(tmp_path: Path, count: int = 5, **options) -> Path:
    dest = options.pop("dest", tmp_path / "out" / "Car")
    frames = options.pop("frames") if "frames" in options else None
    if frames is None:
        frames = _jpeg_frames(tmp_path / "src", count)
    arguments = {
        "frames": frames,
        "boxes": default_boxes(count),
        "absent": np.zeros(count, dtype=bool),
        "language": "a red car",
        "attributes": ATTRIBUTES,
    }
    arguments.update(options)
    return write_vlsot500(dest, **arguments)


def _lines(path: Path) -> list[str]:
    data = path.read_bytes()
    assert b"\r" not in data
    assert data.endswith(b"\n")
    return data.decode().split("\n")[:-1]


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_round_half_up_is_not_bankers():
    values = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999])
    assert round_half_up(values).tolist() == [1, 2, 3, 0, -2, 2]


def test_integer_rounding_and_tiny_boxes():
    boxes = np.array(
        [
            [1.5, 2.5, 3.5, 10.49],
            [-2.5, 0.49, 10.5, 2.5],
            [0.2, 0.3, 0.3, 0.2],  # tiny: must not become 0,0,0,0 nor zero-sized
            [np.nan, np.nan, np.nan, np.nan],  # absent rows may hold anything
            [5.0, 5.0, 0.5, 7.0],
        ]
    )
    absent = np.array([False, False, False, True, False])
    text = groundtruth_text(boxes, absent)
    assert text == "2,3,4,10\n-2,0,11,3\n0,0,1,1\n0,0,0,0\n5,5,1,7\n"


def test_float_boxes_use_one_format(tmp_path):
    boxes = np.array(
        [[1.234, 2.0, 3.5, 4.0], [-0.001, 0.004, 0.001, 0.004], [0, 0, 0, 0], [9, 9, 9, 9]],
        dtype=np.float64,
    )
    absent = np.array([False, False, True, False])
    folder = _export(tmp_path, 4, boxes=boxes, absent=absent, float_boxes=True)
    lines = _lines(folder / "groundtruth_rect.txt")
    assert lines == [
        "1.23,2.00,3.50,4.00",
        "0.00,0.00,0.01,0.01",
        "0,0,0,0",
        "9.00,9.00,9.00,9.00",
    ]
    for line in lines:
        assert line == "0,0,0,0" or re.fullmatch(r"-?\d+\.\d\d(,-?\d+\.\d\d){3}", line)
    assert not [i for i in validate_vlsot500(folder) if i.severity == "error"]


def test_float_boxes_need_a_box_on_frame_one(tmp_path):
    absent = np.array([True, False, False])
    with pytest.raises(ExportError, match="frame 1"):
        _export(tmp_path, 3, absent=absent, float_boxes=True)
    assert not (tmp_path / "out" / "Car").exists()


def test_export_contents(tmp_path):
    absent = np.array([False, True, True, False, False])
    boxes = default_boxes(5)
    boxes[1] = [30, 30, 5, 5]  # a stale box on an absent frame (LaSOT style)
    speeds = [0.0, 0.0, 0.0, 0.0, 1 / 3]
    seen = []
    folder = _export(
        tmp_path,
        absent=absent,
        boxes=boxes,
        relative_speed=speeds,
        language="  a red car\nturning left \r\n",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(i, 5) for i in range(1, 6)]
    assert _visible(folder) == [
        "000001.jpg",
        "absent.txt",
        "attributes.txt",
        "groundtruth_rect.txt",
        "imgs",
        "language.txt",
        "relative_speed.txt",
    ]
    assert _lines(folder / "groundtruth_rect.txt") == [
        "10,5,20,10",
        "0,0,0,0",
        "0,0,0,0",
        "13,8,20,10",
        "14,9,20,10",
    ]
    assert _lines(folder / "absent.txt") == ["0", "1", "1", "0", "0"]
    assert _lines(folder / "attributes.txt") == ["0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,2"]
    assert _lines(folder / "language.txt") == ["a red car turning left"]
    assert _lines(folder / "relative_speed.txt") == ["0.000000"] * 4 + ["0.333333"]
    assert _visible(folder / "imgs") == [f"{i:06d}.jpg" for i in range(1, 6)]
    for index in range(5):
        assert (folder / "imgs" / f"{index + 1:06d}.jpg").read_bytes() == image_bytes(index)
    assert (folder / "000001.jpg").read_bytes() == image_bytes(0)
    assert validate_vlsot500(folder) == []
    back = read_sequence(folder)
    assert back.absent.tolist() == absent.tolist()
    assert back.relative_speed.tolist() == pytest.approx([0, 0, 0, 0, 0.333333])


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"language": "  \n "}, "language"),
        ({"language": None}, "language"),
        ({"attributes": [0] * 16}, "17"),
        ({"attributes": [0] * 12 + [3, 0, 0, 0, 0]}, "BRI"),
        ({"attributes": [2] + [0] * 16}, "CM"),
        ({"attributes": [0.5] + [0] * 16}, "CM"),
        ({"boxes": default_boxes(4)}, "boxes"),
        ({"absent": [False] * 6}, "absent"),
        ({"boxes": np.array([[1, 1, 0, 5]] * 5)}, "frame 1"),
        ({"boxes": np.array([[1, 1, 5, 5]] * 4 + [[1, 1, -5, 5]])}, "frame 5"),
        ({"boxes": np.array([[1, 1, 5, 5]] * 4 + [[1, np.inf, 5, 5]])}, "frame 5"),
        ({"relative_speed": [0.0] * 4}, "relative speed"),
        ({"relative_speed": [0.0, 1.0, -1.0, 0.0, 0.0]}, "frame 3"),
        ({"relative_speed": [0.5, 1.0, 1.0, 0.0, 0.0]}, "frame 1"),
        ({"frames": "not a list"}, "frames"),
    ],
)
def test_invalid_input_writes_nothing(tmp_path, options, words):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ExportError, match=words):
        _export(tmp_path, **options)
    assert _visible(out) == []


def test_at_least_two_frames(tmp_path):
    with pytest.raises(ExportError, match="at least 2 frames"):
        _export(tmp_path, 1)


def test_missing_source_frame(tmp_path):
    frames = _jpeg_frames(tmp_path / "src", 3)
    frames[1].unlink()
    with pytest.raises(ExportError, match="frame 2"):
        _export(tmp_path, 3, frames=frames)


def test_cancel_midway_leaves_nothing(tmp_path):
    calls = []

    def is_cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(Cancelled):
        _export(tmp_path, is_cancelled=is_cancelled)
    assert _visible(out) == []


def test_exception_midway_leaves_nothing(tmp_path):
    def progress(done: int, total: int) -> None:
        if done == 3:
            raise RuntimeError("disk on fire")

    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError, match="disk on fire"):
        _export(tmp_path, progress=progress)
    assert _visible(out) == []

    frames = [np.zeros((8, 8, 3), np.uint8)] * 4
    with pytest.raises(VideoError):
        _export(tmp_path, 4, frames=ArraySource(frames, fail_at=2))
    assert _visible(out) == []


def test_existing_destination_needs_overwrite(tmp_path):
    dest = tmp_path / "out" / "Car"
    dest.mkdir(parents=True)
    (dest / "keep.txt").write_text("old export")
    with pytest.raises(ExportError, match="already exists"):
        _export(tmp_path)
    assert _visible(dest) == ["keep.txt"]
    assert _visible(tmp_path / "out") == ["Car"]

    # a cancelled overwrite leaves the old export as it was
    with pytest.raises(Cancelled):
        _export(tmp_path, overwrite=True, is_cancelled=lambda: True)
    assert _visible(dest) == ["keep.txt"]
    assert _visible(tmp_path / "out") == ["Car"]

    assert _export(tmp_path, overwrite=True) == dest
    assert "keep.txt" not in _visible(dest)
    assert validate_vlsot500(dest) == []
    assert _visible(tmp_path / "out") == ["Car"]  # the old folder is gone, no hidden leftovers


def test_destination_that_is_a_file_is_never_replaced(tmp_path):
    dest = tmp_path / "out" / "Car"
    dest.parent.mkdir()
    dest.write_text("not a folder")
    with pytest.raises(ExportError, match="not a folder"):
        _export(tmp_path, overwrite=True)
    assert dest.read_text() == "not a folder"


def test_png_sources_are_encoded_as_jpeg(tmp_path):
    frames = write_images(tmp_path / "src", [f"{i}.png" for i in range(3)])
    folder = _export(tmp_path, 3, frames=frames)
    for index, source in enumerate(frames):
        exported = (folder / "imgs" / f"{index + 1:06d}.jpg").read_bytes()
        assert exported[:3] == b"\xff\xd8\xff"
        original = cv2.imdecode(np.frombuffer(source.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        decoded = cv2.imdecode(np.frombuffer(exported, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == original.shape
        assert np.abs(decoded.astype(int) - original.astype(int)).mean() < 4
    assert validate_vlsot500(folder) == []


def test_magic_bytes_decide_not_the_extension(tmp_path):
    source = tmp_path / "src"
    jpeg_named_png = source / "1.png"
    png_named_jpg = source / "2.jpg"
    source.mkdir()
    jpeg_named_png.write_bytes(image_bytes(0, ".jpg"))
    png_named_jpg.write_bytes(image_bytes(1, ".png"))
    folder = _export(tmp_path, 2, frames=[jpeg_named_png, png_named_jpg])
    assert (folder / "imgs" / "000001.jpg").read_bytes() == image_bytes(0, ".jpg")
    second = (folder / "imgs" / "000002.jpg").read_bytes()
    assert second[:3] == b"\xff\xd8\xff" and second != image_bytes(1, ".png")


def test_frame_source_rgb_is_written_as_bgr_jpeg(tmp_path):
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 255  # RGB red
    folder = _export(tmp_path, 2, frames=ArraySource([red, red]))
    decoded = cv2.imread(str(folder / "imgs" / "000001.jpg"))  # BGR
    assert decoded[..., 2].mean() > 240 and decoded[..., 0].mean() < 15
    assert (folder / "000001.jpg").read_bytes() == (folder / "imgs" / "000001.jpg").read_bytes()


def test_frame_source_jpeg_paths_are_copied(tmp_path):
    paths = _jpeg_frames(tmp_path / "src", 3)
    arrays = [np.zeros((8, 8, 3), np.uint8)] * 3
    folder = _export(tmp_path, 3, frames=ArraySource(arrays, paths))
    for index, path in enumerate(paths):
        assert (folder / "imgs" / f"{index + 1:06d}.jpg").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_export_folder_gets_the_usual_mode_not_0700(tmp_path, umask):
    """The built folder is renamed into place, so its creation mode is the export's mode."""
    frames = _jpeg_frames(tmp_path / "src", 3)
    old = os.umask(umask)
    try:
        first = _export(tmp_path, 3, frames=frames)
        replaced = _export(tmp_path, 3, frames=frames, dest=first, overwrite=True)
    finally:
        os.umask(old)
    for folder in (replaced, replaced / "imgs"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~umask, folder
    assert stat.S_IMODE((replaced / "groundtruth_rect.txt").stat().st_mode) == 0o666 & ~umask


def test_validate_texts_finds_what_the_validator_finds_on_disk(tmp_path):
    """The in-memory check is the validator's: same issues as the folder written by hand."""
    from costcore.formats.vlsot500_validator import validate_texts

    folder = _export(tmp_path, 4)
    texts = {
        "groundtruth_rect.txt": "1,2,3,4\n1.5,2,3,4\n0,0,0,0\n5,6,7,8",
        "absent.txt": "0\n0\n0\n1\n",
        "attributes.txt": ",".join(["0"] * 16) + "\n",
        "language.txt": "\ufeffa red car\n",
        "language_attributes.txt": "car, vehicle,red\n",
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    on_disk = [i for i in validate_vlsot500(folder) if i.file.parent == folder]
    in_memory = validate_texts(folder, texts, 4)
    assert [str(i) for i in in_memory] == [str(i) for i in on_disk]
    assert sum(i.severity == "error" for i in in_memory) >= 6


def test_the_writer_refuses_text_the_validator_rejects(tmp_path, monkeypatch):
    """Whatever a text builder lets through, the validator's checks stop it before writing."""
    from costcore.formats import vlsot500_writer

    monkeypatch.setattr(vlsot500_writer, "language_text", lambda language: f"\ufeff{language}\n")
    with pytest.raises(ExportError, match=r"language\.txt:1: starts with a UTF-8 byte order"):
        _export(tmp_path, 3)
    assert not (tmp_path / "out").exists()  # not even the parent folder was made


@pytest.mark.parametrize(
    "words",
    [["car", "vehicle\ufeff", "red", "center"], ["car", "vehicle", "red\x00", "center"]],
)
def test_attribute_words_with_a_bom_or_control_character_are_refused(tmp_path, words):
    with pytest.raises(ExportError, match="control characters or a byte order mark"):
        _export(tmp_path, 3, language_attributes=words)
    assert not (tmp_path / "out" / "Car").exists()
