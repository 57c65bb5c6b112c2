"""The per-video annotation state: one :class:`FrameAnnotation` per frame plus video-level fields.

The desktop app is a view over a :class:`VideoAnnotation`; it reads through the accessors here
and changes the state only through edit commands (``costcore.annotation.commands``) pushed on an
``UndoStack``, so every change can be undone and every change is announced to listeners.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from costcore.attributes.definitions import ATTRIBUTE_COUNT, ATTRIBUTES
from costcore.boxes import Box
from costcore.formats.sequence import Sequence
from costcore.language import NO_ATTRIBUTES, LanguageAttributes, LanguageInput

_NUMBER_TYPES = (int, float, np.integer, np.floating)


class Provenance(str, Enum):
    """Where a frame's value came from; decides what automatic work may overwrite."""

    KEYFRAME = "keyframe"  # drawn or corrected by a person
    TRACKED = "tracked"  # engine output, with its score
    INTERPOLATED = "interpolated"
    IMPORTED = "imported"  # read from an existing dataset
    VERIFIED = "verified"  # a person accepted an automatic value

    @property
    def protected(self) -> bool:
        """Person-made values: automatic work must never overwrite them."""
        return self in (Provenance.KEYFRAME, Provenance.VERIFIED)


def _finite_float(value: object, what: str) -> float:
    """``value`` as a float, rejecting bools, non-numbers and NaN/inf with ValueError."""
    if type(value) is not float:  # the common case skips the slower checks
        if isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
            raise ValueError(f"{what} must be a number, got {value!r}")
        try:
            value = float(value)  # type: ignore[arg-type]
        except OverflowError:  # an integer too large for a float
            raise ValueError(
                f"{what} must be finite, got a {len(str(value))}-digit integer"
            ) from None
    if not math.isfinite(value):  # type: ignore[arg-type]
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value  # type: ignore[return-value]


def make_box(box: object) -> Box:
    """A :class:`Box` of plain floats; ValueError for non-finite values or negative sizes.

    Zero-sized boxes are accepted (some datasets contain them); negative ones never make sense.
    """
    try:
        values = tuple(box)  # type: ignore[call-overload]
    except TypeError:
        raise ValueError(f"box must be 4 numbers x, y, w, h, got {box!r}") from None
    if len(values) != 4:
        raise ValueError(f"box must be 4 numbers x, y, w, h, got {len(values)} values")
    x, y, w, h = values
    # Fast path for four plain floats: their sum is finite only if each one is.
    plain = type(x) is float and type(y) is float and type(w) is float and type(h) is float
    if not (plain and math.isfinite(x + y + w + h)):
        x, y, w, h = (_finite_float(v, "box value") for v in values)
    if w < 0 or h < 0:
        raise ValueError(f"box size must not be negative, got w={w!r}, h={h!r}")
    return Box(x, y, w, h)


def validate_attributes(values: Iterable[object]) -> list[int]:
    """The 17 attribute values as plain ints; ValueError when a value is out of its range."""
    try:
        items = list(values)
    except TypeError:
        raise ValueError(f"attributes must be a list of {ATTRIBUTE_COUNT} integers") from None
    if len(items) != ATTRIBUTE_COUNT:
        raise ValueError(f"expected {ATTRIBUTE_COUNT} attribute values, got {len(items)}")
    return [validate_attribute(i, v) for i, v in enumerate(items)]


def validate_attribute(index: int, value: object) -> int:
    """One attribute value as an int: IndexError for a bad index, ValueError for a bad value."""
    index = operator.index(index)
    if not 0 <= index < ATTRIBUTE_COUNT:
        raise IndexError(f"attribute index {index} out of range 0..{ATTRIBUTE_COUNT - 1}")
    definition = ATTRIBUTES[index]
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"attribute {definition.code} must be an integer, got {value!r}") from None
    if not definition.allows(number):
        allowed = tuple(v.value for v in definition.values)
        raise ValueError(f"attribute {definition.code} must be one of {allowed}, got {number}")
    return int(number)


def validate_language(text: object) -> str:
    """The language description must be one line (``language.txt`` holds exactly one)."""
    if not isinstance(text, str):
        raise ValueError(f"language must be a string, got {type(text).__name__}")
    if "\n" in text or "\r" in text:
        raise ValueError("language must be a single line")
    return text


