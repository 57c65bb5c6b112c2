"""Listing the image files of a sequence in frame order.

Datasets number frames with any zero-padding width (OTB ``0001.jpg``, LaSOT ``00000001.jpg``,
VL-SOT500 ``000001.jpg``) and TNL2K mixes names and extensions, so frames are ordered by a
natural sort (numbers compared as numbers), never by plain string order.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from costcore.errors import FormatError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
_DIGITS = re.compile(r"[0-9]+")
_CHUNKS = re.compile(r"([0-9]+)")


def natural_key(name: str) -> tuple[object, ...]:
    """Sort key comparing digit runs as numbers and text case-insensitively ("a2" < "a10")."""
    parts = _CHUNKS.split(name.lower())
    # re.split with a group alternates text, digits, text, ... so positions never mix types.
    key = tuple(int(part) if index % 2 else part for index, part in enumerate(parts))
    return (key, name)


@dataclass(frozen=True)
class FrameListing:
    """Image files in frame order, with the frame numbers when every name is a plain number."""

    frames: list[Path]
    numbers: list[int] | None

    @property
    def gaps(self) -> list[tuple[int, int]]:
        """``(before, after)`` number pairs where the numbering skips frames."""
        if self.numbers is None:
            return []
        return [
            (a, b) for a, b in zip(self.numbers[:-1], self.numbers[1:], strict=True) if b != a + 1
        ]

    def extra(self) -> dict[str, object]:
        """Notes for ``Sequence.extra``: numbering gaps and a start other than 1."""
        notes: dict[str, object] = {}
        if self.numbers is not None and self.numbers and self.numbers[0] != 1:
            notes["first_frame_number"] = self.numbers[0]
        gaps = self.gaps
        if gaps:
            notes["frame_gaps"] = gaps
        return notes


def is_image_name(name: str, extensions: frozenset[str] = IMAGE_EXTENSIONS) -> bool:
    """True for visible files with an image extension (macOS ``._x.jpg`` files are hidden)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in extensions


def image_names(folder: Path, extensions: frozenset[str] = IMAGE_EXTENSIONS) -> list[str]:
    """Names of the image files directly inside ``folder`` (unsorted)."""
    try:
        with os.scandir(folder) as entries:
            return [
                entry.name
                for entry in entries
                if is_image_name(entry.name, extensions) and entry.is_file()
            ]
    except FileNotFoundError:
        raise FormatError(folder, "image folder not found") from None
    except NotADirectoryError:
        raise FormatError(folder, "expected an image folder, found a file") from None
    except OSError as error:
        raise FormatError(folder, f"cannot list folder: {error.strerror or error}") from None


def list_frames(folder: str | Path, extensions: frozenset[str] = IMAGE_EXTENSIONS) -> FrameListing:
    """The images of ``folder`` in frame order; no images or two files per number is an error."""
    folder = Path(folder)
    names = sorted(image_names(folder, extensions), key=natural_key)
    if not names:
        wanted = ", ".join(sorted(extensions))
        raise FormatError(folder, f"no image files ({wanted}) in the folder")
    stems = [os.path.splitext(name)[0] for name in names]
    numbers: list[int] | None = None
    if all(_DIGITS.fullmatch(stem) for stem in stems):
        numbers = [int(stem) for stem in stems]
        for index in range(1, len(numbers)):
            if numbers[index] == numbers[index - 1]:
                raise FormatError(
                    folder,
                    f"two files for frame {numbers[index]}: {names[index - 1]} and {names[index]}",
                )
    return FrameListing([folder / name for name in names], numbers)
