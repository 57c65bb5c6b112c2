"""Frame-index checking shared by every frame source.

Frame numbers arrive from the UI, the CLI and numpy arrays; they are checked once, the same way
everywhere, so a bad index is an ``IndexError`` and never a wrapped-around negative frame.
"""

from __future__ import annotations

import operator


def check_index(index: int, frame_count: int) -> int:
    """``index`` as a plain ``int``; ``IndexError`` unless ``0 <= index < frame_count``.

    Negative indices are rejected rather than counted from the end: a ``-1`` reaching a frame
    source is almost always an off-by-one in the caller, not a request for the last frame.
    """
    i = operator.index(index)
    if not 0 <= i < frame_count:
        raise IndexError(
            f"frame {i + 1} does not exist (index {i}); the frames are 1 to {frame_count}"
        )
    return i