def validate_language_attributes(words: object) -> LanguageAttributes:
    """VLT's four attribute words as :class:`LanguageAttributes` (None: no words).

    Accepts a :class:`LanguageAttributes` or four strings in file order; ValueError naming the
    word otherwise. Any word may be empty here (they are filled one by one).
    """
    if words is None:
        return NO_ATTRIBUTES
    if isinstance(words, LanguageAttributes):
        return words
    return LanguageAttributes.from_words(words)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FrameAnnotation:
    """The annotation of one frame; immutable so undo states can share it.

    Invariants: an unannotated frame (``provenance is None``) has no box, is not absent and has
    no score/engine; an annotated frame has either a box or ``absent=True``, never both.
    """

    box: Box | None = None
    absent: bool = False
    provenance: Provenance | None = None
    score: float | None = None  # tracker confidence for tracked frames
    engine: str | None = None  # which engine produced a tracked box

    def __post_init__(self) -> None:
        # Normalise in place (the class is frozen, hence object.__setattr__); the fast paths
        # matter because trackers and session loading build thousands of these.
        box, absent, provenance = self.box, self.absent, self.provenance
        if box is not None:
            object.__setattr__(self, "box", make_box(box))
        if type(absent) is not bool:
            if not isinstance(absent, np.bool_):
                raise ValueError(f"absent must be a bool, got {absent!r}")
            object.__setattr__(self, "absent", bool(absent))
        if provenance is not None and type(provenance) is not Provenance:
            object.__setattr__(self, "provenance", Provenance(provenance))
        if self.score is not None:
            object.__setattr__(self, "score", _finite_float(self.score, "score"))
        if self.engine is not None and not isinstance(self.engine, str):
            raise ValueError(f"engine must be a string, got {self.engine!r}")
        if provenance is None:
            if box is not None or absent or self.score is not None or self.engine is not None:
                raise ValueError("an unannotated frame (provenance None) carries no value")
        elif (box is None) == (not absent):
            raise ValueError("an annotated frame has either a box or absent=True, not both")

    @property
    def is_annotated(self) -> bool:
        return self.provenance is not None

    @property
    def is_protected(self) -> bool:
        """A person made or accepted this value; automatic work must leave it alone."""
        return self.provenance is not None and self.provenance.protected


#: The value of a frame nobody has annotated yet.
UNANNOTATED = FrameAnnotation()


