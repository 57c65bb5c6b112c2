"""Parsing of the small text files tracking datasets ship (boxes, flags, language).

Dataset files come from many tools: OTB uses tabs, UAV123 writes ``NaN`` rows, LaSOT puts its
flags on one comma-separated line, some files have ``\\r\\n`` endings, a BOM or no final newline.
These readers accept all of that, and turn everything else into a :class:`FormatError` that
names the file and the 1-based line, so a bad file never surfaces as a ``ValueError`` or
``UnicodeDecodeError`` deep inside the app.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import numpy as np

from costcore.errors import FormatError, NotRegularFileError
from costcore.fileio import read_regular_file
from costcore.language import BOM_CHARACTER, LanguageAttributes, first_control_character

_BOM = b"\xef\xbb\xbf"
# ASCII digits only: Python's float() would also take "1_000" or full-width digits.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NAN = re.compile(r"[+-]?nan", re.IGNORECASE)
# Comma (with optional spaces around it) or a run of whitespace (tabs, spaces); mixed per line.
_DELIMITER = re.compile(r"\s*,\s*|\s+")


class BoxFile(NamedTuple):
    """Boxes read from a ground-truth file.

    ``missing`` marks rows written as ``NaN`` (UAV123's way of saying "no box"); their
    ``boxes`` rows are zeros so nothing downstream has to handle NaN.
    """

    boxes: np.ndarray  # (N, 4) float64
    missing: np.ndarray  # (N,) bool


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes; any OS-level failure becomes a FormatError naming the file."""
    path = Path(path)
    try:
        return read_regular_file(path)
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except NotRegularFileError as error:
        expected = "expected a file, found a folder" if error.kind == "a folder" else error.strerror
        raise FormatError(path, expected) from None
    except OSError as error:
        raise FormatError(path, f"cannot read file: {error.strerror or error}") from None


def read_text(path: str | Path) -> str:
    """The file decoded as UTF-8, with the line of a bad byte.

    One leading BOM is dropped (as ``utf-8-sig`` does); another one anywhere (a file saved
    twice by a BOM-adding editor, or two files pasted together) is an error: it would be
    invisible in the text and end up in an export, which the toolkit then misreads.
    """
    path = Path(path)
    data = read_bytes(path)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FormatError(
            path, f"not UTF-8 text (undecodable byte 0x{data[error.start]:02x})", line
        ) from None
    stray = text.find(BOM_CHARACTER)
    if stray >= 0:
        line = text.count("\n", 0, stray) + 1
        raise FormatError(
            path, "a byte order mark (U+FEFF) that is not the first character of the file", line
        )
    return text


def split_lines(text: str) -> list[str]:
    """Lines of ``text``, ``\\r\\n``/``\\r`` endings normalised, trailing blank lines dropped.

    Blank lines in the middle are kept (callers decide whether they are an error).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def data_lines(path: str | Path, text: str) -> list[str]:
    """Stripped data lines; a blank line before the last data line is an error.

    A blank line in the middle shifts every later row by one frame, so it is never ignored.
    """
    lines = split_lines(text)
    stripped = [line.strip() for line in lines]
    for number, line in enumerate(stripped, start=1):
        if not line:
            raise FormatError(path, "blank line in the middle of the file", number)
    return stripped


def parse_number(token: str, path: Path, line: int, *, allow_nan: bool = False) -> float:
    """One decimal number; ``NaN`` only when ``allow_nan``; infinities are rejected."""
    if allow_nan and _NAN.fullmatch(token):
        return float("nan")
    if not _NUMBER.fullmatch(token):
        shown = token if len(token) <= 20 else token[:20] + "..."
        raise FormatError(path, f"not a number: {shown!r}", line)
    value = float(token)
    if not np.isfinite(value):
        raise FormatError(path, f"number out of range: {token[:20]!r}", line)
    return value


def split_fields(line: str) -> list[str]:
    """Fields of a stripped line split on commas and/or whitespace."""
    return _DELIMITER.split(line) if line else []


def read_box_file(path: str | Path) -> BoxFile:
    """Read ``x, y, w, h`` rows (comma, tab or space delimited; NaN rows mean no box)."""
    path = Path(path)
    lines = data_lines(path, read_text(path))
    if not lines:
        raise FormatError(path, "the file holds no boxes")
    rows = np.empty((len(lines), 4), dtype=np.float64)
    for number, line in enumerate(lines, start=1):
        fields = split_fields(line)
        if any(not field for field in fields):
            raise FormatError(path, "empty field (two delimiters in a row?)", number)
        if len(fields) != 4:
            raise FormatError(
                path, f"expected 4 numbers (x, y, w, h), found {len(fields)} fields", number
            )
        rows[number - 1] = [parse_number(field, path, number, allow_nan=True) for field in fields]
    nan = np.isnan(rows)
    missing = nan.all(axis=1)
    partial = nan.any(axis=1) & ~missing
    if partial.any():
        number = int(np.flatnonzero(partial)[0]) + 1
        raise FormatError(path, "NaN in only some of the 4 numbers", number)
    rows[missing] = 0.0
    return BoxFile(rows, missing)


def read_flag_file(path: str | Path) -> np.ndarray:
    """Read 0/1 flags: one per line (GOT-10k, VL-SOT500) or one comma-separated line (LaSOT)."""
    path = Path(path)
    lines = data_lines(path, read_text(path))
    if len(lines) == 1:
        tokens = [(1, field) for field in split_fields(lines[0])]
    else:
        tokens = [(number, line) for number, line in enumerate(lines, start=1)]
    flags = np.empty(len(tokens), dtype=bool)
    for index, (number, token) in enumerate(tokens):
        if token not in ("0", "1"):
            shown = token if len(token) <= 20 else token[:20] + "..."
            where = f" (value {index + 1})" if len(lines) == 1 and len(tokens) > 1 else ""
            raise FormatError(path, f"expected 0 or 1{where}, found {shown!r}", number)
        flags[index] = token == "1"
    return flags


def read_language(path: str | Path) -> str:
    """The first non-empty line, stripped ("" when the file holds only whitespace).

    A control character in it (other than a tab) is an error naming the line: it would be
    copied into the export's ``language.txt`` unseen.
    """
    path = Path(path)
    for number, line in enumerate(split_lines(read_text(path)), start=1):
        if line.strip():
            bad = first_control_character(line.replace("\t", " "))
            if bad is not None:
                raise FormatError(path, f"control character U+{ord(bad):04X} in the text", number)
            return line.strip()
    return ""


def read_language_attributes(path: str | Path) -> LanguageAttributes:
    """``language_attributes.txt``: one line of the four attribute words, comma-separated.

    Like the other readers it accepts a BOM, ``\\r\\n`` and a missing final newline, and trims
    spaces around the commas; everything else (another word count, an empty word, a second
    line, a blank line) is a FormatError naming the file and line.
    """
    path = Path(path)
    lines = data_lines(path, read_text(path))
    if not lines:
        raise FormatError(path, "the file is empty; expected one line of 4 attribute words")
    if len(lines) > 1:
        raise FormatError(path, "the attribute words must be on one line", 2)
    try:
        return LanguageAttributes.parse(lines[0])
    except ValueError as error:
        raise FormatError(path, str(error), 1) from None


def read_int_row(path: str | Path, count: int) -> list[int]:
    """One line of exactly ``count`` integers (comma or whitespace delimited)."""
    path = Path(path)
    lines = data_lines(path, read_text(path))
    if len(lines) != 1:
        raise FormatError(path, f"expected one line of {count} integers, found {len(lines)} lines")
    fields = split_fields(lines[0])
    if len(fields) != count or any(not field for field in fields):
        raise FormatError(path, f"expected {count} integers, found {len(fields)} fields", 1)
    values = []
    for field in fields:
        # The length cap keeps int() away from Python's limit on very long digit strings.
        if not _INTEGER.fullmatch(field) or len(field) > 18:
            raise FormatError(path, f"not a small integer: {field[:20]!r}", 1)
        values.append(int(field))
    return values


def read_float_column(path: str | Path) -> np.ndarray:
    """One finite number per line, e.g. ``relative_speed.txt``."""
    path = Path(path)
    lines = data_lines(path, read_text(path))
    values = np.empty(len(lines), dtype=np.float64)
    for number, line in enumerate(lines, start=1):
        values[number - 1] = parse_number(line, path, number)
    return values
