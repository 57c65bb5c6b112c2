"""ImageFolderSource: real LaSOT frames, ordering, colour conversion, broken images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from costcore.errors import VideoError
from costcore.video import ImageFolderSource, list_image_files
from costcore.video.images import natural_key


def write_image(path: Path, image: np.ndarray) -> Path:
    ok, encoded = cv2.imencode(path.suffix, image)
    assert ok
    path.write_bytes(encoded.tobytes())
    return path


def numbered_folder(folder: Path, count: int, size: tuple[int, int] = (32, 24)) -> Path:
    """``count`` PNGs named 1.png..count.png; frame i is filled with grey level i."""
    folder.mkdir(parents=True, exist_ok=True)
    width, height = size
    for i in range(count):
        write_image(folder / f"{i + 1}.png", np.full((height, width, 3), i, np.uint8))
    return folder


def test_real_sequence_matches_imread(airplane_1):
    folder = airplane_1 / "img"
    source = ImageFolderSource(folder)
    assert source.frame_count == 2788
    assert source.frame_size == (640, 360)
    assert source.fps == 30.0
    for i in (0, 1, 99, 1000, 2787):
        path = source.frame_path(i)
        assert path == folder / f"{i + 1:08d}.jpg"
        expected = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        image = source.frame(i)
        assert image.dtype == np.uint8 and image.shape == (360, 640, 3)
        assert np.array_equal(image, expected)


def test_natural_order(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    names = ["img10.jpg", "img2.jpg", "img1.jpg", "IMG3.JPG", "img100.png", "img20.bmp"]
    for name in names:
        write_image(folder / name, np.zeros((8, 8, 3), np.uint8))
    (folder / "notes.txt").write_text("not a frame")
    (folder / "._img5.jpg").write_bytes(b"macOS resource fork")
    (folder / "sub.jpg").mkdir()
    listed = [p.name for p in list_image_files(folder)]
    assert listed == ["img1.jpg", "img2.jpg", "IMG3.JPG", "img10.jpg", "img20.bmp", "img100.png"]
    assert sorted(["a10", "a2", "a1"], key=natural_key) == ["a1", "a2", "a10"]


def test_any_padding_width(tmp_path):
    folder = tmp_path / "padded"
    folder.mkdir()
    for n in (1, 2, 9, 10, 11, 100):
        write_image(folder / f"{n:04d}.jpg", np.zeros((8, 8, 3), np.uint8))
    names = [p.name for p in ImageFolderSource(folder).files]
    assert names == ["0001.jpg", "0002.jpg", "0009.jpg", "0010.jpg", "0011.jpg", "0100.jpg"]


def test_gray_rgba_bgr_and_16_bit_become_rgb(tmp_path):
    bgr = np.zeros((10, 12, 3), np.uint8)
    bgr[..., 0] = 200  # blue in BGR
    paths = [
        write_image(tmp_path / "a.png", bgr),
        write_image(tmp_path / "b.png", np.full((10, 12), 77, np.uint8)),
        write_image(tmp_path / "c.png", np.dstack([bgr, np.full((10, 12), 128, np.uint8)])),
        write_image(tmp_path / "d.png", np.full((10, 12, 3), 65535, np.uint16)),
        write_image(tmp_path / "e.bmp", bgr),
        write_image(tmp_path / "f.tif", bgr),
    ]
    source = ImageFolderSource(paths)
    assert source.frame_size == (12, 10)
    for i in range(source.frame_count):
        image = source.frame(i)
        assert image.shape == (10, 12, 3) and image.dtype == np.uint8
    assert tuple(source.frame(0)[0, 0]) == (0, 0, 200)  # blue ends up last in RGB
    assert tuple(source.frame(1)[0, 0]) == (77, 77, 77)
    assert tuple(source.frame(2)[0, 0]) == (0, 0, 200)
    assert tuple(source.frame(3)[0, 0]) == (255, 255, 255)


def test_non_ascii_path(tmp_path):
    folder = numbered_folder(tmp_path / "видео 動画 é", 3)
    source = ImageFolderSource(folder)
    assert source.frame_count == 3
    assert source.frame(2)[0, 0, 0] == 2


def test_corrupt_image_names_file_and_frame(tmp_path):
    folder = numbered_folder(tmp_path / "seq", 5)
    (folder / "3.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    source = ImageFolderSource(folder)
    assert source.frame(1)[0, 0, 0] == 1
    with pytest.raises(VideoError) as info:
        source.frame(2)
    assert info.value.frame == 2  # the index frame sources use
    assert info.value.path == folder / "3.png"
    assert str(info.value).startswith(f"{folder / '3.png'}, frame 3:")  # counted from 1


def test_truncated_jpeg_is_an_error(airplane_1, tmp_path):
    data = (airplane_1 / "img" / "00000001.jpg").read_bytes()
    good = tmp_path / "1.jpg"
    good.write_bytes(data)
    cut = tmp_path / "2.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    source = ImageFolderSource(tmp_path)
    source.frame(0)
    with pytest.raises(VideoError, match="2.jpg"):
        source.frame(1)


def test_different_size_names_file(tmp_path):
    folder = numbered_folder(tmp_path / "seq", 3)
    write_image(folder / "2.png", np.zeros((50, 50, 3), np.uint8))
    source = ImageFolderSource(folder)
    with pytest.raises(VideoError, match=r"2\.png, frame 2: image is 50x50, but frame 1 is 32x24"):
        source.frame(1)


def test_missing_file_in_list(tmp_path):
    folder = numbered_folder(tmp_path / "seq", 2)
    source = ImageFolderSource([folder / "1.png", folder / "gone.png"])
    with pytest.raises(VideoError, match="gone.png"):
        source.frame(1)


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoError, match="no image files"):
        ImageFolderSource(tmp_path / "empty")
    with pytest.raises(VideoError, match="nowhere"):
        ImageFolderSource(tmp_path / "nowhere")
    with pytest.raises(VideoError):
        ImageFolderSource([])


def test_broken_first_frame_fails_at_open(tmp_path):
    folder = numbered_folder(tmp_path / "seq", 2)
    (folder / "1.png").write_bytes(b"")
    with pytest.raises(VideoError, match="1.png"):
        ImageFolderSource(folder)


def test_fps_and_indices(tmp_path):
    source = ImageFolderSource(numbered_folder(tmp_path / "seq", 4), fps=12.0)
    assert source.fps == 12.0
    source.fps = 25
    assert source.fps == 25.0
    with pytest.raises(ValueError):
        source.fps = 0
    with pytest.raises(IndexError, match="frame 5 does not exist .*the frames are 1 to 4"):
        source.frame(4)
    for bad in (-1, 4):
        with pytest.raises(IndexError):
            source.frame(bad)
        with pytest.raises(IndexError):
            source.frame_path(bad)
    with pytest.raises(TypeError):
        source.frame(1.5)


def test_a_png_named_jpg_is_decoded_as_the_png_it_is(tmp_path):
    """The name said JPEG, the bytes say PNG: it used to be "JPEG file is truncated" whenever
    the PNG's bytes happened to hold a JPEG start-of-scan marker after the last end marker."""
    for seed in range(50):  # a PNG whose bytes look like a cut JPEG to a by-name check
        image = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), np.uint8)
        png = cv2.imencode(".png", image)[1].tobytes()
        if png.rfind(b"\xff\xda") > png.rfind(b"\xff\xd9"):
            break
    assert png.rfind(b"\xff\xda") > png.rfind(b"\xff\xd9")
    write_image(tmp_path / "1.jpg", np.zeros((64, 64, 3), np.uint8))
    (tmp_path / "2.jpg").write_bytes(png)
    source = ImageFolderSource(tmp_path)
    np.testing.assert_array_equal(source.frame(1), cv2.cvtColor(image, cv2.COLOR_BGR2RGB))


def test_a_damaged_image_says_what_it_really_is(tmp_path):
    good = write_image(tmp_path / "1.jpg", np.zeros((24, 32, 3), np.uint8))
    png = write_image(tmp_path / "x.png", np.zeros((24, 32, 3), np.uint8)).read_bytes()
    (tmp_path / "2.jpg").write_bytes(png[:40])  # a PNG cut short, named .jpg
    jpeg = good.read_bytes()
    (tmp_path / "3.png").write_bytes(jpeg[: len(jpeg) // 2])  # a cut JPEG named .png
    (tmp_path / "x.png").unlink()
    source = ImageFolderSource(tmp_path)
    with pytest.raises(VideoError) as info:
        source.frame(1)
    message = str(info.value)
    assert "2.jpg, frame 2:" in message and "2.jpg is a PNG image, not a JPEG" in message
    assert "truncated" not in message
    misnamed = r"\(3\.png is a JPEG image, not a PNG\)"
    with pytest.raises(VideoError, match=r"3\.png, frame 3: .*" + misnamed):
        source.frame(2)