class VideoAnnotation:
    """Everything annotated about one video.

    Public methods only read. The ``_replace_*`` methods are for edit commands alone: going
    through a command is what makes a change undoable and announced to the app.
    """

    def __init__(
        self,
        name: str,
        frame_count: int,
        *,
        source: str = "",
        frame_size: tuple[int, int] | None = None,
        fps: float | None = None,
        language: str = "",
        attributes: Iterable[int] | None = None,
        frames: Iterable[FrameAnnotation] | None = None,
        language_attributes: LanguageAttributes | Iterable[str] | None = None,
    ) -> None:
        if not isinstance(name, str) or not isinstance(source, str):
            raise ValueError("name and source must be strings")
        frame_count = operator.index(frame_count)
        if frame_count < 1:
            raise ValueError(f"a video has at least one frame, got frame_count={frame_count}")
        self._name = name
        self._source = source
        self._frame_size = _check_frame_size(frame_size)
        self._fps = None if fps is None else _finite_float(fps, "fps")
        if self._fps is not None and self._fps <= 0:
            raise ValueError(f"fps must be positive, got {self._fps}")
        self._language = validate_language(language)
        self._language_attributes = validate_language_attributes(language_attributes)
        self._attributes = (
            [0] * ATTRIBUTE_COUNT if attributes is None else validate_attributes(attributes)
        )
        if frames is None:
            self._frames = [UNANNOTATED] * frame_count
        else:
            self._frames = list(frames)
            if len(self._frames) != frame_count:
                raise ValueError(
                    f"frame_count is {frame_count} but {len(self._frames)} frames given"
                )
            for i, item in enumerate(self._frames):
                if not isinstance(item, FrameAnnotation):
                    raise ValueError(f"frame {i + 1}: expected FrameAnnotation, got {item!r}")

    @classmethod
    def from_sequence(
        cls,
        sequence: Sequence,
        *,
        frame_size: tuple[int, int] | None = None,
        fps: float | None = None,
    ) -> VideoAnnotation:
        """Start from an imported dataset sequence; every value gets provenance IMPORTED.

        Absent frames drop their (possibly stale) box. A present frame whose box is not finite
        becomes unannotated, so the annotator sees it needs a look instead of a bogus box.
        """
        count = sequence.frame_count
        if len(sequence.boxes) != count or len(sequence.absent) != count:
            raise ValueError(
                f"sequence {sequence.name!r}: {count} frames but {len(sequence.boxes)} boxes "
                f"and {len(sequence.absent)} absent flags"
            )
        frames = []
        for i in range(count):
            if sequence.absent[i]:
                frames.append(FrameAnnotation(absent=True, provenance=Provenance.IMPORTED))
            elif not np.all(np.isfinite(sequence.boxes[i])):
                frames.append(UNANNOTATED)
            else:
                try:
                    box = make_box(sequence.boxes[i])
                except ValueError as error:
                    raise ValueError(
                        f"sequence {sequence.name!r}, frame {i + 1}: {error}"
                    ) from None
                frames.append(FrameAnnotation(box, provenance=Provenance.IMPORTED))
        return cls(
            sequence.name,
            count,
            source=str(sequence.root),
            frame_size=frame_size,
            fps=fps,
            language=sequence.language.strip(),
            attributes=sequence.attributes,
            frames=frames,
            language_attributes=sequence.language_attributes,
        )

    # ----------------------------------------------------------------- video-level fields
    @property
    def name(self) -> str:
        return self._name

    @property
    def source(self) -> str:
        """The video file or image folder the frames come from."""
        return self._source

    @property
    def frame_count(self) -> int:
        return len(self._frames)

    @property
    def frame_size(self) -> tuple[int, int] | None:
        """``(width, height)`` in pixels, or None when not known."""
        return self._frame_size

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def language(self) -> str:
        return self._language

    @property
    def language_attributes(self) -> LanguageAttributes:
        """VLT's four attribute words (immutable; any may be empty, all empty = none set)."""
        return self._language_attributes

    @property
    def language_input(self) -> LanguageInput:
        """The sentence and the attribute words, for an engine (``text(form)`` picks one)."""
        return LanguageInput(self._language, self._language_attributes)

    @property
    def attributes(self) -> list[int]:
        """A copy of the 17 attribute values (so callers cannot bypass the commands)."""
        return list(self._attributes)

    # ------------------------------------------------------------------- per-frame reads
    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[FrameAnnotation]:
        return iter(tuple(self._frames))

    def check_index(self, index: int) -> int:
        """``index`` as an int in ``0..frame_count-1``; IndexError otherwise (no negatives)."""
        index = operator.index(index)
        if not 0 <= index < len(self._frames):
            raise IndexError(
                f"frame {index + 1} does not exist (index {index}); "
                f"the frames are 1 to {len(self._frames)}"
            )
        return index

    def frame(self, index: int) -> FrameAnnotation:
        return self._frames[self.check_index(index)]

    @property
    def frames(self) -> tuple[FrameAnnotation, ...]:
        return tuple(self._frames)

    def is_protected(self, index: int) -> bool:
        """Keyframe or verified: trackers and interpolation must not overwrite this frame."""
        return self.frame(index).is_protected

    def boxes_array(self) -> np.ndarray:
        """``(N, 4)`` float64 boxes; NaN rows for frames without a box (absent or unannotated)."""
        out = np.full((len(self._frames), 4), np.nan)
        for i, item in enumerate(self._frames):
            if item.box is not None:
                out[i] = item.box
        return out

    def absent_array(self) -> np.ndarray:
        """``(N,)`` bool, True where the target is marked absent."""
        return np.fromiter((f.absent for f in self._frames), dtype=bool, count=len(self._frames))

    def scores_array(self) -> np.ndarray:
        """``(N,)`` float64 tracker scores, NaN where a frame has none (for confidence plots)."""
        return np.fromiter(
            (np.nan if f.score is None else f.score for f in self._frames),
            dtype=np.float64,
            count=len(self._frames),
        )

    def frames_with(self, provenance: Provenance | None) -> list[int]:
        """Indices of frames with this provenance (None: frames not annotated yet)."""
        return [i for i, f in enumerate(self._frames) if f.provenance == provenance]

    def keyframes(self) -> list[int]:
        return self.frames_with(Provenance.KEYFRAME)

    def unannotated(self) -> list[int]:
        return self.frames_with(None)

    def next_keyframe(self, index: int, *, protected: bool = False) -> int | None:
        """First keyframe after ``index`` (or protected frame, if asked), None if there is none.

        A tracker propagating forward from a correction stops there.
        """
        start = self.check_index(index)
        for i in range(start + 1, len(self._frames)):
            if self._is_anchor(i, protected):
                return i
        return None

    def previous_keyframe(self, index: int, *, protected: bool = False) -> int | None:
        """Last keyframe before ``index`` (or protected frame, if asked), None if there is none."""
        start = self.check_index(index)
        for i in range(start - 1, -1, -1):
            if self._is_anchor(i, protected):
                return i
        return None

    def _is_anchor(self, i: int, protected: bool) -> bool:
        item = self._frames[i]
        return item.is_protected if protected else item.provenance is Provenance.KEYFRAME

    # ---------------------------------------------------------------------- for export
    def export_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(boxes (N, 4), absent (N,))`` as VL-SOT500 wants them: absent rows are ``0,0,0,0``.

        Raises ValueError when some frame has neither a box nor an absent mark: an export
        with holes would be silently wrong.
        """
        missing = self.unannotated()
        if missing:
            shown = ", ".join(str(i + 1) for i in missing[:10])
            more = " ..." if len(missing) > 10 else ""
            raise ValueError(
                f"{len(missing)} frame(s) have neither a box nor an absent mark "
                f"(frame numbers, 1-based: {shown}{more})"
            )
        absent = self.absent_array()
        boxes = self.boxes_array()
        boxes[absent] = 0.0
        return boxes, absent

    def to_sequence(self, frames: list[Path], root: Path | None = None) -> Sequence:
        """A :class:`Sequence` for the format writers; ``frames`` are the image files in order."""
        if len(frames) != self.frame_count:
            raise ValueError(f"{len(frames)} frame files for {self.frame_count} frames")
        boxes, absent = self.export_arrays()
        return Sequence(
            name=self._name,
            root=Path(self._source) if root is None else Path(root),
            layout="vlsot500",
            frames=list(frames),
            boxes=boxes,
            absent=absent,
            language=self._language,
            attributes=list(self._attributes),
            language_attributes=(
                None if self._language_attributes.is_empty else self._language_attributes
            ),
        )

    # ---------------------------------------------------------------- value semantics
    def to_dict(self) -> dict[str, Any]:
        """Plain-data snapshot of the whole state (for tests, debugging and comparisons)."""
        return {
            "name": self._name,
            "source": self._source,
            "frame_size": self._frame_size,
            "fps": self._fps,
            "language": self._language,
            "language_attributes": self._language_attributes.words,
            "attributes": list(self._attributes),
            "frames": [
                (
                    None if f.box is None else tuple(f.box),
                    f.absent,
                    None if f.provenance is None else f.provenance.value,
                    f.score,
                    f.engine,
                )
                for f in self._frames
            ],
        }

    def copy(self) -> VideoAnnotation:
        return VideoAnnotation(
            self._name,
            len(self._frames),
            source=self._source,
            frame_size=self._frame_size,
            fps=self._fps,
            language=self._language,
            attributes=self._attributes,
            frames=self._frames,
            language_attributes=self._language_attributes,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VideoAnnotation):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable through commands

    def __repr__(self) -> str:
        done = len(self._frames) - len(self.unannotated())
        return f"VideoAnnotation({self._name!r}, {done}/{len(self._frames)} frames annotated)"

    # ------------------------------------------- mutation: for edit commands only
    def _replace_frame(self, index: int, value: FrameAnnotation) -> None:
        if not isinstance(value, FrameAnnotation):
            raise TypeError(f"expected FrameAnnotation, got {type(value).__name__}")
        self._frames[self.check_index(index)] = value

    def _replace_language(self, text: str) -> None:
        self._language = validate_language(text)

    def _replace_language_attributes(self, words: LanguageAttributes) -> None:
        self._language_attributes = validate_language_attributes(words)

    def _replace_attributes(self, values: Iterable[int]) -> None:
        self._attributes = validate_attributes(values)


def _check_frame_size(size: object) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        width, height = (operator.index(v) for v in size)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(f"frame_size must be two integers (width, height), got {size!r}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"frame_size must be positive, got {width}x{height}")
    return (width, height)
