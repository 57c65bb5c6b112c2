"""Checking a folder against every rule of the VL-SOT500 format (DESIGN.md section 3).

Unlike the readers, which stop at the first problem, the validator keeps going and reports
every violation with its file and line, so one run tells the annotator everything to fix.
Problems that would break the evaluation toolkit are errors; suspicious but readable content
(a box leaving the image, a missing final newline) is a warning.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from costcore.fileio import read_regular_file
from costcore.formats import vlsot500_spec as spec
from costcore.language import (
    POSITION_SUGGESTIONS,
    SEPARATOR,
    WORD_COUNT,
    WORD_FIELDS,
    WORD_LABELS,
    first_control_character,
    is_known_position,
    normalize_word,
)

ERROR = "error"
WARNING = "warning"
#: at most this many issues of one kind per file; the rest are summarised in one line
MAX_PER_KIND = 20

_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|-?[0-9]+[eE][+-]?[0-9]+")
_SPEED = re.compile(r"[0-9]+\.[0-9]{6}")
_FRAME_NAME = re.compile(r"([0-9]{6})\.jpg")


@dataclass(frozen=True)
class Issue:
    """One violation: ``severity`` is ``"error"`` or ``"warning"``; ``line`` is 1-based."""

    severity: str
    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.line is None else f"{self.file}:{self.line}"
        return f"{self.severity}: {where}: {self.message}"


class _Report:
    """Collects issues, capping repeats of one kind per file so a CRLF file gives 21 lines."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self._counts: Counter[tuple[str, Path, str]] = Counter()

    def add(
        self, severity: str, file: Path, line: int | None, message: str, kind: str | None = None
    ) -> None:
        key = (severity, file, kind or message)
        self._counts[key] += 1
        if self._counts[key] <= MAX_PER_KIND:
            self.issues.append(Issue(severity, file, line, message))

    def error(self, file: Path, line: int | None, message: str, kind: str | None = None) -> None:
        self.add(ERROR, file, line, message, kind)

    def warning(self, file: Path, line: int | None, message: str, kind: str | None = None) -> None:
        self.add(WARNING, file, line, message, kind)

    def finish(self) -> list[Issue]:
        """The issues grouped by file (in check order), by line within a file."""
        for (severity, file, kind), count in self._counts.items():
            if count > MAX_PER_KIND:
                more = count - MAX_PER_KIND
                self.issues.append(Issue(severity, file, None, f"{more} more of: {kind}"))
        files = {issue.file: order for order, issue in reversed(list(enumerate(self.issues)))}
        return sorted(
            self.issues,
            key=lambda issue: (files[issue.file], issue.line is None, issue.line or 0),
        )


def _read_lines(path: Path, report: _Report, required: bool = True) -> list[str] | None:
    """Lines of a ``\\n``-terminated text file, reporting encoding and line-ending problems.

    Returns the lines with any ``\\r`` removed (after reporting it) so later checks still run;
    None when the file is missing or unreadable.
    """
    if not os.path.lexists(path):
        if required:
            report.error(path, None, "required file is missing")
        return None
    try:
        data = read_regular_file(path)
    except OSError as error:
        report.error(path, None, f"cannot read file: {error.strerror or error}")
        return None
    return _lines_of(path, data, report)


def _lines_of(path: Path, data: bytes, report: _Report) -> list[str]:
    """The checks of :func:`_read_lines` on a file's bytes (on disk or about to be written)."""
    if not data:
        report.error(path, None, "file is empty")
        return []
    if data.startswith(b"\xef\xbb\xbf"):
        report.error(path, 1, "starts with a UTF-8 byte order mark")
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as failure:
        line = data[: failure.start].count(b"\n") + 1
        report.error(path, line, "not UTF-8 text")
        text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    else:
        report.warning(path, len(lines), "no newline at the end of the file")
    for number, line in enumerate(lines, start=1):
        if "\r" in line:
            report.error(path, number, "carriage return (\\r); lines must end with \\n only", "\\r")
    return [line.replace("\r", "") for line in lines]


@dataclass
class _GroundTruth:
    """What the groundtruth check learned, for the absent.txt agreement check."""

    zero_rows: list[bool | None]  # per line: True for 0,0,0,0, None when unparsable
    boxes: list[tuple[int, list[float]]]  # (line, box) of present, parsable lines


def _number_kind(token: str) -> str | None:
    if _INT.fullmatch(token):
        return "int"
    if _FLOAT.fullmatch(token):
        return "float"
    return None


