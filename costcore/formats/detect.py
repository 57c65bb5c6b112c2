"""Recognising a sequence folder's layout from its files, and walking a dataset root."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from costcore.errors import FormatError
from costcore.formats.frames import image_names, natural_key
from costcore.formats.got10k import read_got10k
from costcore.formats.lasot import read_lasot
from costcore.formats.otb import read_otb, target_files
from costcore.formats.sequence import Sequence
from costcore.formats.tnl2k import read_tnl2k
from costcore.formats.uav123 import find_groundtruth, read_uav123
from costcore.formats.vlsot500 import read_vlsot500

READERS: dict[str, Callable[[Path], Sequence]] = {
    "vlsot500": read_vlsot500,
    "lasot": read_lasot,
    "tnl2k": read_tnl2k,
    "otb": read_otb,
    "uav123": read_uav123,
    "got10k": read_got10k,
}
LAYOUTS = tuple(READERS)

# What detection looks for, in the order it checks (shown when nothing matches).
_SIGNATURES = (
    "VL-SOT500: imgs/ + groundtruth_rect.txt",
    "TNL2K: imgs/ + groundtruth.txt",
    "LaSOT: img/ + groundtruth.txt",
    "OTB: img/ + groundtruth_rect.txt (or groundtruth_rect.N.txt)",
    "UAV123: img/ + <folder name>.txt",
    "GOT-10k: groundtruth.txt + image files in the folder",
)


def detect_layout(folder: str | Path) -> str:
    """The layout name of a sequence folder, from which files it holds.

    Only existence checks, except the UAV123 fallback that parses candidate ``.txt`` files.
    """
    folder = Path(folder)
    try:
        return _detect(folder)
    except OSError as error:
        raise FormatError(folder, f"cannot read: {error.strerror or error}") from error


def _detect(folder: Path) -> str:
    if not folder.is_dir():
        raise FormatError(folder, "sequence folder not found")
    has_imgs = (folder / "imgs").is_dir()
    has_img = (folder / "img").is_dir()
    groundtruth = (folder / "groundtruth.txt").is_file()
    if has_imgs and (folder / "groundtruth_rect.txt").is_file():
        return "vlsot500"
    if has_imgs and groundtruth:
        return "tnl2k"
    if has_img and groundtruth:
        return "lasot"
    if has_img and ((folder / "groundtruth_rect.txt").is_file() or target_files(folder)):
        return "otb"
    if has_img and find_groundtruth(folder) is not None:
        return "uav123"
    if groundtruth and _has_images(folder):
        return "got10k"
    looked_for = "; ".join(_SIGNATURES)
    raise FormatError(folder, f"not a known sequence layout; looked for {looked_for}")


def _has_images(folder: Path) -> bool:
    try:
        return bool(image_names(folder))
    except FormatError:
        return False


def read_sequence(folder: str | Path, layout: str | None = None) -> Sequence:
    """Read a sequence folder in ``layout``, detected from its files when not given."""
    folder = Path(folder)
    if layout is None:
        layout = detect_layout(folder)
    reader = READERS.get(layout)
    if reader is None:
        known = ", ".join(LAYOUTS)
        raise FormatError(folder, f"unknown layout {layout!r}; known layouts: {known}")
    return reader(folder)


def _detects(folder: Path) -> bool:
    try:
        detect_layout(folder)
    except FormatError:
        return False
    return True


def _subfolders(folder: Path) -> list[Path]:
    """Visible child folders in natural order (``airplane-2`` before ``airplane-10``)."""
    try:
        with os.scandir(folder) as entries:
            names = [
                entry.name for entry in entries if not entry.name.startswith(".") and entry.is_dir()
            ]
    except OSError as error:
        raise FormatError(folder, f"cannot list folder: {error.strerror or error}") from None
    return [folder / name for name in sorted(names, key=natural_key)]


def iter_sequences(dataset_dir: str | Path) -> Iterator[Path]:
    """Sequence folders of a dataset root, in natural name order.

    Children that are sequences are yielded; a child that is not is searched one level down,
    which covers LaSOT's ``<class>/<class>-N/`` root.
    """
    dataset_dir = Path(dataset_dir)
    if not os.path.isdir(dataset_dir):
        raise FormatError(dataset_dir, "dataset folder not found")
    for child in _subfolders(dataset_dir):
        if _detects(child):
            yield child
            continue
        try:
            grandchildren = _subfolders(child)
        except FormatError:
            continue
        for grandchild in grandchildren:
            if _detects(grandchild):
                yield grandchild
