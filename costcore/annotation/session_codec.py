"""Encoding and validating decoding of session files (the bytes, not the files).

Layout (version 1)::

    {"schema": "cost-annotator-session", "version": 1,
     "video": {"name": str, "source": str, "frame_count": int,
               "frame_size": [w, h] | null, "fps": float | null},
     "language": str, "attributes": [17 ints],
     "language_attributes": null | {"major_class": str, "root_class": str, "colour": str,
                                    "initial_position": str},
     "frames": [null | [provenance, absent 0/1, [x, y, w, h] | null, score | null,
                        engine | null], ...],
     "ui": {...}}

``language_attributes`` (VLT's attribute words, ``costcore.language``) is optional: files
without it, written before it existed, load with no words, and ``null`` means none. Adding it
needed no new version: version-1 readers ignore keys they do not know.
``null`` is a frame nobody annotated yet. One short array per frame keeps a 10,000-frame
session around a megabyte and quick to write. Floats are written with Python's shortest
round-trip repr, so they load back bit for bit. Decoding trusts nothing: any problem becomes a
:class:`SessionError` naming the file and the field, never a KeyError or TypeError.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from costcore.annotation.model import (
    UNANNOTATED,
    FrameAnnotation,
    Provenance,
    VideoAnnotation,
    validate_attributes,
    validate_language,
)
from costcore.errors import SessionError
from costcore.language import WORD_FIELDS, LanguageAttributes

SCHEMA = "cost-annotator-session"
VERSION = 1
_PROVENANCES = {p.value: p for p in Provenance}


def encode_session(annotation: VideoAnnotation, ui: dict[str, Any] | None = None) -> bytes:
    """The session file's bytes. Raises ValueError when ``ui`` is not plain JSON data."""
    document = {
        "schema": SCHEMA,
        "version": VERSION,
        "video": {
            "name": annotation.name,
            "source": annotation.source,
            "frame_count": annotation.frame_count,
            "frame_size": None if annotation.frame_size is None else list(annotation.frame_size),
            "fps": annotation.fps,
        },
        "language": annotation.language,
        "language_attributes": _encode_words(annotation.language_attributes),
        "attributes": annotation.attributes,
        "frames": [_encode_frame(f) for f in annotation.frames],
        "ui": {} if ui is None else ui,
    }
    try:
        text = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"session data is not plain JSON data: {error}") from None
    return (text + "\n").encode("utf-8")


def _encode_words(words: LanguageAttributes) -> dict[str, str] | None:
    return None if words.is_empty else words.to_dict()


def _encode_frame(frame: FrameAnnotation) -> list[Any] | None:
    if frame.provenance is None:
        return None
    box = None if frame.box is None else list(frame.box)
    return [frame.provenance.value, int(frame.absent), box, frame.score, frame.engine]


