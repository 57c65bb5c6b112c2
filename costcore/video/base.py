"""The one interface every frame source implements.

The app, the exporter, the attribute proposals and the trackers all read frames through this,
so a video file and a folder of JPEGs look the same to them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from costcore.video.damage import VideoDamage


class FrameSource(ABC):
    """Random, frame-exact access to the frames of one video.

    ``frame(i)`` (0-based) always returns the same image for the same ``i``: an ``(H, W, 3)``
    ``uint8`` RGB array. Implementations are safe to call from several threads.
    """

    #: the file or folder the frames come from
    path: Path

    @property
    @abstractmethod
    def frame_count(self) -> int:
        """Number of frames."""

    @property
    @abstractmethod
    def frame_size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""

    @property
    @abstractmethod
    def fps(self) -> float:
        """Frames per second (30.0 when the source does not say)."""

    @abstractmethod
    def frame(self, index: int) -> np.ndarray:
        """RGB frame ``index``; raises ``IndexError`` out of range, ``VideoError`` if unreadable."""

    def frame_path(self, index: int) -> Path | None:
        """The image file holding frame ``index`` when frames are files, else ``None``.

        Exporters use it to byte-copy JPEG frames instead of re-encoding them.
        """
        return None

    @property
    def damage(self) -> VideoDamage | None:
        """Frames of a damaged video file that cannot be decoded; None when all decode.

        A damaged file still opens with the frames that decode (``frame_count`` counts only
        those); callers report this so nobody takes a short result for the whole video.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing
        """Release file handles and threads."""

    def __len__(self) -> int:
        return self.frame_count

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
