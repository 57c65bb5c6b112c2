"""Reading tracker result files ``<results>/<tracker>/<sequence>.txt``.

One line per frame: ``x,y,w,h`` (comma, tab or whitespace separated; the toolkit tries
``np.loadtxt`` with ``,`` and then with a tab), or a line that is empty or a bare ``0``
meaning "no prediction" (the Anti-UAV style the toolkit's mACC script understands).

Unlike the toolkit, which truncates both files to the shorter length with only a printed
"Length Error!" (and whose mACC script silently ``zip``s), a file with the wrong number of
lines is reported by name and never scored: a short file would otherwise inflate the score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcore.errors import FormatError, NotRegularFileError
from costcore.evaluation.groundtruth import GroundTruth
from costcore.fileio import read_regular_file

_BOM = "\ufeff"
# a comma (spaces around it allowed) or a run of whitespace; tabs and commas may mix
_DELIMITER = re.compile(r"\s*,\s*|\s+")


@dataclass(frozen=True)
class Prediction:
    """A tracker's output for one sequence.

    ``boxes`` is ``(N, 4)`` float64; frames without a prediction have ``empty`` set and a
    ``0,0,0,0`` row, which is how the curves score them (the toolkit cannot read such files
    at all for the curves, so this is our choice: an empty frame fails AUC/cAUC everywhere
    and passes P/P_norm exactly where ``0,0,0,0`` would). ``nan`` values are kept: they fail
    every threshold, as in the toolkit.
    """

    boxes: np.ndarray
    empty: np.ndarray
    path: Path | None = None

    def __post_init__(self) -> None:
        boxes = np.array(self.boxes, dtype=np.float64).reshape(-1, 4)
        empty = np.array(self.empty, dtype=bool).reshape(-1)
        if len(empty) != len(boxes):
            raise ValueError(f"{len(boxes)} boxes but {len(empty)} empty flags")
        boxes[empty] = 0.0
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "empty", empty)

    @property
    def frame_count(self) -> int:
        return len(self.boxes)

    @classmethod
    def from_boxes(cls, boxes: object, path: Path | None = None) -> Prediction:
        """A prediction with a box on every frame."""
        array = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        return cls(array, np.zeros(len(array), dtype=bool), path)


@dataclass(frozen=True)
class ResultProblem:
    """Why a tracker's result for one sequence cannot be scored (shown to the user)."""

    tracker: str
    sequence: str
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.tracker}/{self.sequence}: {self.path}: {self.message}"