def _check_groundtruth(path: Path, lines: list[str], report: _Report) -> _GroundTruth:
    result = _GroundTruth([], [])
    file_kind: str | None = None
    for number, raw in enumerate(lines, start=1):
        result.zero_rows.append(None)
        if not raw.strip():
            report.error(path, number, "blank line", "blank line")
            continue
        line = raw
        if " " in line or "\t" in line:
            report.error(path, number, "spaces or tabs; use commas only", "spaces")
            line = line.replace(" ", "").replace("\t", "")
        fields = line.split(",")
        if len(fields) != 4:
            message = f"expected 4 comma-separated numbers, found {len(fields)} fields"
            report.error(path, number, message, "field count")
            continue
        kinds = [_number_kind(field) for field in fields]
        if None in kinds:
            bad = fields[kinds.index(None)][:20]
            report.error(path, number, f"not a number: {bad!r}", "not a number")
            continue
        values = [float(field) for field in fields]
        is_zero = all(value == 0.0 for value in values)
        result.zero_rows[-1] = is_zero
        kind = kinds[0] if len(set(kinds)) == 1 else "mixed"
        if kind == "mixed":
            report.error(path, number, "mixes integers and decimals on one line", "mixed line")
        if file_kind is None:
            file_kind = "float" if kind == "mixed" else kind
        elif kind == "float" and file_kind == "int":
            message = "decimal numbers, but line 1 is integers (the toolkit reads line 1's format)"
            report.error(path, number, message, "format")
        elif kind == "int" and file_kind == "float" and not is_zero:
            message = "integers, but line 1 is decimals (one number format per file)"
            report.error(path, number, message, "format")
        if is_zero:
            continue
        for value, name in ((values[2], "width"), (values[3], "height")):
            if value < 0:
                report.error(path, number, f"negative {name} on a present frame", "negative")
            elif value == 0:
                message = f"zero {name} on a present frame (use 0,0,0,0 for absent)"
                report.error(path, number, message, "zero size")
        result.boxes.append((number, values))
    return result


def _check_outside(
    path: Path, ground_truth: _GroundTruth, size: tuple[int, int], report: _Report
) -> None:
    width, height = size
    for number, (x, y, w, h) in ground_truth.boxes:
        if w <= 0 or h <= 0:
            continue
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            message = f"box is entirely outside the {width}x{height} image"
            report.warning(path, number, message, "outside")
        elif x < 0 or y < 0 or x + w > width or y + h > height:
            message = f"box is partly outside the {width}x{height} image"
            report.warning(path, number, message, "partly outside")


def _check_absent(
    path: Path, lines: list[str], ground_truth: _GroundTruth | None, report: _Report
) -> None:
    for number, line in enumerate(lines, start=1):
        if line not in ("0", "1"):
            shown = line[:20]
            report.error(path, number, f"expected 0 or 1, found {shown!r}", "absent value")
            continue
        if ground_truth is None or number > len(ground_truth.zero_rows):
            continue
        zero = ground_truth.zero_rows[number - 1]
        if zero is None or zero == (line == "1"):
            continue
        if line == "1":
            message = f"1 (absent) but {spec.GROUNDTRUTH} line {number} has a box"
        else:
            message = f"0 (present) but {spec.GROUNDTRUTH} line {number} is 0,0,0,0"
        report.error(path, number, message, "disagreement")


def _check_attributes(path: Path, lines: list[str], report: _Report) -> None:
    if not lines:
        return
    for number in range(2, len(lines) + 1):
        report.error(path, number, "attributes must be on one line", "extra line")
    line = lines[0]
    if " " in line or "\t" in line:
        report.error(path, 1, "spaces or tabs; use commas only")
        line = line.replace(" ", "").replace("\t", "")
    fields = line.split(",")
    values: list[int] = []
    for position, field in enumerate(fields, start=1):
        if _INT.fullmatch(field) and len(field) <= 18:
            values.append(int(field))
        else:
            report.error(path, 1, f"attribute {position} is not an integer: {field[:20]!r}")
            return
    for problem in spec.attribute_problems(values):
        report.error(path, 1, problem)


def _check_language(path: Path, lines: list[str], report: _Report) -> None:
    if not lines:
        return  # an empty file is already reported
    if not lines[0].strip():
        report.error(path, 1, "the language description is empty")
    bad = first_control_character(lines[0])
    if bad is not None:
        message = f"control character or byte order mark U+{ord(bad):04X} in the description"
        report.error(path, 1, message)
    for number in range(2, len(lines) + 1):
        report.error(path, number, "language must be one sentence on one line", "extra line")


