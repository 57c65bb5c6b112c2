"""Flags for what a person sees drift: a box frozen in size while the target grows out of it,
and a box that left the target. Synthetic cases with known answers, then the real drifting
CSRT run and good runs on the shared sequences (no Qt)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from costcore.annotation import FrameAnnotation, Provenance, SetFrames, UndoStack, VideoAnnotation
from costcore.assist.appearance import AppearanceProbe
from costcore.assist.flags import (
    DriftWatch,
    FlagReason,
    FlagRules,
    drift_rules,
    flag_frames,
)
from costcore.assist.jobs import EngineRunner, propagate
from costcore.assist.plan import plan_propagation
from costcore.assist.state import AssistState
from costcore.boxes import Box
from tests.assist_fakes import ScriptedEngine, frame_index

COUNT = 120
CENTRE = (100.0, 80.0)
SMALL, LARGE = (10.0, 9.0), (47.0, 38.0)  # the reported run: 10x9 frozen, target to 47x38


def target_box(index: int) -> Box:
    """The target grows linearly from 10x9 to 47x38 over frames 0..115, centred at CENTRE."""
    t = min(index, 115) / 115
    w = SMALL[0] + t * (LARGE[0] - SMALL[0])
    h = SMALL[1] + t * (LARGE[1] - SMALL[1])
    return Box(CENTRE[0] - w / 2, CENTRE[1] - h / 2, w, h)


class GrowingTarget:
    """Frames of a striped target on a smooth background; pixel [0, 0] encodes the index."""

    frame_count = COUNT

    def __init__(self, moving_box: bool = False) -> None:
        rng = np.random.default_rng(0)
        coarse = rng.uniform(60, 120, (9, 11)).astype(np.float32)
        import cv2

        self.background = cv2.resize(coarse, (200, 160), interpolation=cv2.INTER_CUBIC)

    def frame(self, index: int) -> np.ndarray:
        image = self.background.copy()
        box = target_box(index)
        ys, xs = np.mgrid[0:160, 0:200].astype(np.float32) + 0.5
        u = (xs - (box.x + box.w / 2)) / (box.w / 2)
        v = (ys - (box.y + box.h / 2)) / (box.h / 2)
        inside = (np.abs(u) <= 1) & (np.abs(v) <= 1)
        image[inside] = (128 + 100 * np.sin(3 * np.pi * u) * np.cos(2 * np.pi * v))[inside]
        rgb = np.repeat(np.clip(image, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
        rgb[0, 0, 0], rgb[0, 0, 1] = index % 256, index // 256
        return rgb


def run_and_flag(script, stop_at_flag: bool = False):
    """Track frames 1.. from a keyframe at 0 with a scripted engine; the flags afterwards."""
    frames = GrowingTarget()
    annotation = VideoAnnotation("grow", COUNT)
    stack = UndoStack(annotation)
    first = target_box(0)
    stack.push(SetFrames([(0, FrameAnnotation(first, provenance=Provenance.KEYFRAME))]))
    runner = EngineRunner(lambda: ScriptedEngine(script=script, frame_to_index=frame_index), frames)
    plan = plan_propagation(annotation, 0, extent="end")
    updates = list(propagate(runner, plan, first, stop_at_flag=stop_at_flag))
    stack.push(SetFrames([(u.index, u.annotation()) for u in updates]))
    state = AssistState(COUNT)
    state.record_all(updates)
    return annotation, flag_frames(annotation, state.diagnostics(annotation)), updates


def frozen(index: int, start: int, box: Box) -> Box:
    return box  # what a tracker that never rescales reports on a target that stays put


def follows(index: int, start: int, box: Box) -> Box:
    return target_box(index)


def test_the_probe_sees_the_same_target_at_any_scale_and_not_a_part_of_it() -> None:
    frames = GrowingTarget()
    probe = AppearanceProbe(frames.frame(0), target_box(0))
    assert probe.similarity(frames.frame(100), target_box(100)) > 0.6
    assert probe.similarity(frames.frame(100), target_box(0)) < 0.3
    assert probe.similarity(frames.frame(100), Box(150, 20, 10, 9)) < 0.3  # background
    assert probe.similarity(frames.frame(5), Box(-3, -3, 2, 2)) is None  # too small


def test_a_box_frozen_while_the_target_grows_is_flagged_before_it_is_lost() -> None:
    annotation, flags, _updates = run_and_flag(frozen)
    hits = [f for f in flags if FlagReason.FROZEN in f.reasons]
    assert hits, "the reported case: frozen 10x9 while the target grows to 47x38"
    first = hits[0].index
    assert 20 <= first <= 80  # after the frozen stretch is long enough, well before frame 115
    iou_there = _iou(annotation.frame(first).box, target_box(first))
    assert iou_there > 0.1  # raised while the box still overlaps the target
    # every frame after it stays flagged; the last one asks for a keyframe (open end)
    assert [f.index for f in hits] == list(range(first, COUNT - 1))
    assert flags[-1].index == COUNT - 1 and flags[-1].reasons == (FlagReason.OPEN_END,)
    assert all(f.severity >= FlagRules().review_min_severity for f in hits)


def test_a_box_that_grows_with_the_target_raises_nothing() -> None:
    _annotation, flags, updates = run_and_flag(follows)
    assert flags == []
    assert min(u.appearance for u in updates) > 0.5


def test_a_box_that_slides_off_the_target_is_unlike_the_keyframe() -> None:
    def slides(index: int, start: int, box: Box) -> Box:
        return target_box(index)._replace(x=target_box(index).x + 1.5 * index)

    _annotation, flags, _updates = run_and_flag(slides)
    unlike = [f.index for f in flags if FlagReason.UNLIKE in f.reasons]
    assert unlike and unlike[0] < 60


def test_stop_at_the_first_flag_stops_at_the_frozen_box() -> None:
    _annotation, flags, updates = run_and_flag(frozen, stop_at_flag=True)
    _all, every, _u = run_and_flag(frozen)
    first = next(f.index for f in every if FlagReason.FROZEN in f.reasons)
    assert updates[-1].index == first


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([(10.0, 9.0), (10.0, 9.0), (10.05, 9.0), (12.0, 9.0)]),
            st.one_of(st.none(), st.floats(-1.0, 1.0)),
            st.booleans(),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_the_step_by_step_watch_agrees_with_the_array_rules(steps) -> None:
    """Stop-at-first-flag (DriftWatch) and the flags after a run (drift_rules) are one rule.

    Frames where ``automatic`` is False play keyframes: a new run (and watch) starts there.
    """
    rules = FlagRules(frozen_frames=5, appearance_window=3, frozen_appearance=0.2)
    boxes = np.array([[0.0, 0.0, w, h] for (w, h), _a, _k in steps])
    looks = np.array([np.nan if a is None else a for _s, a, _k in steps])
    candidate = np.array([not keyframe for _s, _a, keyframe in steps])
    frozen_arr, unlike_arr, _ = drift_rules(boxes, looks, candidate, rules)
    watch = None
    for i, ((w, h), look, keyframe) in enumerate(steps):
        if keyframe:
            watch = None
            assert not frozen_arr[i] and not unlike_arr[i]
            continue
        watch = watch or DriftWatch(rules)
        reasons = watch.observe(Box(0.0, 0.0, w, h), look)
        assert (FlagReason.FROZEN in reasons) == bool(frozen_arr[i]), i
        assert (FlagReason.UNLIKE in reasons) == bool(unlike_arr[i]), i


def _iou(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    h = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


# ------------------------------------------------------------------------- real sequences
def _real(name: str):
    from costcore.formats import detect_layout, read_sequence
    from costcore.video import open_frame_source
    from tests.conftest import shared_sequence

    path = shared_sequence(name)
    sequence = read_sequence(path, detect_layout(path))
    return sequence, open_frame_source(sequence.frames, cache_bytes=0)


def _csrt_flags(name: str, stop: int):
    """CSRT from the ground truth of frame 1 up to ``stop``; its flags and boxes."""
    from costcore.engines import create_engine

    sequence, frames = _real(name)
    gt = np.asarray(sequence.boxes, dtype=float)
    annotation = VideoAnnotation(name, frames.frame_count)
    stack = UndoStack(annotation)
    stack.push(SetFrames([(0, FrameAnnotation(gt[0], provenance=Provenance.KEYFRAME))]))
    runner = EngineRunner(lambda: create_engine("csrt", device="cpu"), frames)
    plan = plan_propagation(annotation, 0, extent="count", count=stop - 1)
    updates = list(propagate(runner, plan, Box(*gt[0])))
    frames.close()
    stack.push(SetFrames([(u.index, u.annotation()) for u in updates]))
    state = AssistState(annotation.frame_count)
    state.record_all(updates)
    return flag_frames(annotation, state.diagnostics(annotation)), annotation, gt


def test_the_drifting_csrt_run_on_airplane_1_is_flagged(airplane_1) -> None:
    """CSRT keeps its box at 41x16 while the plane grows (73 px wide by frame 400, 103 px by
    frame 550): the box ends up on a piece of the fuselage, IoU below 0.3 from ~frame 440."""
    stop = 560
    flags, annotation, gt = _csrt_flags("airplane-1", stop)
    sizes = np.array([tuple(annotation.frame(i).box)[2:] for i in range(1, stop)])
    assert sizes[:, 0].max() <= 42 and set(sizes[:, 1]) == {16.0}  # the frozen box
    frozen = {f.index for f in flags if FlagReason.FROZEN in f.reasons}
    assert frozen, "nothing flagged the frozen box"
    ious = np.array([_iou(annotation.frame(i).box, gt[i]) for i in range(stop)])
    first, first_bad = min(frozen), int(np.argmax(ious < 0.3))
    assert 0 < first < first_bad, "flagged only after the box had lost the plane"
    assert ious[first] < 0.45  # ... and not while it still fitted the plane
    lost = [i for i in range(first_bad, stop - 1) if ious[i] < 0.27]
    caught = sum(i in frozen for i in lost)
    assert caught >= 0.8 * len(lost), f"{caught} of {len(lost)} frames with IoU < 0.27 flagged"
    assert not any(i in frozen for i in range(first) if ious[i] > 0.5)


def test_good_runs_raise_next_to_no_appearance_flags(
    crossing, skiing, truck4_1, airplane_1
) -> None:
    """The ground truth replayed as a tracker's boxes (keyframes every 100 frames), and a
    good CSRT run: the appearance rules must not flood runs that are right."""
    rules = FlagRules()
    flagged = total = 0
    for name in ("Crossing", "Skiing", "truck4_1", "airplane-1"):
        sequence, frames = _real(name)
        gt = np.asarray(sequence.boxes, dtype=float)
        absent = np.asarray(sequence.absent, dtype=bool)
        count = frames.frame_count
        looks = np.full(count, np.nan)
        candidate = np.zeros(count, dtype=bool)
        probe = None
        for i in range(count):
            present = not absent[i] and gt[i][2] >= 2 and gt[i][3] >= 2
            if i % 100 == 0 or probe is None:
                probe = AppearanceProbe(frames.frame(i), Box(*gt[i])) if present else None
                continue  # a keyframe: the anchor of the next run
            if present:
                candidate[i] = True
                looks[i] = (
                    np.nan if probe is None else probe.similarity(frames.frame(i), Box(*gt[i]))
                )
        frames.close()
        frozen, unlike, _likeness = drift_rules(gt, looks, candidate, rules)
        flagged += int(np.sum(frozen | unlike))
        total += int(candidate.sum())
    assert flagged / total < 0.01, f"{flagged} of {total} good frames flagged"
    flags, annotation, gt = _csrt_flags("Crossing", 120)
    assert min(_iou(annotation.frame(i).box, gt[i]) for i in range(120)) > 0.5
    drift = [f for f in flags if {FlagReason.FROZEN, FlagReason.UNLIKE} & set(f.reasons)]
    assert drift == []
