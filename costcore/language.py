"""The language of a video: the one-sentence description and the four attribute words.

Attribute words come from VLT ("Divert More Attention to Vision-Language Object Tracking",
NeurIPS 2022 / TPAMI): instead of (or besides) a free sentence, the target is described by four
short words, always in this order (the order of ``language_attributes.txt``):

=================  ==========================================  ===========
field              what it says                                e.g.
=================  ==========================================  ===========
major class        what the target is                          ``airplane``
root class         the broader category it belongs to          ``vehicle``
colour             its dominant colour                         ``white``
initial position   where it is in the first frame              ``top left``
=================  ==========================================  ===========

A "word" may hold several words ("traffic light", "top left") but no comma (the file separates
the four with commas), no line break and no control character; surrounding whitespace is
dropped and inner runs of whitespace become one space. In memory any of the four may be empty
(an annotator fills them one by one); ``language_attributes.txt`` holds all four or is not
written at all. The initial position is free text; :data:`POSITION_WORDS` are the words VLT's
annotation uses, and the validator only *warns* about a position built from other words.

Engines read text. VLT's released code (github.com/JudasDie/SOTS: the dataset's ``phrase`` per
video goes through ``tokenizer.batch_encode_plus([phrase])`` once, at initialisation) feeds one
string per video whatever it holds, so the attribute form reaches an engine as one phrase: the
non-empty words in file order joined by spaces (``"airplane vehicle white top left"``), see
:meth:`LanguageAttributes.phrase`. :class:`LanguageInput` carries both forms; its
:meth:`~LanguageInput.text` renders the one an engine is asked for (:class:`LanguageForm`).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from costcore.errors import CostcoreError

#: field names of :class:`LanguageAttributes`, in file order
WORD_FIELDS = ("major_class", "root_class", "colour", "initial_position")
#: how each field is called in messages and in the app's panel
WORD_LABELS = {
    "major_class": "major class",
    "root_class": "root class",
    "colour": "colour",
    "initial_position": "initial position",
}
WORD_COUNT = len(WORD_FIELDS)
#: the separator of ``language_attributes.txt`` (and of the CLI's ``--language-attributes``)
SEPARATOR = ","

#: words an initial position is built from ("top left", "bottom-right", "center", ...)
POSITION_WORDS = frozenset(
    {"left", "right", "top", "bottom", "center", "centre", "middle", "upper", "lower", "up", "down"}
)
#: what a position picker offers first; any text is accepted
POSITION_SUGGESTIONS = (
    "center",
    "left",
    "right",
    "top",
    "bottom",
    "top left",
    "top right",
    "bottom left",
    "bottom right",
)


class LanguageError(CostcoreError, ValueError):
    """The language an engine was asked for is not there (e.g. no attribute words)."""


class LanguageForm(str, Enum):
    """Which language an engine receives: the sentence or the attribute words."""

    SENTENCE = "sentence"
    ATTRIBUTES = "attributes"

    @classmethod
    def parse(cls, value: object) -> LanguageForm:
        """A form from its name (``"sentence"``, ``"attributes"``); ValueError otherwise."""
        if isinstance(value, cls):
            return value
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(form.value for form in cls)
            raise ValueError(f"unknown language form {value!r}; expected one of: {known}") from None


#: the byte order mark; only ever meaningful as the first character of a file
BOM_CHARACTER = "\ufeff"


def first_control_character(text: str) -> str | None:
    """The first character of ``text`` that must not be in a one-line text file, else None.

    Control characters (line breaks included) and a byte order mark, which is invisible in
    an editor and which the validator rejects at the start of a file.
    """
    for char in text:
        if char == BOM_CHARACTER or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return char
    return None


def _label(field: str) -> str:
    return WORD_LABELS.get(field, field)


def normalize_word(value: object, field: str = "word") -> str:
    """One attribute word, trimmed, inner whitespace runs made one space.

    ValueError (naming the field) for non-text, a comma, a line break or a control character.
    """
    label = _label(field)
    if not isinstance(value, str):
        raise ValueError(f"the {label} must be text, got {type(value).__name__}")
    for char in value:
        if char == SEPARATOR:
            raise ValueError(
                f"the {label} must not contain a comma (commas separate the four words): {value!r}"
            )
        if first_control_character(char) is not None:
            raise ValueError(
                f"the {label} must be on one line, without control characters or a byte "
                f"order mark (U+{ord(char):04X}): {value!r}"
            )
    return " ".join(value.split())


def is_known_position(text: str) -> bool:
    """True when ``text`` is built only from :data:`POSITION_WORDS` (spaces, ``-``, ``_``)."""
    parts = text.lower().replace("-", " ").replace("_", " ").split()
    return bool(parts) and all(part in POSITION_WORDS for part in parts)


@dataclass(frozen=True)
class LanguageAttributes:
    """The four attribute words of a video (VLT); immutable, normalised when built.

    ``LanguageAttributes("airplane", "vehicle", "white", "center")``; empty strings are
    unset words. Raises ValueError for a word that cannot be written (see :func:`normalize_word`).
    """

    major_class: str = ""
    root_class: str = ""
    colour: str = ""
    initial_position: str = ""

    def __post_init__(self) -> None:
        for name in WORD_FIELDS:
            object.__setattr__(self, name, normalize_word(getattr(self, name), name))

    @classmethod
    def from_words(cls, words: Iterable[str]) -> LanguageAttributes:
        """From four words in file order; ValueError for another count."""
        if isinstance(words, str):
            raise ValueError("attribute words must be a list of 4 words, not one string")
        try:
            items = list(words)
        except TypeError:
            raise ValueError(f"attribute words must be a list of {WORD_COUNT} words") from None
        if len(items) != WORD_COUNT:
            raise ValueError(_count_message(len(items)))
        return cls(*items)

    @classmethod
    def parse(cls, line: str, *, complete: bool = True) -> LanguageAttributes:
        """From one comma-separated line (the file's content, or the CLI's argument).

        Words are trimmed (the writer never puts spaces around commas; the validator reports
        them). With ``complete`` every word must be non-empty, as in the file. ValueError
        otherwise, naming the field.
        """
        if not isinstance(line, str):
            raise ValueError(f"attribute words must be text, got {type(line).__name__}")
        fields = line.split(SEPARATOR)
        if len(fields) != WORD_COUNT:
            raise ValueError(_count_message(len(fields), "comma-separated "))
        value = cls(*fields)
        if complete and not value.is_complete:
            raise ValueError(value.missing_message())
        return value

    # ------------------------------------------------------------------------------ reads
    @property
    def words(self) -> tuple[str, str, str, str]:
        """The four words in file order ("" for an unset one)."""
        return (self.major_class, self.root_class, self.colour, self.initial_position)

    def word(self, field: str) -> str:
        """The word of ``field`` (one of :data:`WORD_FIELDS`); KeyError for another name."""
        if field not in WORD_FIELDS:
            raise KeyError(f"unknown attribute word {field!r}; expected one of {WORD_FIELDS}")
        return getattr(self, field)

    @property
    def is_empty(self) -> bool:
        """No word set: the video has no attribute words (no file is written)."""
        return not any(self.words)

    @property
    def is_complete(self) -> bool:
        """All four words set: what ``language_attributes.txt`` must hold."""
        return all(self.words)

    def missing(self) -> tuple[str, ...]:
        """Labels of the unset words ("root class", ...), in file order."""
        pairs = zip(WORD_FIELDS, self.words, strict=True)
        return tuple(_label(name) for name, word in pairs if not word)

    def missing_message(self) -> str:
        missing = ", ".join(self.missing())
        return f"all {WORD_COUNT} attribute words are needed; missing: {missing}"

    def line(self) -> str:
        """The line of ``language_attributes.txt`` (no newline); ValueError when incomplete."""
        if not self.is_complete:
            raise ValueError(self.missing_message())
        return SEPARATOR.join(self.words)

    def phrase(self) -> str:
        """The text an engine receives for the attribute form: set words joined by spaces."""
        return " ".join(word for word in self.words if word)

    # ----------------------------------------------------------------------------- edits
    def with_word(self, field: str, word: str) -> LanguageAttributes:
        """A copy with one word replaced (KeyError for an unknown field, ValueError for a
        word that cannot be written)."""
        self.word(field)
        return dataclasses.replace(self, **{field: word})

    def to_dict(self) -> dict[str, str]:
        return dict(zip(WORD_FIELDS, self.words, strict=True))


#: no attribute words
NO_ATTRIBUTES = LanguageAttributes()


def _count_message(found: int, how: str = "") -> str:
    labels = ", ".join(WORD_LABELS[name] for name in WORD_FIELDS)
    return f"expected {WORD_COUNT} {how}attribute words ({labels}), found {found}"


@dataclass(frozen=True)
class LanguageInput:
    """Everything a video says in words, for an engine: the sentence and the attribute words.

    ``text(form)`` is the string an engine's ``initialize`` receives for that form.
    """

    sentence: str = ""
    attributes: LanguageAttributes = NO_ATTRIBUTES

    def __post_init__(self) -> None:
        if not isinstance(self.sentence, str):
            raise ValueError(f"the sentence must be text, got {type(self.sentence).__name__}")
        if self.attributes is None:
            object.__setattr__(self, "attributes", NO_ATTRIBUTES)
        elif not isinstance(self.attributes, LanguageAttributes):
            object.__setattr__(self, "attributes", LanguageAttributes.from_words(self.attributes))

    def has(self, form: LanguageForm | str) -> bool:
        """Whether there is anything to give for ``form``."""
        if LanguageForm.parse(form) is LanguageForm.SENTENCE:
            return bool(self.sentence.strip())
        return not self.attributes.is_empty

    def text(self, form: LanguageForm | str = LanguageForm.SENTENCE) -> str:
        """The text for ``form``: the sentence as given (may be ""), or the attribute phrase.

        Raises :class:`LanguageError` when attribute words are asked for and none is set: a
        run meant to test them must not silently fall back to the sentence.
        """
        if LanguageForm.parse(form) is LanguageForm.SENTENCE:
            return self.sentence
        if self.attributes.is_empty:
            raise LanguageError(
                "no attribute words to give the engine (language form 'attributes'); "
                "set them, or use the sentence"
            )
        return self.attributes.phrase()
