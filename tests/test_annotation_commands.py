"""Edit commands and the undo stack: every edit undoes to the exact previous state."""

from __future__ import annotations

import pytest

from costcore.annotation import (
    UNANNOTATED,
    Change,
    ClearFrames,
    Command,
    FrameAnnotation,
    Macro,
    MarkVerified,
    Provenance,
    SetAbsent,
    SetAttribute,
    SetAttributes,
    SetBox,
    SetFrames,
    SetLanguage,
    UndoStack,
    VideoAnnotation,
)
from costcore.boxes import Box

KEY = Provenance.KEYFRAME


def tracked(x: float, score: float = 0.5) -> FrameAnnotation:
    return FrameAnnotation((x, 1.5, 10.25, 12.0), provenance=Provenance.TRACKED,
                           score=score, engine="cost")  # fmt: skip


@pytest.fixture
def video() -> VideoAnnotation:
    frames = [UNANNOTATED] * 12
    frames[0] = FrameAnnotation((1, 2, 3, 4), provenance=KEY)
    frames[1] = tracked(2.0)
    frames[2] = FrameAnnotation(absent=True, provenance=Provenance.TRACKED)
    frames[3] = FrameAnnotation((7, 7, 7, 7), provenance=Provenance.VERIFIED, score=0.9)
    frames[5] = FrameAnnotation((5, 5, 5, 5), provenance=Provenance.INTERPOLATED)
    frames[8] = FrameAnnotation((8, 8, 8, 8), provenance=KEY)
    frames[9] = FrameAnnotation((9, 9, 9, 9), provenance=Provenance.IMPORTED)
    return VideoAnnotation("v", 12, language="a bird", frames=frames)