def _check_language_attributes(path: Path, lines: list[str], report: _Report) -> None:
    """One line of exactly 4 non-empty words, commas only between them (as the writer does)."""
    if not lines:
        return  # an empty file is already reported
    for number in range(2, len(lines) + 1):
        report.error(path, number, "the attribute words must be on one line", "extra line")
    line = lines[0]
    if not line.strip():
        report.error(path, 1, f"blank line; expected the {WORD_COUNT} attribute words")
        return
    fields = line.split(SEPARATOR)
    if any(field != field.strip() for field in fields):
        report.error(path, 1, "spaces around a comma or at the ends; write the words as a,b,c,d")
    if len(fields) != WORD_COUNT:
        labels = ", ".join(WORD_LABELS[name] for name in WORD_FIELDS)
        message = f"expected {WORD_COUNT} comma-separated words ({labels}), found {len(fields)}"
        report.error(path, 1, message)
        return
    for position, (name, field) in enumerate(zip(WORD_FIELDS, fields, strict=True), start=1):
        label = WORD_LABELS[name]
        try:
            word = normalize_word(field, name)
        except ValueError as error:
            report.error(path, 1, f"{error} (word {position})")
            continue
        if not word:
            report.error(path, 1, f"the {label} (word {position}) is empty")
        elif word != field.strip():
            report.warning(path, 1, f"runs of spaces inside the {label} (word {position})")
        if name == "initial_position" and word and not is_known_position(word):
            usual = ", ".join(POSITION_SUGGESTIONS[:5])
            report.warning(
                path,
                1,
                f"initial position {word[:40]!r} is not built from the usual position words "
                f"({usual}, ...)",
            )


def _check_relative_speed(path: Path, lines: list[str], report: _Report) -> None:
    for number, line in enumerate(lines, start=1):
        if _SPEED.fullmatch(line):
            value = float(line)
        elif _INT.fullmatch(line) or _FLOAT.fullmatch(line):
            value = float(line)
            if value < 0:
                report.error(path, number, "relative speed is negative", "negative")
                continue
            report.error(path, number, f"{line[:20]!r} is not formatted %.6f", "format")
        else:
            report.error(path, number, f"not a number: {line[:20]!r}", "not a number")
            continue
        if number == 1 and value != 0.0:
            report.error(path, 1, "relative speed of frame 1 must be 0")


def _check_count(path: Path, lines: list[str] | None, count: int | None, report: _Report) -> None:
    if lines is not None and count is not None and len(lines) != count:
        noun = "line" if len(lines) == 1 else "lines"
        report.error(path, None, f"{len(lines)} {noun} for {count} images")


def _check_images(folder: Path, report: _Report) -> int | None:
    """Check ``imgs/``; returns the number of frames (None when the folder is unusable)."""
    images = folder / spec.IMAGES_DIR
    if not images.is_dir():
        report.error(images, None, "required image folder is missing")
        return None
    try:
        with os.scandir(images) as entries:
            listing = sorted((entry.name, entry.is_file()) for entry in entries)
    except OSError as error:
        report.error(images, None, f"cannot list folder: {error.strerror or error}")
        return None
    numbers = []
    for name, is_file in listing:
        match = _FRAME_NAME.fullmatch(name)
        if not is_file or not match:
            message = "unexpected entry; frames are 6-digit, 1-based NNNNNN.jpg files"
            report.error(images / name, None, message, "name")
            continue
        numbers.append(int(match.group(1)))
        if not spec.is_jpeg_file(images / name):
            report.error(images / name, None, "not a JPEG file", "not JPEG")
    if not numbers:
        report.error(images, None, "no frames (NNNNNN.jpg) in the folder")
        return None
    if 0 in numbers:
        report.error(images / "000000.jpg", None, "frame numbers start at 000001.jpg")
    present = set(numbers)
    for missing in range(1, max(numbers) + 1):
        if missing not in present:
            name = spec.frame_name(missing - 1)
            report.error(images / name, None, "missing frame; names must be contiguous", "gap")
    return len(numbers)


def _check_first_frame(folder: Path, report: _Report) -> None:
    copy = folder / spec.FIRST_FRAME
    original = folder / spec.IMAGES_DIR / spec.FIRST_FRAME
    if not copy.is_file():
        report.error(copy, None, "required file is missing (a copy of imgs/000001.jpg)")
        return
    try:
        same = original.is_file() and copy.read_bytes() == original.read_bytes()
    except OSError as error:
        report.error(copy, None, f"cannot read file: {error.strerror or error}")
        return
    if original.is_file() and not same:
        report.error(copy, None, "not a byte copy of imgs/000001.jpg")


def _image_size(folder: Path) -> tuple[int, int] | None:
    path = folder / spec.IMAGES_DIR / spec.FIRST_FRAME
    try:
        data = np.frombuffer(read_regular_file(path), dtype=np.uint8)
    except OSError:
        return None
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error:
        return None
    if image is None:
        return None
    return int(image.shape[1]), int(image.shape[0])


