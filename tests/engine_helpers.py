"""What the tests of the reproduced engines (All-in-One, VLT_TT, UVLTrack, TransT) share.

Each of those tests holds an engine to the authors' own run on a real sequence, refuses bad
checkpoints naming the file, and proves that code pickled into a checkpoint never runs; the
steps are the same for every engine, so they are written once here.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from types import EllipsisType
from typing import Any

import numpy as np
import pytest

from costcore.boxes import Box
from costcore.engines import EngineError, TrackerEngine, WeightsError, create_engine
from costcore.engines.errors import CheckpointError
from costcore.engines.frame_loop import TrackStep, track_frames
from costcore.errors import FormatError
from costcore.formats import read_sequence
from costcore.video import open_frame_source


def reference_boxes(fixture: Path, run: str) -> np.ndarray:
    """The authors' boxes of one reference run (``boxes_<run>.txt``, one ``x,y,w,h`` a line;
    line 1 is the initial box)."""
    return np.loadtxt(fixture / f"boxes_{run}.txt", delimiter=",")


def track_sequence(
    engine: TrackerEngine,
    sequence_dir: Path,
    frames: int,
    text: str,
    box: Box | None | EllipsisType = ...,
) -> tuple[np.ndarray, list[TrackStep]]:
    """The boxes (one row a frame, the first one included) and steps of tracking the first
    ``frames`` frames of a sequence from ``box`` (default: its first ground-truth box; None:
    found from ``text``), as the app and the CLI track (``track_frames``)."""
    sequence = read_sequence(sequence_dir)
    source = open_frame_source(sequence.frames[:frames])
    start = Box(*sequence.boxes[0]) if box is ... else box
    try:
        steps = list(track_frames(engine, source, start, text))
    finally:
        source.close()
    return np.array([step.result.box for step in steps]), steps


def assert_boxes_match(boxes: np.ndarray, expected: np.ndarray, tolerance: float) -> None:
    """Every frame's box within ``tolerance`` pixels of the reference; the message lists each
    frame's error, so a drift shows where it starts."""
    assert boxes.shape == expected.shape
    error = np.abs(boxes - expected).max(axis=1)
    assert error.max() <= tolerance, f"frames off by more than {tolerance} px: {error}"


class TrainerSettings:
    """Stands in for the authors' pickled training settings (a class the loader never imports)."""

    def __init__(self) -> None:
        self.batch_size = 32


class WritesMarker:
    """A pickle payload that would run a shell command when unpickled by plain pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def save_like_a_training_run(path: Path, weights_key: str, state: dict, marker: Path) -> None:
    """A checkpoint as the authors' training saves one: the weights beside pickled objects of
    foreign classes, one of which would run a command (touching ``marker``) if executed."""
    import torch

    payload = {weights_key: state, "settings": TrainerSettings(), "hook": WritesMarker(marker)}
    torch.save(payload, path)


def assert_code_in_a_pickle_never_runs(
    engine: str, weights_key: str, tmp_path: Path, **options: Any
) -> None:
    """A plain pickle whose weights are a command: ``engine`` refuses it with a
    CheckpointError naming the file, and the command never runs."""
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({weights_key: WritesMarker(marker)}))
    with pytest.raises(CheckpointError) as caught:
        create_engine(engine, weights=evil, device="cpu", **options)
    assert caught.value.path == evil
    assert not marker.exists()


def assert_missing_and_corrupt_files_are_named(
    engine: str, tmp_path: Path, file_name: str, corrupt_bytes: bytes
) -> None:
    """A checkpoint that is not there, and one that is not a checkpoint: each a typed error
    naming the file (a WeightsError that is a FormatError, the CLI's one-line message)."""
    missing = tmp_path / "nowhere" / file_name
    with pytest.raises(WeightsError) as caught:
        create_engine(engine, weights=missing, device="cpu")
    assert isinstance(caught.value, FormatError) and caught.value.path == missing
    assert str(missing) in str(caught.value)

    corrupt = tmp_path / file_name
    corrupt.write_bytes(corrupt_bytes)
    with pytest.raises(CheckpointError) as caught:
        create_engine(engine, weights=corrupt, device="cpu")
    assert caught.value.path == corrupt


def assert_refuses_to_step_or_start_badly(engine: TrackerEngine, outside: bool = True) -> None:
    """No step before ``initialize``, no start from an empty box, nor (``outside``) from one
    outside the frame: each an EngineError saying which."""
    frame = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(EngineError, match="initialize"):
        engine.step(frame)
    with pytest.raises(EngineError, match="positive size"):
        engine.initialize(frame, Box(4, 4, 0, 5), "")
    if outside:
        with pytest.raises(EngineError, match="outside the frame"):
            engine.initialize(frame, Box(40, 4, 5, 5), "")


def run_cli_on_a_square(tmp_path: Path, engine: str, weights: Path, frames: int) -> list[str]:
    """The lines ``python -m costcore run`` writes for a synthetic OTB sequence of a square,
    tracked by ``engine`` with ``weights`` on the CPU."""
    from tests.batch_fakes import make_otb_sequence
    from tests.test_cli_run import run_cli

    data = tmp_path / "data"
    make_otb_sequence(data, "square", frames, language="a bright square")
    results = tmp_path / "results"
    args = ["--dataset", str(data), "--results", str(results), "--engine", engine]
    assert run_cli(*args, "--weights", str(weights), "--device", "cpu") == 0
    return (results / f"{engine}-{engine}" / "square.txt").read_text().splitlines()
