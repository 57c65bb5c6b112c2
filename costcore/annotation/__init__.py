"""The Qt-free annotation model of one video, its undoable edit commands and the session file.

The app is a view over a :class:`VideoAnnotation`: it reads through its accessors and changes
it only by pushing commands on an :class:`UndoStack`, whose listeners tell it what to redraw.
"""

from costcore.annotation.commands import (
    Change,
    ClearFrames,
    Command,
    Macro,
    MarkVerified,
    SetAbsent,
    SetAttribute,
    SetAttributes,
    SetBox,
    SetFrames,
    SetLanguage,
    SetLanguageAttribute,
    SetLanguageAttributes,
)
from costcore.annotation.history import Listener, UndoStack
from costcore.annotation.model import (
    UNANNOTATED,
    FrameAnnotation,
    Provenance,
    VideoAnnotation,
    validate_attribute,
    validate_attributes,
    validate_language_attributes,
)
from costcore.annotation.session import (
    LoadedSession,
    backup_path,
    load_session,
    recover_session,
    save_session,
)
from costcore.annotation.session_codec import SCHEMA as SESSION_SCHEMA
from costcore.annotation.session_codec import VERSION as SESSION_VERSION
from costcore.annotation.session_codec import decode_session, encode_session
from costcore.annotation.summary import FrameCounts, frame_counts
from costcore.attributes.definitions import ATTRIBUTE_CODES, ATTRIBUTE_COUNT
from costcore.language import LanguageAttributes, LanguageForm, LanguageInput

__all__ = [
    "ATTRIBUTE_CODES",
    "ATTRIBUTE_COUNT",
    "SESSION_SCHEMA",
    "SESSION_VERSION",
    "UNANNOTATED",
    "Change",
    "ClearFrames",
    "Command",
    "FrameAnnotation",
    "FrameCounts",
    "LanguageAttributes",
    "LanguageForm",
    "LanguageInput",
    "Listener",
    "LoadedSession",
    "Macro",
    "MarkVerified",
    "Provenance",
    "SetAbsent",
    "SetAttribute",
    "SetAttributes",
    "SetBox",
    "SetFrames",
    "SetLanguage",
    "SetLanguageAttribute",
    "SetLanguageAttributes",
    "UndoStack",
    "VideoAnnotation",
    "backup_path",
    "decode_session",
    "encode_session",
    "frame_counts",
    "load_session",
    "recover_session",
    "save_session",
    "validate_attribute",
    "validate_attributes",
    "validate_language_attributes",
]
