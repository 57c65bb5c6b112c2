"""Edit commands: the only way the annotation state changes.

Each command knows how to apply itself to a :class:`VideoAnnotation` and how to revert exactly
what it did, so the :class:`~costcore.annotation.history.UndoStack` can undo and redo anything.
Commands validate their arguments when they are built (bad values fail before anything is
touched) and check frame indices when they are applied; a command that raises leaves the
state unchanged.
"""

from __future__ import annotations

import dataclasses
import operator
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from costcore.annotation.model import (
    UNANNOTATED,
    FrameAnnotation,
    Provenance,
    VideoAnnotation,
    validate_attribute,
    validate_attributes,
    validate_language,
    validate_language_attributes,
)
from costcore.attributes.definitions import ATTRIBUTE_CODES
from costcore.boxes import Box
from costcore.language import WORD_LABELS, LanguageAttributes


@dataclass(frozen=True)
class Change:
    """What an apply/undo/redo touched: the app redraws these frames and autosaves."""

    frames: frozenset[int] = frozenset()
    video: bool = False  # language, attribute words or attributes changed

    def __or__(self, other: Change) -> Change:
        return Change(self.frames | other.frames, self.video or other.video)

    def __bool__(self) -> bool:
        return bool(self.frames) or self.video


class Command(ABC):
    """One undoable edit. ``text`` is the label the app shows as "Undo <text>"."""

    text: str

    @abstractmethod
    def apply(self, video: VideoAnnotation) -> Change:
        """Make the change (again, on redo) and remember what it replaced."""

    @abstractmethod
    def revert(self, video: VideoAnnotation) -> Change:
        """Put back exactly what the last :meth:`apply` replaced."""

    def merge_with(self, newer: Command) -> bool:
        """Absorb ``newer`` (already applied) into this step; True when merged."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"


def _indices(indices: int | Iterable[int]) -> tuple[int, ...]:
    """One index, a range or any iterable of indices, as a tuple of ints."""
    if isinstance(indices, Iterable):
        return tuple(operator.index(i) for i in indices)
    return (operator.index(indices),)


class _FrameEdit(Command):
    """Base of per-frame commands: plan the new values, then swap them in all at once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._before: dict[int, FrameAnnotation] = {}

    @abstractmethod
    def _plan(self, video: VideoAnnotation) -> dict[int, FrameAnnotation]:
        """New value per frame index; may raise (IndexError) before anything changes."""

    def apply(self, video: VideoAnnotation) -> Change:
        plan = self._plan(video)
        before = {i: video.frame(i) for i in plan}
        self._before = {i: old for i, old in before.items() if old != plan[i]}
        for i in self._before:
            video._replace_frame(i, plan[i])
        return Change(frozenset(self._before))

    def revert(self, video: VideoAnnotation) -> Change:
        for i, old in self._before.items():
            video._replace_frame(i, old)
        return Change(frozenset(self._before))


class SetBox(_FrameEdit):
    """Put a box on one frame (a person drew or moved it, by default); clears ``absent``.

    Consecutive SetBox commands with the same non-None ``merge_key`` on the same frame merge
    into one undo step, so arrow-key nudges undo together.
    """

    def __init__(
        self,
        index: int,
        box: Box | Sequence[float],
        provenance: Provenance = Provenance.KEYFRAME,
        *,
        score: float | None = None,
        engine: str | None = None,
        merge_key: str | None = None,
        text: str = "Set box",
    ) -> None:
        super().__init__(text)
        self.index = operator.index(index)
        self.value = FrameAnnotation(box, provenance=provenance, score=score, engine=engine)
        self.merge_key = merge_key

    def _plan(self, video: VideoAnnotation) -> dict[int, FrameAnnotation]:
        return {video.check_index(self.index): self.value}

    def merge_with(self, newer: Command) -> bool:
        if (
            isinstance(newer, SetBox)
            and self.merge_key is not None
            and newer.merge_key == self.merge_key
            and newer.index == self.index
        ):
            self.value = newer.value
            return True
        return False


