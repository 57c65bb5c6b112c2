"""VideoFileSource: frame-exact reading of video files in any order, damaged files, threads."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from costcore.errors import Cancelled, VideoError
from costcore.video import VideoFileSource

WIDTH, HEIGHT = 320, 240
FRAMES = 90
FPS = 25.0
# (fourcc, extension): an intra-only codec in AVI and an inter-frame codec in MP4
CODECS = [("MJPG", ".avi"), ("mp4v", ".mp4")]


def pattern_frame(index: int) -> np.ndarray:
    """A BGR frame whose 8 big blocks spell ``index`` in binary (white = 1).

    Blocks are 80x120 px of flat colour, so compression noise cannot flip a bit.
    """
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for bit in range(8):
        if index >> bit & 1:
            row, col = divmod(bit, 4)
            image[row * 120 : (row + 1) * 120, col * 80 : (col + 1) * 80] = 255
    return image


def pattern_index(rgb: np.ndarray) -> int:
    """Read back the index from a decoded frame (block centres, mean over a patch)."""
    value = 0
    for bit in range(8):
        row, col = divmod(bit, 4)
        patch = rgb[row * 120 + 40 : row * 120 + 80, col * 80 + 25 : col * 80 + 55]
        if patch.mean() > 127:
            value |= 1 << bit
    return value


def write_pattern_video(path: Path, fourcc: str, frames: int = FRAMES) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        pytest.skip(f"OpenCV cannot write {fourcc} here")
    for i in range(frames):
        writer.write(pattern_frame(i))
    writer.release()
    return path


def read_sequentially(path: Path) -> list[np.ndarray]:
    """Every frame as a fresh VideoCapture reads them in order (RGB): the reference."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def read_decodable(path: Path) -> list[np.ndarray]:
    """Every frame that decodes, in order, stepping over failed reads as a player does (the
    reference for damaged files: a failed read in the middle is not the end)."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames, failures = [], 0
    while failures < 32:
        if not capture.grab():
            failures += 1
            continue
        failures = 0
        ok, bgr = capture.retrieve()
        assert ok
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


@pytest.fixture(scope="module", params=CODECS, ids=[c[0] for c in CODECS])
def pattern_video(request, tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    fourcc, extension = request.param
    path = tmp_path_factory.mktemp("video") / f"pattern_{fourcc}{extension}"
    write_pattern_video(path, fourcc)
    return path, read_sequentially(path)


def check_frames(source: VideoFileSource, order: list[int], reference: list[np.ndarray]) -> None:
    for i in order:
        image = source.frame(i)
        assert image.dtype == np.uint8 and image.shape == (HEIGHT, WIDTH, 3)
        assert pattern_index(image) == i, f"frame {i} shows frame {pattern_index(image)}"
        assert np.array_equal(image, reference[i]), f"frame {i} differs from sequential read"


def test_reference_reader_sees_every_pattern(pattern_video):
    _, reference = pattern_video
    assert [pattern_index(f) for f in reference] == list(range(FRAMES))


def test_count_size_fps(pattern_video):
    path, _ = pattern_video
    with VideoFileSource(path) as source:
        assert source.frame_count == FRAMES == len(source)
        assert source.frame_size == (WIDTH, HEIGHT)
        assert source.fps == pytest.approx(FPS)
        assert source.frame_path(0) is None
        assert np.allclose(np.diff(source.timestamps_ms), 1000.0 / FPS)


def test_forward_reading_never_seeks(pattern_video):
    path, reference = pattern_video
    with VideoFileSource(path) as source:
        check_frames(source, list(range(FRAMES)), reference)
        assert source.stats.seeks == 0 and source.stats.reopens == 0
        assert source.stats.grabs == FRAMES  # one grab per frame, no frame decoded twice


def test_backward_order(pattern_video):
    path, reference = pattern_video
    with VideoFileSource(path) as source:
        check_frames(source, list(range(FRAMES - 1, -1, -1)), reference)


def test_random_order_and_jumps(pattern_video):
    path, reference = pattern_video
    rng = random.Random(7)
    with VideoFileSource(path) as source:
        check_frames(source, rng.sample(range(FRAMES), FRAMES), reference)
        # jumps followed by short runs forward and back, repeated frames, both ends
        order: list[int] = [0, FRAMES - 1, 0, 0, FRAMES - 1, FRAMES - 2, 1]
        for _ in range(15):
            start = rng.randrange(FRAMES)
            step = rng.choice([1, -1, 3, 40])
            order += [min(FRAMES - 1, max(0, start + k * step)) for k in range(5)]
        check_frames(source, order, reference)


def test_index_errors(pattern_video):
    path, _ = pattern_video
    with VideoFileSource(path) as source:
        for bad in (-1, FRAMES, 10**9):
            with pytest.raises(IndexError):
                source.frame(bad)
        assert pattern_index(source.frame(np.int64(5))) == 5


def test_fps_override(pattern_video):
    path, _ = pattern_video
    with VideoFileSource(path, fps=12.5) as source:
        assert source.fps == 12.5


def test_progress_and_cancel(pattern_video):
    path, _ = pattern_video
    calls: list[tuple[int, int]] = []
    with VideoFileSource(path, progress=lambda done, total: calls.append((done, total))) as src:
        assert calls[-1] == (src.frame_count, src.frame_count)
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        VideoFileSource(path, cancel=event.is_set)
    seen = []

    def cancel_after_ten() -> bool:
        seen.append(1)
        return len(seen) > 10

    with pytest.raises(Cancelled):
        VideoFileSource(path, cancel=cancel_after_ten)


def test_closed_source_raises_video_error(pattern_video):
    path, _ = pattern_video
    source = VideoFileSource(path)
    source.close()
    with pytest.raises(VideoError):
        source.frame(0)


def test_concurrent_random_reads(pattern_video):
    path, reference = pattern_video
    errors: list[str] = []
    with VideoFileSource(path) as source:

        def reader(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(60):
                i = rng.randrange(FRAMES)
                image = source.frame(i)
                if pattern_index(image) != i or not np.array_equal(image, reference[i]):
                    errors.append(f"thread {seed}: frame {i} wrong")

        threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors


# -- missing, foreign and damaged files ---------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(VideoError) as info:
        VideoFileSource(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(info.value)


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 100)
    with pytest.raises(VideoError) as info:
        VideoFileSource(fake)
    assert "notes.mp4" in str(info.value)


def test_empty_and_random_files(tmp_path):
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.mkv"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes())
    for path in (empty, noise):
        with pytest.raises(VideoError):
            VideoFileSource(path)


def _damaged_variants(data: bytes) -> dict[str, bytes]:
    n = len(data)
    rng = np.random.default_rng(3)
    garbage = rng.integers(0, 256, 4000, np.uint8).tobytes()
    return {
        "cut_half": data[: n // 2],
        "cut_tenth": data[: n // 10],
        "garbage_middle": data[: n // 2] + garbage + data[n // 2 + 4000 :],
        "zeros_third": data[: n // 3] + bytes(3000) + data[n // 3 + 3000 :],
        "garbage_appended": data + garbage,
    }


@pytest.mark.parametrize("variant", list(_damaged_variants(b"x" * 10)))
def test_damaged_video_only_raises_video_error(pattern_video, tmp_path, variant):
    path, _ = pattern_video
    damaged = tmp_path / f"{variant}{path.suffix}"
    damaged.write_bytes(_damaged_variants(path.read_bytes())[variant])
    try:
        source = VideoFileSource(damaged)
    except VideoError as error:
        assert damaged.name in str(error)
        return
    reference = read_decodable(damaged)
    with source:
        assert 1 <= source.frame_count <= FRAMES + 5
        assert source.frame_count == len(reference)  # the count is what really decodes
        if source.frame_count < FRAMES - 2:  # frames were lost: the source says so
            assert source.damage is not None and source.damage.decodable == source.frame_count
            assert damaged.name in source.damage.describe()
        rng = random.Random(1)
        n = source.frame_count
        order = list(range(n)) + list(range(n - 1, -1, -1)) + rng.sample(range(n), n)
        for i in order:
            try:
                image = source.frame(i)
            except VideoError as error:
                assert error.frame == i
                continue
            assert image.shape == (HEIGHT, WIDTH, 3)
            if variant in ("cut_half", "cut_tenth", "garbage_appended"):
                # undamaged frames must be exactly the frames read in order
                assert np.array_equal(image, reference[i])


def test_truncated_avi_frames_match_sequential_read(tmp_path):
    """A cut-off AVI has lost its index: frames still come out in the order they decode."""
    path = write_pattern_video(tmp_path / "full.avi", "MJPG")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    reference = read_sequentially(cut)
    with VideoFileSource(cut) as source:
        assert source.frame_count == len(reference) >= FRAMES // 2
        order = list(range(source.frame_count - 1, -1, -7)) + [3, 40, 2]
        for i in order:
            image = source.frame(i)
            assert np.array_equal(image, reference[i])
            assert pattern_index(image) == i


def _flip_bytes(data: bytes, at: float, count: int = 400) -> bytes:
    middle = int(len(data) * at)
    flipped = bytearray(data)
    flipped[middle : middle + count] = bytes(b ^ 0xFF for b in flipped[middle : middle + count])
    return bytes(flipped)


def test_flipped_bytes_mid_file_lose_one_frame_not_half_the_video(tmp_path):
    """400 bytes flipped in the middle of a 120-frame MP4 made the scan stop at 58 frames,
    silently. The frames after the damage decode: they are kept, and the loss is reported."""
    path = write_pattern_video(tmp_path / "full.mp4", "mp4v", frames=120)
    damaged = tmp_path / "flipped.mp4"
    damaged.write_bytes(_flip_bytes(path.read_bytes(), 0.5))
    reference = read_decodable(damaged)
    with VideoFileSource(damaged) as source:
        assert len(reference) == source.frame_count >= 115
        damage = source.damage
        assert damage is not None
        assert (damage.expected, damage.decodable) == (120, source.frame_count)
        assert sum(last - first + 1 for first, last in damage.missing) == damage.missing_count
        (first, _), *_ = damage.missing
        assert 40 <= first <= 80  # where the bytes were flipped
        assert f"frame {first + 1}" in damage.describe()  # 1-based, as in exports
        assert "only" in damage.describe() and "of its 120 frames" in damage.describe()
        assert pattern_index(source.frame(source.frame_count - 1)) == 119  # the real last one
        rng = random.Random(2)
        for i in rng.sample(range(source.frame_count), 25):
            assert np.array_equal(source.frame(i), reference[i])


@pytest.mark.parametrize(("fourcc", "suffix"), [("MJPG", ".mkv"), ("MJPG", ".avi")])
def test_a_video_cut_in_half_reports_the_frames_it_lost(tmp_path, fourcc, suffix):
    path = write_pattern_video(tmp_path / f"full{suffix}", fourcc)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with VideoFileSource(cut) as source:
        damage = source.damage
        assert damage is not None
        assert damage.expected == FRAMES and damage.decodable == source.frame_count < FRAMES - 30
        text = damage.describe()
        assert f"only {source.frame_count} of its {FRAMES} frames can be decoded" in text
        if suffix == ".mkv":  # timestamps locate the loss: the whole tail
            assert damage.missing == ((source.frame_count, FRAMES - 1),)
            assert f"frames {source.frame_count + 1}-{FRAMES}" in text
        else:  # AVI renumbers timestamps past damage: only the counts are trustworthy
            assert damage.missing == ()


def test_a_healthy_video_reports_no_damage(pattern_video):
    path, _ = pattern_video
    with VideoFileSource(path) as source:
        assert source.damage is None


# -- the safety nets behind seeking ------------------------------------------------------------


class LyingSeekSource(VideoFileSource):
    """A decoder whose seeks claim to land 3 frames before the target but do not move."""

    def _seek_before(self, i: int) -> bool:
        self.stats.seeks += 1
        self._position = max(-1, i - 3)
        return True


def test_wrong_seek_is_caught_by_timestamp_check(pattern_video):
    path, reference = pattern_video
    with LyingSeekSource(path) as source:
        check_frames(source, [60, 10, 80, 5, 70, 0, 89], reference)
        assert source.stats.reopens >= 3  # every lie was detected and redone from frame 0


def test_unverifiable_timestamps_read_forward_only(pattern_video):
    path, reference = pattern_video
    with VideoFileSource(path) as source:
        source._verifiable = False  # as for a file whose timestamps repeat
        rng = random.Random(5)
        check_frames(source, rng.sample(range(FRAMES), 30) + [FRAMES - 1, 0], reference)
        assert source.stats.seeks == 0
        assert not source.seeks_verified


def test_non_ascii_path(tmp_path):
    path = write_pattern_video(tmp_path / "clip.avi", "MJPG", frames=20)
    renamed = tmp_path / "видео 動画" / "clip é.avi"
    renamed.parent.mkdir()
    path.rename(renamed)
    with VideoFileSource(renamed) as source:
        assert source.frame_count == 20
        assert pattern_index(source.frame(13)) == 13
