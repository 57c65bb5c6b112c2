"""Score maps of tracked frames, kept compactly so a run can be scrubbed afterwards.

An engine's score map (float values in [0, 1] over its search region) is stored per frame as
uint8 (``round(255 * v)``: the overlay cannot show finer steps anyway) with the search region
in frame coordinates: 400 bytes per frame for COST's 20x20 map, 1 KiB for TransT's 32x32, so
even a 10,000-frame video stays at a few MiB. The store is written to its own ``.npz`` file
beside ``session.json`` (never inside it, which must stay small and quick to autosave).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costcore.boxes import Box
from costcore.errors import FormatError
from costcore.fileio import atomic_write_bytes


@dataclass(frozen=True)
class StoredMap:
    """One quantised map: ``data`` uint8 (rows, cols) covering ``region`` (x, y, w, h)."""

    data: np.ndarray
    region: Box

    def values(self) -> np.ndarray:
        """The map as float32 in [0, 1]."""
        return self.data.astype(np.float32) / 255.0

    def cell_rect(self, row: int, col: int) -> Box:
        """The frame rectangle cell ``(row, col)`` covers."""
        rows, cols = self.data.shape
        x, y, w, h = self.region
        return Box(x + col * w / cols, y + row * h / rows, w / cols, h / rows)


def quantise(score_map: np.ndarray) -> np.ndarray:
    values = np.nan_to_num(np.asarray(score_map, dtype=np.float32), nan=0.0)
    return np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)


class ScoreMapStore:
    """Frame index -> :class:`StoredMap`."""

    def __init__(self) -> None:
        self._maps: dict[int, StoredMap] = {}

    def put(self, index: int, score_map: np.ndarray, region: Box | tuple[float, ...]) -> None:
        array = np.asarray(score_map)
        if array.ndim != 2 or array.size == 0:
            raise ValueError(f"a score map is a 2-D array, got shape {array.shape}")
        self._maps[int(index)] = StoredMap(quantise(array), Box(*(float(v) for v in region)))

    def get(self, index: int) -> StoredMap | None:
        return self._maps.get(index)

    def discard(self, indices: Iterable[int]) -> None:
        for index in indices:
            self._maps.pop(index, None)

    def clear(self) -> None:
        self._maps.clear()

    def __len__(self) -> int:
        return len(self._maps)

    def __contains__(self, index: object) -> bool:
        return index in self._maps

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._maps))

    @property
    def nbytes(self) -> int:
        return sum(m.data.nbytes + 32 for m in self._maps.values())

    # ------------------------------------------------------------------ file
    def arrays(self) -> dict[str, np.ndarray]:
        """The store as flat arrays (what the ``.npz`` file holds)."""
        indices = np.array(sorted(self._maps), dtype=np.int64)
        maps = [self._maps[int(i)] for i in indices]
        shapes = np.array([m.data.shape for m in maps], dtype=np.int32).reshape(-1, 2)
        regions = np.array([m.region for m in maps], dtype=np.float64).reshape(-1, 4)
        data = (
            np.concatenate([m.data.reshape(-1) for m in maps])
            if maps
            else np.zeros(0, dtype=np.uint8)
        )
        return {
            "map_index": indices,
            "map_shape": shapes,
            "map_region": regions,
            "map_data": data,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], path: Path) -> ScoreMapStore:
        store = cls()
        try:
            indices = np.asarray(arrays["map_index"], dtype=np.int64)
            shapes = np.asarray(arrays["map_shape"], dtype=np.int64).reshape(-1, 2)
            regions = np.asarray(arrays["map_region"], dtype=np.float64).reshape(-1, 4)
            data = np.asarray(arrays["map_data"], dtype=np.uint8)
        except (KeyError, ValueError) as error:
            raise FormatError(path, f"not a score-map file ({error})") from None
        sizes = shapes.prod(axis=1)
        if len(indices) != len(shapes) or len(indices) != len(regions) or sizes.sum() != len(data):
            raise FormatError(path, "score-map arrays do not fit together")
        offset = 0
        for index, shape, region, size in zip(indices, shapes, regions, sizes, strict=True):
            block = data[offset : offset + size].reshape(int(shape[0]), int(shape[1]))
            store._maps[int(index)] = StoredMap(block.copy(), Box(*region.tolist()))
            offset += int(size)
        return store


def save_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays to ``path`` atomically (compressed npz)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Read an ``.npz`` file without allowing pickled objects."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise FormatError(path, f"cannot read ({error})") from None
