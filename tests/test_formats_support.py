"""Builders of small, hand-made sequence folders for the format tests (no tests here).

Frames are tiny JPEGs made with cv2.imencode, each a different colour, so a test can tell
by the bytes which source frame ended up where.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import numpy as np

IMAGE_SIZE = (64, 48)  # width, height


@functools.lru_cache(maxsize=256)
def image_bytes(index: int, ext: str = ".jpg") -> bytes:
    """A small image whose colour encodes ``index`` (distinct bytes per frame)."""
    width, height = IMAGE_SIZE
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[:, :] = ((index * 37) % 256, (index * 91) % 256, (index * 13 + 50) % 256)
    image[index % height, :, :] = 255  # a line, so two frames never encode alike
    ok, buffer = cv2.imencode(ext, image)
    assert ok
    return buffer.tobytes()


def write_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` exactly (no newline translation)."""
    return write_bytes(path, text.encode("utf-8"))


def write_images(folder: Path, names: list[str]) -> list[Path]:
    """One image per name, frame i coloured by i; the extension picks the encoding."""
    paths = []
    for index, name in enumerate(names):
        paths.append(write_bytes(folder / name, image_bytes(index, Path(name).suffix.lower())))
    return paths


def default_boxes(count: int) -> np.ndarray:
    return np.array([[10 + i, 5 + i, 20, 10] for i in range(count)], dtype=np.float64)


def box_text(boxes: np.ndarray, delimiter: str = ",", newline: str = "\n", final: bool = True):
    """Box lines as a dataset would write them; NaN rows come out as ``NaN``."""
    lines = []
    for row in np.asarray(boxes, dtype=np.float64):
        fields = ["NaN" if np.isnan(v) else f"{v:g}" for v in row]
        lines.append(delimiter.join(fields))
    return newline.join(lines) + (newline if final else "")


def make_vlsot500(
    root: Path, count: int = 5, boxes: np.ndarray | None = None, absent: list[int] | None = None
) -> Path:
    """A valid VL-SOT500 folder (what the writer would produce)."""
    boxes = default_boxes(count) if boxes is None else boxes
    absent = [0] * count if absent is None else absent
    names = [f"{i + 1:06d}.jpg" for i in range(count)]
    write_images(root / "imgs", names)
    write_bytes(root / "000001.jpg", image_bytes(0))
    lines = [
        "0,0,0,0" if flag else ",".join(str(int(v)) for v in row)
        for row, flag in zip(boxes, absent, strict=True)
    ]
    write_text(root / "groundtruth_rect.txt", "\n".join(lines) + "\n")
    write_text(root / "absent.txt", "".join(f"{flag}\n" for flag in absent))
    write_text(root / "attributes.txt", ",".join(["0"] * 12 + ["1", "0", "0", "0", "2"]) + "\n")
    write_text(root / "language.txt", "a red car on the road\n")
    return root


def make_lasot(root: Path, count: int = 5, occluded: tuple[int, ...] = ()) -> Path:
    write_images(root / "img", [f"{i + 1:08d}.jpg" for i in range(count)])
    write_text(root / "groundtruth.txt", box_text(default_boxes(count)))
    flags = ["1" if i in occluded else "0" for i in range(count)]
    write_text(root / "full_occlusion.txt", ",".join(flags) + "\n")
    write_text(root / "out_of_view.txt", ",".join(["0"] * count) + "\n")
    write_text(root / "nlp.txt", "white airplane landing on ground")
    return root


def tnl2k_names(count: int) -> list[str]:
    """Mixed names and extensions, in frame order (natural sort, not string sort)."""
    exts = [".jpg", ".png", ".JPG", ".jpeg", ".bmp"]
    return [f"img{i + 1}{exts[i % len(exts)]}" for i in range(count)]


def make_tnl2k(root: Path, count: int = 12) -> Path:
    write_images(root / "imgs", tnl2k_names(count))
    write_text(root / "groundtruth.txt", box_text(default_boxes(count)))
    write_text(root / "language.txt", "the boy in a blue shirt\n")
    return root


def make_otb(root: Path, count: int = 5, delimiter: str = "\t") -> Path:
    write_images(root / "img", [f"{i + 1:04d}.jpg" for i in range(count)])
    write_text(root / "groundtruth_rect.txt", box_text(default_boxes(count), delimiter))
    return root


def make_uav123(root: Path, count: int = 5) -> Path:
    write_images(root / "img", [f"{i + 1:06d}.jpg" for i in range(count)])
    boxes = default_boxes(count)
    boxes[1] = np.nan
    write_text(root / f"{root.name}.txt", box_text(boxes, final=False))
    return root


def make_got10k(root: Path, count: int = 5) -> Path:
    write_images(root, [f"{i + 1:08d}.jpg" for i in range(count)])
    write_text(root / "groundtruth.txt", box_text(default_boxes(count)))
    write_text(root / "absence.label", "".join("1\n" if i == 2 else "0\n" for i in range(count)))
    write_text(
        root / "meta_info.ini",
        "[METAINFO]\nurl: https://youtu.be/x?v=1\nobject_class: ichneumon\n"
        "motion_class: walking\nresolution: (1920, 1080)\n",
    )
    return root


MAKERS = {
    "vlsot500": make_vlsot500,
    "lasot": make_lasot,
    "tnl2k": make_tnl2k,
    "otb": make_otb,
    "uav123": make_uav123,
    "got10k": make_got10k,
}
#: the annotation files of each layout the fuzz tests overwrite
ANNOTATION_FILES = {
    "vlsot500": [
        "groundtruth_rect.txt",
        "absent.txt",
        "attributes.txt",
        "language.txt",
        "relative_speed.txt",
        "language_attributes.txt",  # optional; the fuzz tests create it
    ],
    "lasot": [
        "groundtruth.txt",
        "full_occlusion.txt",
        "out_of_view.txt",
        "nlp.txt",
        "language_attributes.txt",  # read in any layout when present
    ],
    "tnl2k": ["groundtruth.txt", "language.txt"],
    "otb": ["groundtruth_rect.txt", "language.txt"],
    "uav123": ["{name}.txt"],
    "got10k": ["groundtruth.txt", "absence.label", "meta_info.ini"],
}