class SetFrames(_FrameEdit):
    """Many frames at once: tracker or interpolation output.

    With ``respect_protected`` (the default) keyframes and verified frames are skipped:
    automatic work never overwrites what a person made or accepted. ``skipped`` lists them
    after :meth:`apply`. When an index repeats, the last value wins.
    """

    def __init__(
        self,
        items: Iterable[tuple[int, FrameAnnotation]],
        *,
        respect_protected: bool = True,
        text: str = "Set frames",
    ) -> None:
        super().__init__(text)
        self.items: dict[int, FrameAnnotation] = {}
        for index, value in items:
            if not isinstance(value, FrameAnnotation):
                raise TypeError(f"expected FrameAnnotation, got {type(value).__name__}")
            self.items[operator.index(index)] = value
        self.respect_protected = respect_protected
        self.skipped: tuple[int, ...] = ()

    def _plan(self, video: VideoAnnotation) -> dict[int, FrameAnnotation]:
        plan: dict[int, FrameAnnotation] = {}
        skipped = []
        for index, value in self.items.items():
            if self.respect_protected and video.is_protected(index):
                skipped.append(index)
            else:
                plan[video.check_index(index)] = value
        self.skipped = tuple(skipped)
        return plan


class ClearFrames(_FrameEdit):
    """Remove the annotation of frames (they become "not annotated yet")."""

    def __init__(self, indices: int | Iterable[int], *, text: str = "Clear annotation") -> None:
        super().__init__(text)
        self.indices = _indices(indices)

    def _plan(self, video: VideoAnnotation) -> dict[int, FrameAnnotation]:
        return {video.check_index(i): UNANNOTATED for i in self.indices}


class SetAbsent(_FrameEdit):
    """Mark frames absent (their box is dropped; undo brings it back) or present again.

    ``absent=False`` turns absent frames back into unannotated ones and leaves frames with a
    box alone; the annotator then draws the box (setting a box also clears absent).
    """

    def __init__(
        self,
        indices: int | Iterable[int],
        absent: bool = True,
        *,
        provenance: Provenance = Provenance.KEYFRAME,
        text: str | None = None,
    ) -> None:
        super().__init__(text or ("Mark absent" if absent else "Mark present"))
        self.indices = _indices(indices)
        self.absent = bool(absent)
        self._absent_value = FrameAnnotation(absent=True, provenance=Provenance(provenance))

    def _plan(self, video: VideoAnnotation) -> dict[int, FrameAnnotation]:
        plan = {}
        for i in self.indices:
            current = video.frame(i)
            if self.absent:
                plan[i] = self._absent_value
            elif current.absent:
                plan[i] = UNANNOTATED
        return plan


class MarkVerified(_FrameEdit):
    """A person accepts automatic values: they become protected from later automatic work.

    Only frames with a box or an absent mark are verified; keyframes stay keyframes (they are
    already a person's work and remain the tracker's anchors). Score and engine are kept.
    """

    def __init__(self, indices: int | Iterable[int], *, text: str = "Mark verified") -> None:
        super().__init__(text)
        self.indices = _indices(indices)

    def _plan(self, video: VideoAnnotation) -> dict[int, FrameAnnotation]:
        plan = {}
        for i in self.indices:
            current = video.frame(i)
            if current.is_annotated and not current.is_protected:
                plan[i] = dataclasses.replace(current, provenance=Provenance.VERIFIED)
        return plan


class SetLanguage(Command):
    """Replace the one-line language description."""

    def __init__(self, language: str, *, text: str = "Edit language") -> None:
        self.text = text
        self.language = validate_language(language)
        self._before: str | None = None

    def apply(self, video: VideoAnnotation) -> Change:
        self._before = video.language
        video._replace_language(self.language)
        return Change(video=self._before != self.language)

    def revert(self, video: VideoAnnotation) -> Change:
        if self._before is None:
            return Change()
        video._replace_language(self._before)
        return Change(video=self._before != self.language)