def _read_text(path: Path) -> str:
    try:
        data = read_regular_file(path)
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except NotRegularFileError as error:
        expected = "expected a file, found a folder" if error.kind == "a folder" else error.strerror
        raise FormatError(path, expected) from None
    except OSError as error:
        raise FormatError(path, f"cannot read file: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FormatError(path, "not UTF-8 text", line) from None
    return text.removeprefix(_BOM)


def _number(token: str, path: Path, line: int) -> float:
    try:
        value = float(token)
    except ValueError:
        shown = token if len(token) <= 20 else token[:20] + "..."
        raise FormatError(path, f"not a number: {shown!r}", line) from None
    if math.isinf(value):
        raise FormatError(path, f"infinite value {token[:20]!r}", line)
    return value


def _parse_line(line: str, path: Path, number: int) -> list[float] | None:
    """Four numbers, or ``None`` for "no prediction" (empty line or a bare zero)."""
    stripped = line.strip()
    if not stripped:
        return None
    fields = _DELIMITER.split(stripped)
    if len(fields) == 4:
        if not all(fields):
            raise FormatError(path, "empty field (two delimiters in a row?)", number)
        return [_number(field, path, number) for field in fields]
    if len(fields) == 1 and _number(fields[0], path, number) == 0:
        return None
    raise FormatError(
        path,
        f"expected 4 numbers x,y,w,h (or a bare 0 for no prediction), found {len(fields)} "
        f"field{'s' if len(fields) != 1 else ''}",
        number,
    )


def _parse_fast(lines: list[str], path: Path) -> Prediction | None:
    """Box lines through numpy's C parser (~10x faster than the line loop), "no prediction"
    lines checked one by one; ``None`` sends anything unusual to the loop, which reports
    errors with their line number."""
    # Four numbers and three delimiters take at least 7 characters; shorter lines are
    # "no prediction" lines or errors, and _parse_line tells which.
    short = [index for index, line in enumerate(lines) if len(line.strip()) < 7]
    for index in short:
        if _parse_line(lines[index], path, index + 1) is not None:
            return None
    empty = np.zeros(len(lines), dtype=bool)
    empty[short] = True
    rows = [line for line, is_empty in zip(lines, empty, strict=True) if not is_empty]
    boxes = np.zeros((len(lines), 4), dtype=np.float64)
    if rows:
        delimiter = "," if "," in rows[0] else None
        try:
            values = np.loadtxt(rows, delimiter=delimiter, ndmin=2, comments=None)
        except ValueError:
            return None
        if values.shape != (len(rows), 4) or np.isinf(values).any():
            return None
        boxes[~empty] = values
    return Prediction(boxes, empty, path)


def read_result_file(path: str | Path, frame_count: int | None = None) -> Prediction:
    """Read one result file; malformed lines raise :class:`FormatError` with file and line.

    Blank lines after the last frame are a file-ending accident, not predictions: they are
    dropped (down to ``frame_count`` when given, so an empty line meaning "no prediction" on
    the last frames still counts).
    """
    path = Path(path)
    text = _read_text(path)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    keep_at_least = 0 if frame_count is None else frame_count
    while len(lines) > keep_at_least and not lines[-1].strip():
        lines.pop()
    fast = _parse_fast(lines, path)
    if fast is not None:
        return fast
    boxes = np.zeros((len(lines), 4), dtype=np.float64)
    empty = np.zeros(len(lines), dtype=bool)
    for index, line in enumerate(lines):
        values = _parse_line(line, path, index + 1)
        if values is None:
            empty[index] = True
        else:
            boxes[index] = values
    return Prediction(boxes, empty, path)


def result_path(results_dir: str | Path, tracker: str, sequence: str) -> Path:
    """Where the toolkit looks for a tracker's result on a sequence."""
    return Path(results_dir) / tracker / f"{sequence}.txt"


def list_trackers(results_dir: str | Path) -> list[str]:
    """Every visible subfolder of ``results_dir``, sorted (the default tracker list)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FormatError(results_dir, "results folder not found")
    return sorted(
        child.name
        for child in results_dir.iterdir()
        if child.is_dir() and not child.name.startswith(".")
    )


def load_tracker_results(
    results_dir: str | Path, tracker: str, ground_truths: Iterable[GroundTruth]
) -> tuple[dict[str, Prediction], list[ResultProblem]]:
    """Read a tracker's file for each sequence; every missing, short, long or malformed file
    becomes a :class:`ResultProblem` (all of them, not just the first) instead of a score."""
    predictions: dict[str, Prediction] = {}
    problems: list[ResultProblem] = []
    tracker_dir = Path(results_dir) / tracker
    if not tracker_dir.is_dir():
        return {}, [ResultProblem(tracker, "*", tracker_dir, "tracker folder not found")]
    for gt in ground_truths:
        path = result_path(results_dir, tracker, gt.name)
        if not path.is_file():
            problems.append(ResultProblem(tracker, gt.name, path, "result file missing"))
            continue
        try:
            prediction = read_result_file(path, gt.frame_count)
        except FormatError as error:
            where = f"line {error.line}: " if error.line is not None else ""
            problems.append(ResultProblem(tracker, gt.name, path, where + error.message))
            continue
        if prediction.frame_count != gt.frame_count:
            kind = "short" if prediction.frame_count < gt.frame_count else "long"
            message = f"too {kind}: {prediction.frame_count} lines for {gt.frame_count} frames"
            problems.append(ResultProblem(tracker, gt.name, path, message))
            continue
        predictions[gt.name] = prediction
    return predictions, problems
