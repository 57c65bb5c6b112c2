"""Where the NanoTrack tests find the authors' released files, and real crops to feed them.

The files live in ``../shared/models/nanotrack`` (read SOURCE.txt there); tests that need them
skip cleanly when they are absent (a user's checkout).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from costcore.boxes import Box
from costcore.formats import read_sequence
from costcore.video import open_frame_source
from tests.conftest import PROJECT_ROOT, shared_sequence

SHARED_MODELS = PROJECT_ROOT.parent / "shared" / "models" / "nanotrack"
FIXTURES = Path(__file__).parent / "fixtures" / "nanotrack"

#: version -> (checkpoint, backbone ONNX, head ONNX), as SOURCE.txt names them
RELEASED = {
    2: ("nanotrackv2.pth", "nanotrack_backbone_sim.onnx", "nanotrack_head_sim.onnx"),
    3: ("nanotrackv3.pth", "nanotrack_backbone.onnx", "nanotrack_head.onnx"),
}


def released_file(version: int, which: int = 0) -> Path:
    """The authors' file (0 checkpoint, 1 backbone ONNX, 2 head ONNX), or skip the test."""
    path = SHARED_MODELS / f"nanotrackv{version}" / RELEASED[version][which]
    if not path.is_file():
        pytest.skip(f"NanoTrack weights not available: {path}")
    return path


def released_config(version: int) -> Path:
    path = SHARED_MODELS / f"nanotrackv{version}" / f"configv{version}.yaml"
    if not path.is_file():
        pytest.skip(f"NanoTrack config not available: {path}")
    return path


def real_frames(name: str, count: int) -> tuple[list[np.ndarray], list[Box]]:
    """The first ``count`` RGB frames of a shared sequence and its ground-truth boxes."""
    sequence = read_sequence(shared_sequence(name))
    source = open_frame_source(sequence.frames[:count])
    try:
        frames = [source.frame(index) for index in range(source.frame_count)]
    finally:
        source.close()
    return frames, [Box(*box) for box in sequence.boxes[:count]]