def decode_session(path: str | Path, data: bytes) -> tuple[VideoAnnotation, dict[str, Any]]:
    """Parse and validate session bytes (``path`` is only used in error messages)."""
    path = Path(path)
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise SessionError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise SessionError(
            path, f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except (ValueError, RecursionError) as error:
        raise SessionError(path, f"not valid JSON ({error})") from None
    return _Decoder(path).session(document)


class _Decoder:
    """Validating reader of the JSON document; every failure names the offending field."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> SessionError:
        return SessionError(self.path, f"{where}: {problem}")

    def session(self, document: object) -> tuple[VideoAnnotation, dict[str, Any]]:
        if not isinstance(document, dict):
            raise SessionError(self.path, "not a session file (top level is not a JSON object)")
        if document.get("schema") != SCHEMA:
            raise SessionError(
                self.path, f"not a session file (schema is {_short(document.get('schema'))})"
            )
        version = document.get("version")
        if not _is_int(version) or version < 1:
            raise self.fail("version", f"expected a positive integer, got {_short(version)}")
        if version > VERSION:
            raise SessionError(
                self.path,
                f"written by a newer COST Annotator (session version {version}; this version "
                f"reads up to {VERSION}); update the application to open it",
            )
        video = self.field(document, "video", dict)
        frame_count = self.field(video, "frame_count", int, "video.")
        if frame_count < 1:
            raise self.fail("video.frame_count", f"must be at least 1, got {frame_count}")
        frames = self.field(document, "frames", list)
        if len(frames) != frame_count:
            raise self.fail(
                "frames", f"video.frame_count is {frame_count} but there are {len(frames)} frames"
            )
        attributes = self.checked("attributes", validate_attributes, document, list)
        language = self.checked("language", validate_language, document, str)
        language_attributes = self.language_attributes(document.get("language_attributes"))
        ui = document.get("ui", {})
        if not isinstance(ui, dict):
            raise self.fail("ui", f"expected an object, got {type(ui).__name__}")
        try:
            annotation = VideoAnnotation(
                self.field(video, "name", str, "video."),
                frame_count,
                source=self.field(video, "source", str, "video."),
                frame_size=self.frame_size(video.get("frame_size")),
                fps=self.optional_number(video.get("fps"), "video.fps"),
                language=language,
                attributes=attributes,
                frames=[self.frame(i, row) for i, row in enumerate(frames)],
                language_attributes=language_attributes,
            )
        except ValueError as error:
            raise self.fail("video", str(error)) from None
        return annotation, ui

    def field(self, mapping: dict[str, Any], key: str, kind: type, prefix: str = "") -> Any:
        """``mapping[key]``, which must exist and be of ``kind`` (bools are not ints)."""
        if key not in mapping:
            raise self.fail(prefix.rstrip(".") or "top level", f"missing {_short(key)}")
        value = mapping[key]
        ok = _is_int(value) if kind is int else isinstance(value, kind)
        if not ok:
            raise self.fail(prefix + key, f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    def checked(self, key: str, check: Any, document: dict[str, Any], kind: type) -> Any:
        """A top-level field run through the model's own validator."""
        try:
            return check(self.field(document, key, kind))
        except ValueError as error:
            raise self.fail(key, str(error)) from None

    def language_attributes(self, value: object) -> LanguageAttributes | None:
        """The optional attribute words: absent or null (no words), or an object of 4 words."""
        where = "language_attributes"
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object or null, got {type(value).__name__}")
        unknown = sorted(set(value) - set(WORD_FIELDS))
        if unknown:
            raise self.fail(where, f"unknown word {_short(unknown[0])}")
        words = []
        for name in WORD_FIELDS:
            word = value.get(name, "")
            if not isinstance(word, str):
                raise self.fail(f"{where}.{name}", f"expected a string, got {type(word).__name__}")
            words.append(word)
        try:
            return LanguageAttributes(*words)
        except ValueError as error:
            raise self.fail(where, str(error)) from None

    def optional_number(self, value: object, where: str) -> float | None:
        if value is None:
            return None
        if not _is_number(value):
            raise self.fail(where, f"expected a finite number or null, got {_short(value)}")
        return float(value)  # type: ignore[arg-type]

    def frame_size(self, value: object) -> tuple[int, int] | None:
        if value is None:
            return None
        if not (isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)):
            raise self.fail(
                "video.frame_size", f"expected [width, height] or null, got {_short(value)}"
            )
        return (value[0], value[1])

    def frame(self, index: int, row: object) -> FrameAnnotation:
        where = f"frames[{index}] (frame {index + 1})"
        if row is None:
            return UNANNOTATED
        if not isinstance(row, list) or len(row) != 5:
            raise self.fail(where, "expected null or [provenance, absent, box, score, engine]")
        provenance, absent, box, score, engine = row
        if not isinstance(provenance, str) or provenance not in _PROVENANCES:
            raise self.fail(where, f"unknown provenance {_short(provenance)}")
        if absent not in (0, 1) or isinstance(absent, float):
            raise self.fail(where, f"absent must be 0 or 1, got {_short(absent)}")
        if box is not None and not isinstance(box, list):
            raise self.fail(where, f"box must be [x, y, w, h] or null, got {_short(box)}")
        if score is not None and not _is_number(score):
            raise self.fail(where, f"score must be a finite number or null, got {_short(score)}")
        if engine is not None and not isinstance(engine, str):
            raise self.fail(where, f"engine must be a string or null, got {_short(engine)}")
        try:
            return FrameAnnotation(
                box,  # FrameAnnotation checks the four numbers
                bool(absent),
                _PROVENANCES[provenance],
                None if score is None else float(score),
                engine,
            )
        except ValueError as error:
            raise self.fail(where, str(error)) from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def _short(value: object, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters: messages stay readable for huge values."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
