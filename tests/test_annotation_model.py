"""The annotation model: invariants, validation and the read-only accessors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from costcore.annotation import (
    ATTRIBUTE_COUNT,
    UNANNOTATED,
    FrameAnnotation,
    Provenance,
    VideoAnnotation,
)
from costcore.boxes import Box
from costcore.formats.sequence import Sequence


def keyframe(x: float = 10.0) -> FrameAnnotation:
    return FrameAnnotation(Box(x, 20.0, 30.0, 40.0), provenance=Provenance.KEYFRAME)


def tracked(x: float = 11.0, score: float = 0.75) -> FrameAnnotation:
    return FrameAnnotation(
        Box(x, 21.0, 30.5, 39.5), provenance=Provenance.TRACKED, score=score, engine="csrt"
    )


def absent(provenance: Provenance = Provenance.KEYFRAME) -> FrameAnnotation:
    return FrameAnnotation(absent=True, provenance=provenance)


@pytest.fixture
def video() -> VideoAnnotation:
    frames = [UNANNOTATED] * 10
    frames[0] = keyframe()
    frames[1] = tracked()
    frames[2] = absent(Provenance.TRACKED)
    frames[4] = FrameAnnotation(Box(1, 2, 3, 4), provenance=Provenance.VERIFIED, score=0.5)
    frames[6] = keyframe(50.0)
    frames[7] = FrameAnnotation(Box(1, 2, 3, 4), provenance=Provenance.INTERPOLATED)
    return VideoAnnotation("bike", 10, source="/v.mp4", frame_size=(640, 360), fps=25.0,
                           frames=frames)  # fmt: skip


def test_provenance_values_and_protection() -> None:
    assert [p.value for p in Provenance] == [
        "keyframe", "tracked", "interpolated", "imported", "verified",
    ]  # fmt: skip
    assert Provenance("tracked") is Provenance.TRACKED
    assert {p for p in Provenance if p.protected} == {Provenance.KEYFRAME, Provenance.VERIFIED}


def test_frame_annotation_normalises_values() -> None:
    frame = FrameAnnotation([1, 2, 3, 4], provenance="keyframe", score=np.float32(0.5))
    assert frame.box == Box(1.0, 2.0, 3.0, 4.0)
    assert all(type(v) is float for v in frame.box)
    assert frame.provenance is Provenance.KEYFRAME
    assert type(frame.score) is float
    assert frame.is_annotated and frame.is_protected
    assert not UNANNOTATED.is_annotated and not UNANNOTATED.is_protected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"box": (0, 0, -1, 5), "provenance": Provenance.KEYFRAME},
        {"box": (0, 0, 5, -0.5), "provenance": Provenance.KEYFRAME},
        {"box": (float("nan"), 0, 5, 5), "provenance": Provenance.KEYFRAME},
        {"box": (0, float("inf"), 5, 5), "provenance": Provenance.KEYFRAME},
        {"box": (0, 0, 5), "provenance": Provenance.KEYFRAME},
        {"box": ("a", 0, 5, 5), "provenance": Provenance.KEYFRAME},
        {"box": (True, 0, 5, 5), "provenance": Provenance.KEYFRAME},
        {"box": 5, "provenance": Provenance.KEYFRAME},
        {"box": (0, 0, 5, 5)},  # a value without provenance
        {"absent": True},
        {"provenance": Provenance.TRACKED},  # annotated but neither box nor absent
        {"box": (0, 0, 5, 5), "absent": True, "provenance": Provenance.KEYFRAME},
        {"box": (0, 0, 5, 5), "provenance": Provenance.TRACKED, "score": float("nan")},
        {"box": (0, 0, 5, 5), "provenance": Provenance.TRACKED, "engine": 3},
        {"absent": "yes", "provenance": Provenance.KEYFRAME},
        {"score": 0.5},
    ],
)
def test_frame_annotation_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FrameAnnotation(**kwargs)


def test_zero_size_box_is_accepted() -> None:
    assert FrameAnnotation((5, 5, 0, 0), provenance=Provenance.IMPORTED).box == Box(5, 5, 0, 0)


def test_video_defaults_and_validation() -> None:
    video = VideoAnnotation("v", 3)
    assert video.frame_count == len(video) == 3
    assert video.attributes == [0] * ATTRIBUTE_COUNT
    assert video.frames == (UNANNOTATED,) * 3
    assert video.frame_size is None and video.fps is None and video.language == ""
    with pytest.raises(ValueError):
        VideoAnnotation("v", 0)
    with pytest.raises(ValueError):
        VideoAnnotation("v", 2, frames=[UNANNOTATED])
    with pytest.raises(ValueError):
        VideoAnnotation("v", 2, frame_size=(0, 10))
    with pytest.raises(ValueError):
        VideoAnnotation("v", 2, fps=float("nan"))
    with pytest.raises(ValueError):
        VideoAnnotation("v", 2, language="two\nlines")


@pytest.mark.parametrize(
    ("index", "value"),
    [(0, 2), (3, -1), (10, 2), (12, 3), (16, 3), (5, 0.5), (1, "1")],
)
def test_attribute_values_out_of_range(index: int, value: object) -> None:
    values: list[object] = [0] * ATTRIBUTE_COUNT
    values[index] = value
    with pytest.raises(ValueError):
        VideoAnnotation("v", 2, attributes=values)


def test_attribute_ranges_accepted() -> None:
    values = [1] * ATTRIBUTE_COUNT
    values[12] = 2
    values[16] = 2
    assert VideoAnnotation("v", 2, attributes=values).attributes == values
    with pytest.raises(ValueError):
        VideoAnnotation("v", 2, attributes=[0] * 16)


def test_attributes_accessor_is_a_copy(video: VideoAnnotation) -> None:
    video.attributes[0] = 1
    assert video.attributes[0] == 0


def test_frame_index_out_of_range(video: VideoAnnotation) -> None:
    for bad in (-1, 10, 100):
        with pytest.raises(IndexError):
            video.frame(bad)
        with pytest.raises(IndexError):
            video.is_protected(bad)
        with pytest.raises(IndexError):
            video.next_keyframe(bad)


def test_arrays(video: VideoAnnotation) -> None:
    boxes = video.boxes_array()
    assert boxes.shape == (10, 4) and boxes.dtype == np.float64
    assert boxes[0].tolist() == [10, 20, 30, 40]
    assert np.isnan(boxes[2]).all() and np.isnan(boxes[3]).all()
    assert video.absent_array().tolist() == [i == 2 for i in range(10)]
    scores = video.scores_array()
    assert scores[1] == 0.75 and np.isnan(scores[0])


def test_provenance_queries(video: VideoAnnotation) -> None:
    assert video.keyframes() == [0, 6]
    assert video.frames_with(Provenance.TRACKED) == [1, 2]
    assert video.frames_with(None) == video.unannotated() == [3, 5, 8, 9]
    assert [video.is_protected(i) for i in range(10)] == [
        True, False, False, False, True, False, True, False, False, False,
    ]  # fmt: skip


def test_next_and_previous_keyframe(video: VideoAnnotation) -> None:
    assert video.next_keyframe(0) == 6
    assert video.next_keyframe(6) is None
    assert video.previous_keyframe(6) == 0
    assert video.previous_keyframe(0) is None
    assert video.next_keyframe(0, protected=True) == 4
    assert video.previous_keyframe(6, protected=True) == 4
    assert video.previous_keyframe(9) == 6


def test_export_arrays_refuse_holes(video: VideoAnnotation) -> None:
    with pytest.raises(ValueError, match="4 frame"):
        video.export_arrays()


def test_export_arrays_zero_absent_rows() -> None:
    frames = [keyframe(), absent(), tracked()]
    video = VideoAnnotation("v", 3, frames=frames, language="a red car")
    boxes, flags = video.export_arrays()
    assert boxes.tolist() == [[10, 20, 30, 40], [0, 0, 0, 0], [11, 21, 30.5, 39.5]]
    assert flags.tolist() == [False, True, False]
    sequence = video.to_sequence([Path(f"{i:06d}.jpg") for i in range(1, 4)], Path("/out"))
    assert sequence.layout == "vlsot500" and sequence.language == "a red car"
    assert sequence.boxes.tolist() == boxes.tolist()
    assert sequence.attributes == [0] * ATTRIBUTE_COUNT
    with pytest.raises(ValueError):
        video.to_sequence([Path("a.jpg")])


def test_from_sequence_marks_everything_imported() -> None:
    boxes = np.array([[1, 2, 3, 4], [9, 9, 9, 9], [np.nan] * 4, [5, 6, 7, 8]], dtype=float)
    attributes = [0] * ATTRIBUTE_COUNT
    attributes[16] = 1
    sequence = Sequence(
        name="car",
        root=Path("/data/car"),
        layout="lasot",
        frames=[Path(f"{i}.jpg") for i in range(4)],
        boxes=boxes,
        absent=np.array([False, True, False, False]),
        language="the car\n",
        attributes=attributes,
    )
    video = VideoAnnotation.from_sequence(sequence, frame_size=(640, 360), fps=30)
    assert video.name == "car" and video.source == str(Path("/data/car"))
    assert video.language == "the car" and video.attributes == attributes
    assert video.frame(0) == FrameAnnotation((1, 2, 3, 4), provenance=Provenance.IMPORTED)
    assert video.frame(1) == FrameAnnotation(absent=True, provenance=Provenance.IMPORTED)
    assert video.frame(2) == UNANNOTATED  # a non-finite box needs a person's look
    assert video.frame_size == (640, 360) and video.fps == 30.0


def test_from_sequence_rejects_negative_sizes() -> None:
    sequence = Sequence("s", Path("/s"), "otb", [Path("a"), Path("b")],
                        np.array([[0, 0, 1, 1], [0, 0, -2, 1]]), np.zeros(2))  # fmt: skip
    with pytest.raises(ValueError, match="frame 2:"):  # the second frame, counted from 1
        VideoAnnotation.from_sequence(sequence)


def test_equality_and_copy(video: VideoAnnotation) -> None:
    other = video.copy()
    assert other == video and other is not video
    other._replace_language("changed")
    assert other != video
    assert "bike" in repr(video)


def test_frame_counts_put_each_frame_in_one_bucket(video: VideoAnnotation) -> None:
    """Absent frames are counted as absent, not again under their provenance."""
    from costcore.annotation.summary import frame_counts

    counts = frame_counts(video.frames)
    assert counts.absent == 1  # frame 2: absent, tracked
    assert counts.by_kind == {"keyframe": 2, "tracked": 1, "verified": 1, "interpolated": 1,
                              None: 4}  # fmt: skip
    assert sum(counts.by_kind.values()) + counts.absent == counts.total == 10
    assert counts.describe() == (
        "2 keyframe · 1 verified · 1 tracked · 1 interpolated · 4 not annotated · 1 absent"
    )


def test_frame_counts_of_the_reported_case() -> None:
    """9 keyframes (2 of them absent), 148 tracked (5 absent): 157 frames, 7 absent."""
    from costcore.annotation.summary import frame_counts

    frames = [keyframe()] * 7 + [absent(Provenance.KEYFRAME)] * 2
    frames += [tracked()] * 143 + [absent(Provenance.TRACKED)] * 5
    counts = frame_counts(frames)
    assert counts.describe() == "7 keyframe · 143 tracked · 7 absent"
    assert counts.total == 157
