"""Export of one annotated video as a VL-SOT500 folder (DESIGN.md section 3).

Every input is validated before anything touches the disk, the folder is built in a hidden
temporary sibling and renamed into place, so a crash, an error or a cancel never leaves a
half-written export and never damages an existing one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from collections.abc import Sequence as SequenceOf
from pathlib import Path

import cv2
import numpy as np

from costcore.errors import Cancelled, ExportError
from costcore.fileio import (
    atomic_write_text,
    fsync_directory,
    make_temporary_folder,
    move_folder_into_place,
)
from costcore.formats import vlsot500_spec as spec
from costcore.formats.vlsot500_validator import ERROR, validate_texts
from costcore.language import LanguageAttributes, first_control_character
from costcore.video.base import FrameSource

FrameInput = SequenceOf[Path | str] | FrameSource
ProgressCallback = Callable[[int, int], None]

# Integer boxes are written with int64; anything this far off-image is a bug, not a box.
_MAX_COORDINATE = 1e7
_FLOAT_STEP = 0.01  # the smallest non-zero size FLOAT_FORMAT can show


def round_half_up(values: np.ndarray) -> np.ndarray:
    """floor(v + 0.5): 2.5 -> 3 and -2.5 -> -2, never numpy's round-half-to-even."""
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5).astype(np.int64)