def validate_vlsot500(folder: str | Path) -> list[Issue]:
    """Every violation of the VL-SOT500 rules in ``folder`` (an empty list when it is valid)."""
    folder = Path(folder)
    report = _Report()
    try:
        _validate(folder, report)
    except OSError as error:  # permissions, files vanishing mid-check
        path = Path(error.filename) if isinstance(error.filename, str) else folder
        report.error(path, None, f"cannot read: {error.strerror or error}")
    return report.finish()


def _validate(folder: Path, report: _Report) -> None:
    if not folder.is_dir():
        report.error(folder, None, "folder not found")
        return

    count = _check_images(folder, report)
    _check_first_frame(folder, report)

    def lines_of(path: Path, required: bool) -> list[str] | None:
        return _read_lines(path, report, required)

    _check_text_files(folder, lines_of, count, lambda: _image_size(folder), report)


def validate_texts(
    folder: str | Path,
    texts: dict[str, str],
    frame_count: int,
    frame_size: tuple[int, int] | None = None,
) -> list[Issue]:
    """The checks of :func:`validate_vlsot500` on the text files of an export not yet written.

    ``texts`` maps file names (``groundtruth_rect.txt``, ...) to their exact content; issues
    name the files as they would be in ``folder``. The writer runs this before it touches
    the disk, so an export that the validator would reject is never produced.
    """
    folder = Path(folder)
    report = _Report()

    def lines_of(path: Path, required: bool) -> list[str] | None:
        text = texts.get(path.name)
        if text is None:
            if required:
                report.error(path, None, "required file is missing")
            return None
        return _lines_of(path, text.encode("utf-8", errors="surrogatepass"), report)

    _check_text_files(folder, lines_of, frame_count, lambda: frame_size, report)
    return report.finish()


def _check_text_files(
    folder: Path,
    lines_of: Callable[[Path, bool], list[str] | None],
    count: int | None,
    image_size: Callable[[], tuple[int, int] | None],
    report: _Report,
) -> None:
    """Every check of the text files; ``lines_of(path, required)`` supplies their lines."""
    gt_path = folder / spec.GROUNDTRUTH
    gt_lines = lines_of(gt_path, True)
    ground_truth = None
    if gt_lines is not None:
        ground_truth = _check_groundtruth(gt_path, gt_lines, report)
        _check_count(gt_path, gt_lines, count, report)
        if len(gt_lines) < 2:
            report.error(gt_path, None, "at least 2 lines are needed (the toolkit fails on one)")
        size = image_size()
        if size is not None:
            _check_outside(gt_path, ground_truth, size, report)

    absent_path = folder / spec.ABSENT
    absent_lines = lines_of(absent_path, True)
    if absent_lines is not None:
        _check_absent(absent_path, absent_lines, ground_truth, report)
        _check_count(absent_path, absent_lines, count, report)

    attributes_path = folder / spec.ATTRIBUTES
    attribute_lines = lines_of(attributes_path, True)
    if attribute_lines is not None:
        _check_attributes(attributes_path, attribute_lines, report)

    language_path = folder / spec.LANGUAGE
    language_lines = lines_of(language_path, True)
    if language_lines is not None:
        _check_language(language_path, language_lines, report)

    words_path = folder / spec.LANGUAGE_ATTRIBUTES
    words_lines = lines_of(words_path, False)
    if words_lines is not None:
        _check_language_attributes(words_path, words_lines, report)

    speed_path = folder / spec.RELATIVE_SPEED
    speed_lines = lines_of(speed_path, False)
    if speed_lines is not None:
        _check_relative_speed(speed_path, speed_lines, report)
        _check_count(speed_path, speed_lines, count, report)


def has_errors(issues: list[Issue]) -> bool:
    """True when any issue is an error (warnings alone leave an export usable)."""
    return any(issue.severity == ERROR for issue in issues)


def format_report(issues: list[Issue], folder: str | Path | None = None) -> str:
    """Human-readable report: a summary line, then one line per issue.

    Paths are shown relative to ``folder`` when given, as an annotator reads them in the app.
    """
    errors = sum(issue.severity == ERROR for issue in issues)
    warnings = len(issues) - errors
    title = f"{folder}: " if folder is not None else ""
    if not issues:
        return f"{title}valid VL-SOT500 folder (no errors, no warnings)\n"
    lines = [f"{title}{errors} error(s), {warnings} warning(s)"]
    for issue in issues:
        file = issue.file
        if folder is not None:
            with contextlib.suppress(ValueError):
                file = issue.file.relative_to(folder)
        where = str(file) if issue.line is None else f"{file}:{issue.line}"
        lines.append(f"  {issue.severity}: {where}: {issue.message}")
    return "\n".join(lines) + "\n"