class _LanguageAttributesEdit(Command):
    """Base of attribute-word commands: compute the new words from the current ones."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._before: LanguageAttributes | None = None

    @abstractmethod
    def _new_words(self, current: LanguageAttributes) -> LanguageAttributes:
        """The four words after this edit."""

    def apply(self, video: VideoAnnotation) -> Change:
        self._before = video.language_attributes
        new = self._new_words(self._before)
        video._replace_language_attributes(new)
        return Change(video=new != self._before)

    def revert(self, video: VideoAnnotation) -> Change:
        if self._before is None:
            return Change()
        changed = video.language_attributes != self._before
        video._replace_language_attributes(self._before)
        return Change(video=changed)


class SetLanguageAttributes(_LanguageAttributesEdit):
    """Replace VLT's four attribute words at once (None or four empty words clear them).

    ``words``: a :class:`~costcore.language.LanguageAttributes` or four strings in file order
    (major class, root class, colour, initial position); words are trimmed, and a comma, a
    line break or a control character in one raises ValueError before anything changes.
    """

    def __init__(
        self,
        words: LanguageAttributes | Iterable[str] | None,
        *,
        text: str = "Edit attribute words",
    ) -> None:
        super().__init__(text)
        self.words = validate_language_attributes(words)

    def _new_words(self, current: LanguageAttributes) -> LanguageAttributes:
        return self.words


class SetLanguageAttribute(_LanguageAttributesEdit):
    """Set one attribute word by field name (``"major_class"``, ``"root_class"``, ``"colour"``,
    ``"initial_position"``); the other three stay as they are."""

    def __init__(self, field: str, word: str, *, text: str | None = None) -> None:
        if field not in WORD_LABELS:
            known = ", ".join(WORD_LABELS)
            raise KeyError(f"unknown attribute word {field!r}; expected one of: {known}")
        self.field = field
        self.word = LanguageAttributes().with_word(field, word).word(field)  # validated
        super().__init__(text or f"Edit {WORD_LABELS[field]}")

    def _new_words(self, current: LanguageAttributes) -> LanguageAttributes:
        return current.with_word(self.field, self.word)


class _AttributeEdit(Command):
    """Base of attribute commands: compute the new 17 values from the current ones."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._before: list[int] | None = None

    @abstractmethod
    def _new_values(self, current: list[int]) -> list[int]:
        """The 17 values after this edit."""

    def apply(self, video: VideoAnnotation) -> Change:
        self._before = video.attributes
        new = self._new_values(self._before)
        video._replace_attributes(new)
        return Change(video=new != self._before)

    def revert(self, video: VideoAnnotation) -> Change:
        if self._before is None:
            return Change()
        changed = video.attributes != self._before
        video._replace_attributes(self._before)
        return Change(video=changed)


class SetAttributes(_AttributeEdit):
    """Replace all 17 attribute values (e.g. accepting every auto-proposal at once)."""

    def __init__(self, values: Iterable[int], *, text: str = "Set attributes") -> None:
        super().__init__(text)
        self.values = validate_attributes(values)

    def _new_values(self, current: list[int]) -> list[int]:
        return list(self.values)


class SetAttribute(_AttributeEdit):
    """Set one attribute (by index in ``attributes.txt`` order)."""

    def __init__(self, index: int, value: int, *, text: str | None = None) -> None:
        self.value = validate_attribute(index, value)
        self.index = operator.index(index)
        super().__init__(text or f"Set {ATTRIBUTE_CODES[self.index]}")

    def _new_values(self, current: list[int]) -> list[int]:
        new = list(current)
        new[self.index] = self.value
        return new


class Macro(Command):
    """Several commands as one undo step (e.g. "Track forward", "Interpolate gap").

    If a part fails while applying, the parts already applied are reverted and the error is
    raised, so the state is never left half-changed.
    """

    def __init__(self, text: str, commands: Iterable[Command]) -> None:
        self.text = text
        self.commands: tuple[Command, ...] = tuple(commands)
        for command in self.commands:
            if not isinstance(command, Command):
                raise TypeError(f"expected Command, got {type(command).__name__}")

    def apply(self, video: VideoAnnotation) -> Change:
        change = Change()
        done: list[Command] = []
        try:
            for command in self.commands:
                change |= command.apply(video)
                done.append(command)
        except BaseException:
            for command in reversed(done):
                command.revert(video)
            raise
        return change

    def revert(self, video: VideoAnnotation) -> Change:
        change = Change()
        for command in reversed(self.commands):
            change |= command.revert(video)
        return change