def _check_boxes(boxes: object, absent: object, count: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        box_array = np.array(boxes, dtype=np.float64)
        absent_array = np.array(absent, dtype=bool).reshape(-1)
    except (TypeError, ValueError) as error:
        raise ExportError(f"boxes or absent flags are not numeric: {error}") from None
    if box_array.shape != (count, 4):
        raise ExportError(
            f"expected {count} boxes (N x 4), got an array of shape {box_array.shape}"
        )
    if absent_array.shape != (count,):
        raise ExportError(f"expected {count} absent flags, got {absent_array.size}")
    present = ~absent_array
    bad = present & ~np.all(np.isfinite(box_array), axis=1)
    bad |= present & np.any(np.abs(box_array) > _MAX_COORDINATE, axis=1)
    if bad.any():
        frame = int(np.flatnonzero(bad)[0]) + 1
        raise ExportError(f"frame {frame}: box {box_array[frame - 1].tolist()} is not a valid box")
    empty = present & ((box_array[:, 2] <= 0) | (box_array[:, 3] <= 0))
    if empty.any():
        frame = int(np.flatnonzero(empty)[0]) + 1
        raise ExportError(
            f"frame {frame}: box {box_array[frame - 1].tolist()} has no area; "
            "mark the frame absent or fix the box"
        )
    return box_array, absent_array


def groundtruth_text(boxes: np.ndarray, absent: np.ndarray, float_boxes: bool = False) -> str:
    """``groundtruth_rect.txt``: one ``x,y,w,h`` line per frame, ``0,0,0,0`` when absent.

    A present box never becomes ``0,0,0,0`` or zero-sized through rounding: the toolkit would
    read it as absent, so its width and height are at least one unit of the written format.
    """
    present = ~absent
    if float_boxes:
        values = np.round(boxes, 2) + 0.0  # "+ 0.0" turns -0.0 into 0.0 ("-0.00" otherwise)
        values[:, 2:] = np.maximum(values[:, 2:], _FLOAT_STEP)
        row_format = ",".join([spec.FLOAT_FORMAT] * 4)
        lines = [
            row_format % tuple(row) if keep else spec.ABSENT_LINE
            for row, keep in zip(values.tolist(), present.tolist(), strict=True)
        ]
    else:
        values = round_half_up(np.where(present[:, None], boxes, 0.0))
        values[:, 2:] = np.maximum(values[:, 2:], 1)
        lines = [
            f"{x},{y},{w},{h}" if keep else spec.ABSENT_LINE
            for (x, y, w, h), keep in zip(values.tolist(), present.tolist(), strict=True)
        ]
    return "\n".join(lines) + "\n"


def absent_text(absent: np.ndarray) -> str:
    """``absent.txt``: ``0``/``1`` per frame."""
    return "".join("1\n" if flag else "0\n" for flag in absent.tolist())


def attributes_text(attributes: SequenceOf[int]) -> str:
    """``attributes.txt``: the 17 attributes on one comma-separated line."""
    try:
        values = list(attributes)
    except TypeError:
        raise ExportError("attributes must be a list of 17 integers") from None
    problems = spec.attribute_problems(values)
    if problems:
        raise ExportError("invalid attributes: " + "; ".join(problems))
    return ",".join(str(int(value)) for value in values) + "\n"


def language_text(language: str) -> str:
    """``language.txt``: one sentence on one line (inner newlines and runs of spaces collapsed)."""
    if not isinstance(language, str):
        raise ExportError("the language description must be text")
    sentence = " ".join(language.split())
    if not sentence:
        raise ExportError("the language description is empty; VL-SOT500 needs one sentence")
    bad = first_control_character(sentence)
    if bad is not None:
        raise ExportError(
            f"the language description holds a control character or byte order mark "
            f"(U+{ord(bad):04X}): {sentence[:60]!r}"
        )
    return sentence + "\n"


def language_attributes_text(words: LanguageAttributes | SequenceOf[str] | None) -> str | None:
    """``language_attributes.txt``: the four attribute words on one comma-separated line.

    None when there are no words (the file is optional and then not written). A partial set
    is an error: the file holds all four words or does not exist.
    """
    if words is None:
        return None
    if not isinstance(words, LanguageAttributes):
        try:
            words = LanguageAttributes.from_words(words)
        except ValueError as error:
            raise ExportError(f"invalid attribute words: {error}") from None
    if words.is_empty:
        return None
    if not words.is_complete:
        raise ExportError(
            f"the attribute words are incomplete ({words.missing_message()}); "
            "fill in all four or clear them"
        )
    return words.line() + "\n"


def relative_speed_text(relative_speed: object, count: int) -> str:
    """``relative_speed.txt``: ``%.6f`` per frame, non-negative, 0 on frame 1."""
    try:
        speeds = np.array(relative_speed, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ExportError("relative speed must be a list of numbers") from None
    if speeds.shape != (count,):
        raise ExportError(f"expected {count} relative speed values, got {speeds.size}")
    if not np.all(np.isfinite(speeds)) or np.any(speeds < 0):
        frame = int(np.flatnonzero(~(np.isfinite(speeds) & (speeds >= 0)))[0]) + 1
        raise ExportError(f"frame {frame}: relative speed {speeds[frame - 1]} is not >= 0")
    lines = [spec.SPEED_FORMAT % value for value in speeds.tolist()]
    if float(lines[0]) != 0.0:
        raise ExportError(f"relative speed of frame 1 must be 0, got {lines[0]}")
    return "\n".join(lines) + "\n"


def _frame_count(frames: FrameInput) -> int:
    if isinstance(frames, FrameSource):
        return int(frames.frame_count)
    if isinstance(frames, (str, bytes, Path)) or not isinstance(frames, SequenceOf):
        raise ExportError("frames must be a list of image paths or a FrameSource")
    for index, frame in enumerate(frames):
        try:
            found = Path(frame).is_file()
        except (TypeError, OSError):
            found = False
        if not found:
            raise ExportError(f"frame {index + 1}: image file not found: {frame}")
    return len(frames)


def _encode_jpeg(bgr: np.ndarray, frame: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, spec.JPEG_QUALITY])
    if not ok:
        raise ExportError(f"frame {frame}: JPEG encoding failed")
    return buffer.tobytes()


def _rgb_to_bgr(image: object, frame: int) -> np.ndarray:
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ExportError(f"frame {frame}: expected a uint8 image, got {array.dtype} {array.shape}")
    if array.ndim == 2:
        return array
    if array.shape[2] != 3:
        raise ExportError(f"frame {frame}: expected 3 colour channels, got {array.shape[2]}")
    return cv2.cvtColor(array, cv2.COLOR_RGB2BGR)


def _write_frame(frames: FrameInput, index: int, target: Path) -> None:
    """Byte-copy a JPEG source file; decode and re-encode anything else."""
    number = index + 1
    is_source = isinstance(frames, FrameSource)
    source = frames.frame_path(index) if is_source else Path(frames[index])
    if source is not None and spec.is_jpeg_file(source):
        shutil.copyfile(source, target)
        return
    if isinstance(frames, FrameSource):
        bgr = _rgb_to_bgr(frames.frame(index), number)
    else:
        data = np.fromfile(source, dtype=np.uint8)
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if bgr is None:
            raise ExportError(f"frame {number}: cannot decode image {source}")
    target.write_bytes(_encode_jpeg(bgr, number))


def _check_texts(dest: Path, texts: dict[str, str], count: int, frames: FrameInput) -> None:
    """Run the validator's checks on the files about to be written; refuse on any error.

    The text builders above already refuse what they know to be wrong; this is the
    validator's word on the exact bytes, so no export the validator would reject is written.
    """
    size = frames.frame_size if isinstance(frames, FrameSource) else None
    errors = [
        issue for issue in validate_texts(dest, texts, count, size) if issue.severity == ERROR
    ]
    if errors:
        shown = "; ".join(str(issue) for issue in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ExportError(
            f"the export would not be valid VL-SOT500, nothing written: {shown}{more}"
        )


def _move_into_place(built: Path, dest: Path, overwrite: bool) -> None:
    """Rename the finished folder to ``dest``; an old export is replaced only when asked."""
    if os.path.lexists(dest) and not overwrite:
        raise ExportError(f"{dest} already exists")
    try:
        move_folder_into_place(built, dest)
    except OSError as error:
        raise ExportError(f"could not move the export into place at {dest}: {error}") from error


def write_vlsot500(
    dest: str | Path,
    *,
    frames: FrameInput,
    boxes: object,
    absent: object,
    language: str,
    attributes: SequenceOf[int],
    float_boxes: bool = False,
    relative_speed: object | None = None,
    language_attributes: LanguageAttributes | SequenceOf[str] | None = None,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> Path:
    """Write a VL-SOT500 folder at ``dest`` and return its path.

    ``frames`` are image paths or a FrameSource (JPEG files are byte-copied, other frames are
    encoded at quality 95); ``boxes`` ``(N, 4)`` x, y, w, h; ``absent`` ``(N,)``.
    ``language_attributes`` (VLT's four attribute words) adds ``language_attributes.txt``
    when set; ``language.txt`` always holds the sentence. Raises
    :class:`ExportError` on invalid input or when ``dest`` exists and ``overwrite`` is False,
    :class:`Cancelled` when ``is_cancelled()`` turns True; either way ``dest`` is untouched.
    ``progress(done, total)`` is called after every frame.
    """
    dest = Path(dest)
    count = _frame_count(frames)
    if count < 2:
        raise ExportError(f"a VL-SOT500 video needs at least 2 frames, got {count}")
    box_array, absent_array = _check_boxes(boxes, absent, count)
    if float_boxes and absent_array[0]:
        # The toolkit reads the number format from line 1; "0,0,0,0" there would make it
        # parse the decimal lines as integers.
        raise ExportError("float boxes need a box on frame 1 (the toolkit reads line 1's format)")
    texts = {
        spec.GROUNDTRUTH: groundtruth_text(box_array, absent_array, float_boxes),
        spec.ABSENT: absent_text(absent_array),
        spec.ATTRIBUTES: attributes_text(attributes),
        spec.LANGUAGE: language_text(language),
    }
    if relative_speed is not None:
        texts[spec.RELATIVE_SPEED] = relative_speed_text(relative_speed, count)
    words_text = language_attributes_text(language_attributes)
    if words_text is not None:
        texts[spec.LANGUAGE_ATTRIBUTES] = words_text
    _check_texts(dest, texts, count, frames)

    if os.path.lexists(dest):
        if not overwrite:
            raise ExportError(f"{dest} already exists; choose another name or allow overwriting")
        if not os.path.isdir(dest):
            raise ExportError(f"{dest} exists and is not a folder; it will not be replaced")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        built = make_temporary_folder(dest)
    except OSError as error:
        raise ExportError(f"cannot create the export next to {dest}: {error}") from error

    def check_cancelled() -> None:
        if is_cancelled is not None and is_cancelled():
            raise Cancelled(f"export to {dest} cancelled")

    try:
        try:
            for name, text in texts.items():
                atomic_write_text(built / name, text)
            images = built / spec.IMAGES_DIR
            images.mkdir()
            for index in range(count):
                check_cancelled()
                _write_frame(frames, index, images / spec.frame_name(index))
                if progress is not None:
                    progress(index + 1, count)
            shutil.copyfile(images / spec.frame_name(0), built / spec.FIRST_FRAME)
            check_cancelled()
            _move_into_place(built, dest, overwrite)
        except (OSError, cv2.error) as error:
            raise ExportError(f"writing the export {dest} failed: {error}") from error
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise
    fsync_directory(dest.parent)
    return dest