class Recorder:
    """A listener remembering every Change it heard."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __call__(self, change: Change) -> None:
        self.changes.append(change)


def every_edit() -> list[tuple[str, Command]]:
    return [
        ("set box", SetBox(4, Box(1.5, 2.25, 3.125, 4.0))),
        ("set box on absent", SetBox(2, (1, 1, 2, 2))),
        ("set tracked box", SetBox(6, (1, 1, 2, 2), Provenance.TRACKED, score=0.3, engine="x")),
        ("set frames", SetFrames([(i, tracked(float(i))) for i in range(12)])),
        ("set frames unprotected",
         SetFrames([(i, tracked(float(i))) for i in range(12)], respect_protected=False)),
        ("clear", ClearFrames(0)),
        ("clear range", ClearFrames(range(0, 12))),
        ("absent one", SetAbsent(1)),
        ("absent range", SetAbsent(range(0, 10))),
        ("present range", SetAbsent(range(0, 12), absent=False)),
        ("verify range", MarkVerified(range(12))),
        ("language", SetLanguage("a small red bird")),
        ("attribute", SetAttribute(12, 2)),
        ("attributes", SetAttributes([1, 0] * 8 + [2])),
        ("macro", Macro("Track and describe", [
            SetFrames([(i, tracked(3.0)) for i in range(4, 8)]),
            SetAbsent(range(10, 12)),
            SetLanguage("changed"),
            SetAttribute(0, 1),
        ])),
    ]  # fmt: skip


@pytest.mark.parametrize(("label", "command"), every_edit(), ids=[e[0] for e in every_edit()])
def test_every_edit_undoes_and_redoes_exactly(
    video: VideoAnnotation, label: str, command: Command
) -> None:
    stack = UndoStack(video)
    before = video.to_dict()
    stack.push(command)
    after = video.to_dict()
    assert after != before, label
    stack.undo()
    assert video.to_dict() == before
    stack.redo()
    assert video.to_dict() == after
    stack.undo()
    assert video.to_dict() == before


def test_set_box_defaults_to_keyframe_and_clears_absent(video: VideoAnnotation) -> None:
    UndoStack(video).push(SetBox(2, (1, 2, 3, 4)))
    assert video.frame(2) == FrameAnnotation((1, 2, 3, 4), provenance=KEY)
    assert not video.absent_array()[2]


def test_bulk_set_skips_protected_frames(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    protected = {i: video.frame(i) for i in range(12) if video.is_protected(i)}
    assert sorted(protected) == [0, 3, 8]
    command = SetFrames([(i, tracked(100.0 + i)) for i in range(12)])
    change = stack.push(command)
    assert command.skipped == (0, 3, 8)
    assert change.frames == frozenset(range(12)) - {0, 3, 8}
    for i in range(12):
        if i in protected:
            assert video.frame(i) == protected[i]
        else:
            assert video.frame(i) == tracked(100.0 + i)


def test_absent_drops_box_and_undo_restores_it(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    box = video.frame(1).box
    stack.push(SetAbsent(range(0, 3)))
    assert all(video.frame(i).box is None and video.frame(i).absent for i in range(3))
    assert video.frame(1).provenance is KEY
    stack.undo()
    assert video.frame(1).box == box and video.frame(1).provenance is Provenance.TRACKED


def test_mark_present_only_touches_absent_frames(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    change = stack.push(SetAbsent(range(12), absent=False))
    assert change.frames == {2}
    assert video.frame(2) == UNANNOTATED


def test_mark_verified_only_annotated_unprotected_frames(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    change = stack.push(MarkVerified(range(12)))
    assert change.frames == {1, 2, 5, 9}
    assert video.frame(1) == FrameAnnotation(
        (2.0, 1.5, 10.25, 12.0), provenance=Provenance.VERIFIED, score=0.5, engine="cost"
    )
    assert video.frame(2).absent and video.frame(2).provenance is Provenance.VERIFIED
    assert video.frame(0).provenance is KEY  # keyframes stay keyframes
    assert video.frame(4) == UNANNOTATED
    assert video.is_protected(1) and video.is_protected(2)


def test_failed_command_changes_nothing(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    before = video.to_dict()
    for command in (SetBox(12, (1, 1, 1, 1)), ClearFrames([3, 99]), SetAbsent([-1]),
                    SetFrames([(0, UNANNOTATED), (40, UNANNOTATED)], respect_protected=False),
                    MarkVerified([1, 12])):  # fmt: skip
        with pytest.raises(IndexError):
            stack.push(command)
    macro = Macro("bad", [SetLanguage("x"), SetBox(1, (1, 1, 1, 1)), SetBox(50, (1, 1, 1, 1))])
    with pytest.raises(IndexError):
        stack.push(macro)
    assert video.to_dict() == before
    assert stack.count == 0 and not stack.can_undo


def test_commands_validate_arguments_when_built() -> None:
    with pytest.raises(ValueError):
        SetBox(0, (0, 0, -1, 1))
    with pytest.raises(ValueError):
        SetBox(0, (0, 0, 1, 1), provenance=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SetAttribute(3, 2)
    with pytest.raises(IndexError):
        SetAttribute(17, 0)
    with pytest.raises(ValueError):
        SetAttributes([0] * 16)
    with pytest.raises(ValueError):
        SetLanguage("two\nlines")
    with pytest.raises(TypeError):
        SetFrames([(0, (1, 2, 3, 4))])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Macro("m", ["not a command"])  # type: ignore[list-item]


def test_undo_redo_labels_and_flags(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    assert not stack.can_undo and not stack.can_redo
    assert stack.undo_text == stack.redo_text == ""
    assert stack.undo() is None and stack.redo() is None
    stack.push(SetBox(4, (1, 1, 1, 1), text="Draw box"))
    stack.push(SetAttribute(0, 1))
    assert stack.undo_text == "Set CM" and stack.can_undo and not stack.can_redo
    stack.undo()
    assert stack.undo_text == "Draw box" and stack.redo_text == "Set CM"
    assert stack.can_redo and stack.index == 1 and stack.count == 2


def test_redo_after_several_undos(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    states = [video.to_dict()]
    for command in every_edit():
        stack.push(command[1])
        states.append(video.to_dict())
    for expected in reversed(states[:-1]):
        stack.undo()
        assert video.to_dict() == expected
    for expected in states[1:]:
        stack.redo()
        assert video.to_dict() == expected


def test_push_after_undo_drops_the_redo_branch(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    stack.push(SetLanguage("one"))
    stack.push(SetLanguage("two"))
    stack.undo()
    stack.push(SetLanguage("three"))
    assert stack.count == 2 and not stack.can_redo and stack.redo() is None
    stack.undo()
    assert video.language == "one"
    stack.redo()
    assert video.language == "three"


def test_history_is_bounded(video: VideoAnnotation) -> None:
    stack = UndoStack(video, limit=3)
    for i in range(5):
        stack.push(SetBox(4, (i, 0, 1, 1)))
    assert stack.count == 3 and stack.index == 3
    while stack.can_undo:
        stack.undo()
    assert video.frame(4).box == Box(1, 0, 1, 1)  # the two oldest steps are forgotten
    with pytest.raises(ValueError):
        UndoStack(video, limit=0)


def test_nudges_with_same_merge_key_merge(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    before = video.to_dict()
    for dx in range(5):
        stack.push(SetBox(4, (dx, 0, 3, 3), merge_key="nudge", text="Nudge box"))
    assert stack.count == 1 and video.frame(4).box == Box(4, 0, 3, 3)
    stack.undo()
    assert video.to_dict() == before
    stack.redo()
    assert video.frame(4).box == Box(4, 0, 3, 3)


def test_merge_needs_same_key_and_frame(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    stack.push(SetBox(4, (0, 0, 3, 3), merge_key="nudge"))
    stack.push(SetBox(6, (0, 0, 3, 3), merge_key="nudge"))  # other frame
    stack.push(SetBox(6, (1, 0, 3, 3), merge_key="resize"))  # other key
    stack.push(SetBox(6, (2, 0, 3, 3)))  # no key: never merges
    stack.push(SetBox(6, (3, 0, 3, 3)))
    assert stack.count == 5


def test_merge_never_crosses_the_saved_point(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    stack.push(SetBox(4, (0, 0, 3, 3), merge_key="nudge"))
    stack.mark_clean()
    stack.push(SetBox(4, (1, 0, 3, 3), merge_key="nudge"))
    assert stack.count == 2 and not stack.is_clean
    stack.undo()
    assert stack.is_clean and video.frame(4).box == Box(0, 0, 3, 3)


def test_clean_marker(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    assert stack.is_clean
    stack.push(SetLanguage("a"))
    assert not stack.is_clean
    stack.mark_clean()
    stack.push(SetLanguage("b"))
    stack.push(SetLanguage("c"))
    assert not stack.is_clean
    stack.undo()
    stack.undo()
    assert stack.is_clean  # back at the saved point
    stack.undo()
    assert not stack.is_clean
    stack.redo()
    assert stack.is_clean


def test_clean_point_lost_with_dropped_redo_branch(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    stack.push(SetLanguage("a"))
    stack.mark_clean()
    stack.undo()
    stack.push(SetLanguage("b"))  # the saved state is no longer reachable
    assert not stack.is_clean
    stack.undo()
    assert not stack.is_clean and video.language == "a bird"


def test_clean_point_lost_past_the_history_bound(video: VideoAnnotation) -> None:
    stack = UndoStack(video, limit=2)
    stack.mark_clean()
    for name in "abc":
        stack.push(SetLanguage(name))
    while stack.can_undo:
        stack.undo()
        assert not stack.is_clean


def test_listeners_hear_changed_frames(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    heard = stack.add_listener(Recorder())
    stack.push(SetBox(4, (1, 1, 1, 1)))
    stack.push(SetFrames([(i, tracked(50.0)) for i in (0, 5, 6, 8)]))
    stack.push(SetLanguage("a cat"))
    stack.push(SetLanguage("a cat"))  # no-op: still announced, nothing changed
    stack.undo()
    stack.undo()
    stack.redo()
    stack.push(Macro("m", [SetAbsent([10, 11]), SetAttribute(1, 1)]))
    stack.undo()
    assert heard.changes == [
        Change(frozenset({4})),
        Change(frozenset({5, 6})),
        Change(video=True),
        Change(),
        Change(),
        Change(video=True),
        Change(video=True),
        Change(frozenset({10, 11}), video=True),
        Change(frozenset({10, 11}), video=True),
    ]
    stack.remove_listener(heard)
    stack.push(SetLanguage("dog"))
    assert len(heard.changes) == 9


def test_macro_block_groups_pushes(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    heard = stack.add_listener(Recorder())
    before = video.to_dict()
    with stack.macro("Track forward"):
        for i in range(4, 8):
            stack.push(SetFrames([(i, tracked(float(i)))]))
        with stack.macro("inner"):
            stack.push(SetLanguage("x"))
        assert not stack.can_undo
        with pytest.raises(RuntimeError):
            stack.undo()
    assert len(heard.changes) == 5  # each push was announced as it happened
    assert stack.count == 1 and stack.undo_text == "Track forward"
    after = video.to_dict()
    stack.undo()
    assert video.to_dict() == before
    stack.redo()
    assert video.to_dict() == after


def test_macro_block_keeps_work_done_before_an_error(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    with pytest.raises(KeyboardInterrupt), stack.macro("Track"):
        stack.push(SetBox(4, (1, 1, 1, 1)))
        raise KeyboardInterrupt
    assert stack.count == 1 and video.frame(4).box == Box(1, 1, 1, 1)
    with stack.macro("nothing"):
        pass
    assert stack.count == 1


def test_clear_keeps_state_and_clean_flag(video: VideoAnnotation) -> None:
    stack = UndoStack(video)
    stack.push(SetLanguage("a"))
    stack.mark_clean()
    stack.clear()
    assert stack.count == 0 and stack.is_clean and video.language == "a"
